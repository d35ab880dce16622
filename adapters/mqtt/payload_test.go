package mqtt

import (
	"strings"
	"testing"
	"time"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/config"
)

var now = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func TestMatchCapturesWildcards(t *testing.T) {
	t.Parallel()
	tests := []struct {
		filter, topic string
		want          []string
		ok            bool
	}{
		{"sensors/+/env", "sensors/7/env", []string{"7"}, true},
		{"sensors/+/env", "sensors/7/env/x", nil, false},
		{"sensors/+/env", "sensors/7", nil, false},
		{"plant/#", "plant/a/b/c", []string{"a/b/c"}, true},
		{"plant/#", "plant", []string{""}, true},
		{"+/+", "a/b", []string{"a", "b"}, true},
		{"a/b", "a/b", nil, true},
		{"a/b", "a/c", nil, false},
	}
	for _, tc := range tests {
		got, ok := match(strings.Split(tc.filter, "/"), tc.topic)
		if ok != tc.ok || ok && strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("match(%q, %q) = %q, %v; want %q, %v", tc.filter, tc.topic, got, ok, tc.want, tc.ok)
		}
	}
}

func TestExtractReadsEveryFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		topic   config.MQTTTopic
		msg     string
		payload string
		want    []adapters.Reading // Device, Point, Value, Unit compared
		wantErr string
	}{
		{"json paths with a device template",
			config.MQTTTopic{Topic: "sensors/+/env", Device: "env_{1}", JSON: map[string]string{"temperature": "$.t", "humidity": "$.env.h[1]"}, Units: map[string]string{"temperature": "°C"}},
			"sensors/7/env", `{"t": 21.5, "env": {"h": [0, "40"]}}`,
			[]adapters.Reading{{Device: "env_7", Point: "humidity", Value: adapters.Number(40)}, {Device: "env_7", Point: "temperature", Value: adapters.Number(21.5), Unit: "°C"}}, ""},
		{"json missing key keeps the others",
			config.MQTTTopic{Topic: "s/+", JSON: map[string]string{"a": "$.a", "b": "$.b"}},
			"s/x", `{"a": true}`,
			[]adapters.Reading{{Device: "dev", Point: "a", Value: adapters.Bool(true)}}, `point b: JSON path: key "b" missing`},
		{"json that is not json",
			config.MQTTTopic{Topic: "s/+", JSON: map[string]string{"a": "$.a"}}, "s/x", `{"a":`, nil, "not JSON"},
		{"plain number names the point after the topic",
			config.MQTTTopic{Topic: "plant/+/level", Device: "tank_{1}", Value: "plain", Point: "level", Unit: "m"},
			"plant/3/level", " 2.25\n", []adapters.Reading{{Device: "tank_3", Point: "level", Value: adapters.Number(2.25), Unit: "m"}}, ""},
		{"plain defaults to the last level",
			config.MQTTTopic{Topic: "plant/#", Value: "plain"}, "plant/pump/on", "ON", []adapters.Reading{{Device: "dev", Point: "on", Value: adapters.Bool(true)}}, ""},
		{"plain garbage",
			config.MQTTTopic{Topic: "plant/#", Value: "plain"}, "plant/x", "hello", nil, "not a number"},
		{"key=value with mixed separators",
			config.MQTTTopic{Topic: "legacy/+", Device: "{1}", KV: map[string]string{"flow": "F", "pressure": "P"}},
			"legacy/m1", "F=12.5, P=3;X=1", []adapters.Reading{{Device: "m1", Point: "flow", Value: adapters.Number(12.5)}, {Device: "m1", Point: "pressure", Value: adapters.Number(3)}}, ""},
		{"a topic level that makes no identifier is malformed",
			config.MQTTTopic{Topic: "sensors/+/env", Device: "env_{1}", JSON: map[string]string{"t": "$.t"}},
			"sensors/hall-3/env", `{"t": 1}`, nil, `topic sensors/hall-3/env does not give a usable device name: device: "env_hall-3" may contain only letters`},
		{"a last level that makes no point name is malformed",
			config.MQTTTopic{Topic: "plant/#", Value: "plain"}, "plant/pump/2", "1", nil, `does not give a usable point name: point: "2" must start with a letter`},
		{"key=value without =",
			config.MQTTTopic{Topic: "legacy/+", KV: map[string]string{"flow": "F"}}, "legacy/m1", "F12", nil, "not key=value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := compile(tc.topic)
			if err != nil {
				t.Fatal(err)
			}
			caps, ok := match(r.filter, tc.msg)
			if !ok {
				t.Fatalf("%q does not match %q", tc.msg, tc.topic.Topic)
			}
			got, err := r.extract("dev", tc.msg, caps, []byte(tc.payload), now)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d readings %+v, want %d", len(got), got, len(tc.want))
			}
			for i, w := range tc.want {
				g := got[i]
				if g.Device != w.Device || g.Point != w.Point || g.Value != w.Value || g.Unit != w.Unit || g.Quality != adapters.Good || !g.Gateway.Equal(now) {
					t.Errorf("reading %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

// FuzzExtract feeds arbitrary topics and payloads to every payload format:
// bad input must give an error, never a panic or a reading without a name.
func FuzzExtract(f *testing.F) {
	f.Add("sensors/7/env", []byte(`{"t": 21.5, "env": {"h": [0, "40"]}}`))
	f.Add("sensors/7/env", []byte("F=12.5, P=3;X=1"))
	f.Add("sensors/7/env", []byte(" 2.25\n"))
	f.Add("sensors//env", []byte(`[1,{"t":null}]`))
	f.Add("sensors/x/env", []byte("t=\x00&&=;"))
	var routes []*route
	for _, t := range []config.MQTTTopic{
		{Topic: "sensors/+/env", Device: "env_{1}", JSON: map[string]string{"t": "$.t", "h": "$.env.h[1]", "q": "$['a b'][0]"}},
		{Topic: "sensors/#", Value: "plain", Point: "{1}"},
		{Topic: "+/+/+", Device: "{2}", KV: map[string]string{"t": "t", "F": "F"}},
	} {
		r, err := compile(t)
		if err != nil {
			f.Fatal(err)
		}
		routes = append(routes, r)
	}
	f.Fuzz(func(t *testing.T, topic string, payload []byte) {
		for _, r := range routes {
			caps, ok := match(r.filter, topic)
			if !ok {
				continue
			}
			rs, _ := r.extract("dev", topic, caps, payload, now)
			for _, x := range rs {
				if x.Point == "" && r.format != formatPlain {
					t.Fatalf("reading without a point name from %q", payload)
				}
			}
		}
	})
}
