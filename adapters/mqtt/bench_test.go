package mqtt

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/config"
	"github.com/tanglegate/gateway/internal/testkit"
)

// BenchmarkExtractJSON is the in-process reference: payload extraction only.
func BenchmarkExtractJSON(b *testing.B) {
	r, err := compile(config.MQTTTopic{Topic: "sensors/+/env", Device: "env_{1}", JSON: map[string]string{"t": "$.t", "h": "$.h"}})
	if err != nil {
		b.Fatal(err)
	}
	payload := []byte(`{"t": 21.5, "h": 40}`)
	n := 0
	for b.Loop() {
		caps, _ := match(r.filter, "sensors/7/env")
		rs, _ := r.extract("dev", "sensors/7/env", caps, payload, now)
		n += len(rs)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "values/s")
}

// BenchmarkIngestMosquitto measures values/s from a publisher through
// mosquitto (TLS, QoS 0) and the adapter to its output channel.
func BenchmarkIngestMosquitto(b *testing.B) {
	testkit.Integration(b)
	br := testkit.StartMosquitto(b)
	cfg := config.MQTT{
		Broker: br.URL, Username: br.User, PasswordFile: br.PassFile, CAFile: br.CAFile,
		Topics: []config.MQTTTopic{{Topic: "sensors/+/env", Device: "env_{1}", JSON: map[string]string{"t": "$.t", "h": "$.h"}}},
	}
	a, err := New("env", cfg, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan adapters.Reading, 4096)
	var wg sync.WaitGroup
	wg.Go(func() { adapters.Supervise(ctx, a, out, adapters.SuperviseOptions{}) })
	defer func() { cancel(); wg.Wait() }()
	pub := publisherB(b, br)
	// Wait until the adapter is subscribed.
	for ready := false; !ready; {
		pub.Publish("sensors/0/env", 0, false, `{"t":1,"h":2}`).Wait()
		select {
		case <-out:
			ready = true
		case <-time.After(100 * time.Millisecond):
		}
	}
	for len(out) > 0 {
		<-out
	}
	const batch = 1000
	values := 0
	for b.Loop() {
		for i := range batch {
			pub.Publish(fmt.Sprintf("sensors/%d/env", i%50), 0, false, `{"t": 21.5, "h": 40}`)
		}
		for got := 0; got < 2*batch*95/100; { // QoS 0 may drop a few under load
			select {
			case <-out:
				got++
				values++
			case <-time.After(2 * time.Second):
				got = 2 * batch // lost messages: stop waiting for this batch
			}
		}
	}
	b.ReportMetric(float64(values)/b.Elapsed().Seconds(), "values/s")
}
