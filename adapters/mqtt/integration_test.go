package mqtt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/config"
	"github.com/tanglegate/gateway/internal/testkit"
)

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// publisher connects a plain paho client to the test broker.
func publisher(t *testing.T, b *testkit.Mosquitto) paho.Client { return publisherB(t, b) }

func publisherB(t testing.TB, b *testkit.Mosquitto) paho.Client {
	t.Helper()
	a, err := New("pub", config.MQTT{Broker: b.URL, CAFile: b.CAFile, Topics: []config.MQTTTopic{{Topic: "x", Value: "plain"}}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	a.cfg.Username, a.cfg.PasswordFile, a.cfg.ClientID = b.User, b.PassFile, fmt.Sprintf("pub-%d", time.Now().UnixNano())
	o, err := a.options(make(chan error, 1))
	if err != nil {
		t.Fatal(err)
	}
	o.SetAutoReconnect(true).SetMaxReconnectInterval(200 * time.Millisecond).SetConnectRetry(true).SetConnectRetryInterval(200 * time.Millisecond)
	c := paho.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publisher connect: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

func publish(t *testing.T, c paho.Client, topic, payload string) {
	t.Helper()
	if tok := c.Publish(topic, 1, false, payload); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Logf("publish %s: %v", topic, tok.Error()) // the broker may be restarting
	}
}

func TestIntegrationMosquitto(t *testing.T) {
	testkit.Integration(t)
	b := testkit.StartMosquitto(t)
	cfg := config.MQTT{
		Broker: b.URL, Username: b.User, PasswordFile: b.PassFile, CAFile: b.CAFile, QoS: 1,
		Topics: []config.MQTTTopic{
			{Topic: "sensors/+/env", Device: "env_{1}", JSON: map[string]string{"temperature": "$.t", "humidity": "$.h"}},
			{Topic: "plant/+/level", Device: "tank_{1}", Value: "plain", Point: "level", Unit: "m"},
			{Topic: "legacy/#", Device: "legacy", KV: map[string]string{"flow": "F"}},
		},
	}
	a, err := New("env", cfg, adapters.NewHealth(), slog.New(slog.NewTextHandler(testWriter{t}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	out := make(chan adapters.Reading, 1024)
	var mu sync.Mutex
	var got []adapters.Reading
	var wg sync.WaitGroup
	wg.Go(func() {
		adapters.Supervise(ctx, a, out, adapters.SuperviseOptions{Device: "env", Log: slog.New(slog.NewTextHandler(testWriter{t}, nil))})
	})
	wg.Go(func() {
		for {
			select {
			case r := <-out:
				mu.Lock()
				got = append(got, r)
				mu.Unlock()
			case <-ctx.Done():
				return
			}
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	pub := publisher(t, b)

	// waitFor publishes (subscriptions may not be in place yet) until a matching reading arrives.
	waitFor := func(within time.Duration, topic, payload string, ok func(adapters.Reading) bool) {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			publish(t, pub, topic, payload)
			mu.Lock()
			found := slices.ContainsFunc(got, ok)
			mu.Unlock()
			if found {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("no reading for %s %q within %s", topic, payload, within)
			}
			time.Sleep(100 * time.Millisecond) // polling with a deadline
		}
	}
	waitFor(10*time.Second, "sensors/4/env", `{"t": 21.5, "h": 40}`, func(r adapters.Reading) bool {
		return r.Device == "env_4" && r.Point == "temperature" && r.Value == adapters.Number(21.5)
	})
	waitFor(5*time.Second, "plant/2/level", "3.75", func(r adapters.Reading) bool {
		return r.Device == "tank_2" && r.Point == "level" && r.Value == adapters.Number(3.75) && r.Unit == "m"
	})
	waitFor(5*time.Second, "legacy/a/b", "F=12 X=1", func(r adapters.Reading) bool {
		return r.Device == "legacy" && r.Point == "flow" && r.Value == adapters.Number(12)
	})
	before := a.Malformed()
	waitFor(5*time.Second, "plant/9/level", "not-a-number", func(adapters.Reading) bool { return a.Malformed() > before })
	waitFor(5*time.Second, "plant/8/level", "8", func(r adapters.Reading) bool { return r.Device == "tank_8" }) // still alive

	b.Stop()
	b.Start()
	restarted := time.Now()
	waitFor(5*time.Second, "sensors/5/env", `{"t": 5, "h": 1}`, func(r adapters.Reading) bool {
		return r.Device == "env_5" && r.Gateway.After(restarted)
	})
	t.Logf("flowing again %s after the broker restart", time.Since(restarted).Round(time.Millisecond))
}

func TestIntegrationMosquittoWrongPassword(t *testing.T) {
	testkit.Integration(t)
	b := testkit.StartMosquitto(t)
	cfg := config.MQTT{
		Broker: b.URL, Username: b.User, PasswordFile: b.PassFile + ".wrong", CAFile: b.CAFile,
		Topics: []config.MQTTTopic{{Topic: "x", Value: "plain"}},
	}
	cfg.PasswordFile = writeTemp(t, "wrong-password")
	a, err := New("env", cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = a.Run(t.Context(), make(chan adapters.Reading, 1))
	if !errors.Is(err, ErrBadCredentials) || !strings.Contains(err.Error(), `user "gateway"`) {
		t.Fatalf("Run = %v, want ErrBadCredentials naming the user", err)
	}
}
