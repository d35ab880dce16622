package mam_test

import (
	"fmt"
	"testing"

	"github.com/tanglegate/gateway/internal/testkit"
	"github.com/tanglegate/gateway/mam"
	"github.com/tanglegate/gateway/tangle/trinary"
)

func benchChannel(b *testing.B, security int) (mam.Channel, []string) {
	c, err := mam.NewChannel(testSeed, mam.Public, "", security)
	if err != nil {
		b.Fatal(err)
	}
	var msgs []string
	for _, s := range []string{"wake helper-7", `{"dev":"press-3","temp":81.5,"state":"overheat"}`} {
		t, _ := trinary.ASCIIToTrytes(s)
		msgs = append(msgs, t)
	}
	return c, msgs
}

// BenchmarkVsMamJS measures CreateMessage and ParseMessage on the same
// messages as @iota/mam.js (run once per benchmark through testdata/mamjs),
// reporting Go ops/s, mam.js ops/s and the ratio.
func BenchmarkVsMamJS(b *testing.B) {
	for _, security := range []int{1, 2} {
		c, msgs := benchChannel(b, security)
		var parseIn []jsParseIn
		var payloads []mam.Message
		ch := c
		for _, m := range msgs {
			msg, next, err := ch.Next(m)
			if err != nil {
				b.Fatal(err)
			}
			payloads = append(payloads, msg)
			parseIn = append(parseIn, jsParseIn{Payload: msg.Payload, Root: msg.Root})
			ch = next
		}
		var js struct {
			Create float64 `json:"create_ops_per_s"`
			Parse  float64 `json:"parse_ops_per_s"`
		}
		measured := false
		mamjs := func(b *testing.B) {
			if !measured {
				testkit.MamJS(b, map[string]any{
					"channel":  jsChannel{Seed: testSeed, Mode: "public", Security: security, Count: 1, NextCount: 1},
					"messages": msgs, "parse": parseIn, "seconds": 3,
				}, &js, "mam.js", "bench")
				measured = true
			}
		}
		b.Run(fmt.Sprintf("create/sec%d", security), func(b *testing.B) {
			mamjs(b)
			n := 0
			for b.Loop() {
				ch := c
				for _, m := range msgs {
					var err error
					if _, ch, err = ch.Next(m); err != nil {
						b.Fatal(err)
					}
					n++
				}
			}
			ops := float64(n) / b.Elapsed().Seconds()
			b.ReportMetric(ops, "go_msgs/s")
			b.ReportMetric(js.Create, "mamjs_msgs/s")
			b.ReportMetric(ops/js.Create, "x_mamjs")
		})
		b.Run(fmt.Sprintf("parse/sec%d", security), func(b *testing.B) {
			mamjs(b)
			n := 0
			for b.Loop() {
				for _, p := range payloads {
					if _, err := mam.ParseMessage(p.Payload, p.Root, ""); err != nil {
						b.Fatal(err)
					}
					n++
				}
			}
			ops := float64(n) / b.Elapsed().Seconds()
			b.ReportMetric(ops, "go_msgs/s")
			b.ReportMetric(js.Parse, "mamjs_msgs/s")
			b.ReportMetric(ops/js.Parse, "x_mamjs")
		})
	}
}

// BenchmarkChannelCreate measures building a channel's first tree (its
// root) for tree depth 2..6 (4..64 leaves), security 1.
func BenchmarkChannelCreate(b *testing.B) {
	for depth := 2; depth <= 6; depth++ {
		b.Run(fmt.Sprintf("depth%d", depth), func(b *testing.B) {
			c, _ := benchChannel(b, 1)
			c, err := c.WithTreeSize(1 << depth)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := c.Root(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
