package telemetry

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/mam"
	"github.com/tanglegate/gateway/mam/mamtest"
	"github.com/tanglegate/gateway/tangle/trinary"
)

const testSeed = "TESTSEED9TELEMETRY9999999999999999999999999999999999999999999999999999999999999"

func openDB(t testing.TB) (*bolt.DB, *mam.Store) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "gateway.db"), 0o600, &bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ch, err := mam.NewStore(db)
	if err != nil {
		t.Fatal(err)
	}
	return db, ch
}

// readBack follows the stream's channel on tg and decodes every message.
func readBack(t testing.TB, tg mam.Node, s *Stream) []*Message {
	t.Helper()
	side := ""
	if s.opt.Mode == mam.Restricted {
		side = trinary.Pad(s.opt.SideKey, trinary.HashTrytes)
	}
	rd := &mam.Reader{Node: tg, Mode: s.opt.Mode, SideKey: side, OnSkip: func(sk mam.Skipped) { t.Errorf("skipped %+v", sk) }}
	var out []*Message
	err := rd.Follow(context.Background(), &mam.Cursor{Root: s.Root()}, 0, func(f mam.Fetched) error {
		m, err := Decode(f.Message)
		if err != nil {
			return err
		}
		out = append(out, m)
		return nil
	})
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	return out
}

// checkSeq fails unless messages are numbered 1, 2, 3, ...
func checkSeq(t testing.TB, ms []*Message) {
	t.Helper()
	for i, m := range ms {
		if m.Seq != uint64(i+1) {
			t.Fatalf("message %d has seq %d", i, m.Seq)
		}
	}
}

// waitFor polls cond with (fake, under synctest) time until it holds.
func waitFor(t testing.TB, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func stats(t testing.TB, s *Stream) Stats {
	t.Helper()
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestStreamPublishesEveryReadingInOrder(t *testing.T) {
	t.Parallel()
	for _, mode := range []mam.Mode{mam.Public, mam.Private, mam.Restricted} {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				db, ch := openDB(t)
				tg := mamtest.New()
				opt := Options{Name: "line1", Gateway: "gw", Devices: []string{"pump1", "env"}, Mode: mode, MaxBytes: 700, MaxLatency: time.Second,
					IdentityOf: func(d string) string { return "ID9" + strings.ToUpper(d) }}
				if mode == mam.Restricted {
					opt.SideKey = "SIDEKEY"
				}
				s, err := New(db, ch, testSeed, tg, opt, nil)
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancel(t.Context())
				done := make(chan error, 1)
				go func() { done <- s.Run(ctx) }()
				start := time.Now()
				var sent []adapters.Reading
				for i := range 120 {
					r := adapters.Reading{Device: []string{"pump1", "env"}[i%2], Point: fmt.Sprintf("p%d", i%3), Unit: "°C",
						Value: adapters.Number(float64(i) / 7), Gateway: start.Add(time.Duration(i) * time.Millisecond)}
					if i%5 == 0 {
						r.Source = start.Add(time.Duration(i)*time.Millisecond - time.Microsecond)
					}
					if err := s.Offer(ctx, r); err != nil {
						t.Fatal(err)
					}
					sent = append(sent, r)
					time.Sleep(10 * time.Millisecond)
				}
				_ = s.Offer(ctx, adapters.Reading{Device: "other", Point: "x"}) // not in the stream: ignored
				// PublishedReadings counts a message once it is signed, before its
				// bundle is handed on: wait until every signed message is enqueued
				// too, or cancel aborts the last Enqueue (the next Run would re-send it).
				waitFor(t, "every reading published", time.Minute, func() bool {
					st := stats(t, s)
					return st.PublishedReadings == uint64(len(sent)) && st.Queued == 0 && st.Enqueued == st.Messages
				})
				cancel()
				if err := <-done; !errors.Is(err, context.Canceled) {
					t.Fatalf("Run: %v", err)
				}
				ms := readBack(t, tg, s)
				if len(ms) < 3 {
					t.Errorf("want several messages (max 700 bytes), got %d", len(ms))
				}
				checkSeq(t, ms)
				// Per point, the readings come back in order with equal values and times.
				want := map[string][]adapters.Reading{}
				for _, r := range sent {
					want[r.Device+"."+r.Point] = append(want[r.Device+"."+r.Point], r)
				}
				got := map[string][]adapters.Reading{}
				for _, m := range ms {
					enc, _ := m.Encode()
					if n := len(escapeLen(enc)); n > opt.MaxBytes {
						t.Errorf("message %d is %d bytes, max %d", m.Seq, n, opt.MaxBytes)
					}
					for _, d := range m.Devices {
						if d.ID != "ID9"+strings.ToUpper(d.Name) {
							t.Errorf("device %s has id %q", d.Name, d.ID)
						}
					}
					for _, r := range m.Readings() {
						got[r.Device+"."+r.Point] = append(got[r.Device+"."+r.Point], r)
					}
				}
				for k, ws := range want {
					gs := got[k]
					if len(gs) != len(ws) {
						t.Fatalf("%s: got %d readings, want %d", k, len(gs), len(ws))
					}
					for i := range ws {
						wt, _ := timeOf(ws[i])
						gt, _ := timeOf(gs[i])
						if gs[i].Value != ws[i].Value || !gt.Equal(wt) || gs[i].Unit != "°C" {
							t.Errorf("%s[%d]: got %v at %v, want %v at %v", k, i, gs[i].Value, gt, ws[i].Value, wt)
						}
					}
				}
				st := stats(t, s)
				if st.Accepted != uint64(len(sent)) || st.CoalescedReadings != 0 || st.Messages != uint64(len(ms)) {
					t.Errorf("stats %+v, want %d accepted in %d messages", st, len(sent), len(ms))
				}
			})
		})
	}
}

func TestOnChangeDeadbandAndEvery(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		db, ch := openDB(t)
		tg := mamtest.New()
		s, err := New(db, ch, testSeed, tg, Options{Name: "d", Gateway: "gw", Devices: []string{"a"}, Mode: mam.Public,
			OnChange: true, Deadband: 0.5, Every: 5 * time.Second, MaxLatency: time.Hour}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		vals := []float64{10, 10.2, 10.4, 10.6, 10.7, 9.9, 9.9}
		// Readings at 0.5s, 1.5s, ..., 6.5s: the tick at 5s closes the first
		// batch between the fifth and the sixth, never at the same instant as
		// a reading (whose order against the tick the runtime does not define).
		time.Sleep(500 * time.Millisecond)
		for _, v := range vals {
			s.Offer(ctx, adapters.Reading{Device: "a", Point: "x", Value: adapters.Number(v), Gateway: time.Now()})
			time.Sleep(time.Second)
		}
		waitFor(t, "published", time.Minute, func() bool {
			st := stats(t, s)
			return st.Accepted+st.Filtered == uint64(len(vals)) && st.Queued == 0 && st.Enqueued == st.Messages
		})
		cancel()
		<-done
		var got []float64
		for _, m := range readBack(t, tg, s) {
			for _, r := range m.Readings() {
				got = append(got, r.Value.Num)
			}
		}
		want := []float64{10, 10.6, 9.9}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("published %v, want %v (deadband 0.5 from the last published value)", got, want)
		}
		if st := stats(t, s); st.Filtered != 4 || st.Batches != 2 {
			t.Errorf("stats %+v: want 4 filtered, 2 batches (closed by every: 5s)", st)
		}
	})
}

func TestCoalescePolicies(t *testing.T) {
	t.Parallel()
	mk := func(vals ...float64) *Message {
		b := newBuilder("gw", "s")
		for i, v := range vals {
			r := adapters.Reading{Device: "a", Point: "x", Value: adapters.Number(v), Source: t0.Add(time.Duration(i) * time.Second)}
			c, s := b.cost(r, "")
			b.add(r, "", c, s)
		}
		return &b.msg
	}
	tests := []struct {
		policy  Policy
		value   float64
		atSec   int
		quality adapters.Quality
	}{
		{Last, 2, 4, adapters.Good},
		{Min, 1, 1, adapters.Good},
		{Max, 5, 3, adapters.Good},
		{Mean, 3, 4, adapters.Good}, // (3+1+4+5+2)/5
	}
	for _, tc := range tests {
		t.Run(tc.policy.String(), func(t *testing.T) {
			t.Parallel()
			dst := mk(3, 1)
			src := mk(9, 9, 9) // times 0..2 relative to its own T0, shifted below
			src.T0 = t0.Add(2 * time.Second)
			src.Devices[0].Points[0].Samples[0].Value = adapters.Number(4)
			src.Devices[0].Points[0].Samples[1].Value = adapters.Number(5)
			src.Devices[0].Points[0].Samples[2].Value = adapters.Number(2)
			coalesce(dst, src, tc.policy)
			s := dst.Devices[0].Points[0].Samples
			if len(s) != 1 {
				t.Fatalf("got %d samples", len(s))
			}
			if s[0].Value.Num != tc.value || s[0].N != 5 || time.Duration(s[0].DT) != time.Duration(tc.atSec)*time.Second || s[0].DTFirst != 0 {
				t.Errorf("got %+v, want value %v n 5 at %ds from 0", s[0], tc.value, tc.atSec)
			}
			if dst.Coalesced != 4 || dst.Count() != 5 {
				t.Errorf("coalesced %d count %d, want 4 and 5", dst.Coalesced, dst.Count())
			}
			// Coalescing an aggregate again keeps the count and weights the mean.
			coalesce(dst, mk(3), tc.policy)
			if dst.Count() != 6 || dst.Coalesced != 5 {
				t.Errorf("second coalesce: count %d coalesced %d", dst.Count(), dst.Coalesced)
			}
		})
	}
}

// slowQueue takes one bundle per period (throttled proof-of-work), then
// publishes it on the tangle.
type slowQueue struct {
	tg     *mamtest.Tangle
	period time.Duration
	mu     sync.Mutex
	fail   func() error // when set and non-nil, Enqueue fails with it
}

func (q *slowQueue) Enqueue(ctx context.Context, trytes []string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail != nil {
		if err := q.fail(); err != nil {
			return err
		}
	}
	select {
	case <-time.After(q.period):
	case <-ctx.Done():
		return ctx.Err()
	}
	return q.tg.Publish(ctx, trytes)
}

// TestBackPressureCoalescesInBoundedQueue is acceptance 2: proof-of-work
// throttled to one message per 2s while devices produce 1,000 readings/s for
// two (virtual) minutes (30 s under -race). The queue never exceeds max_queue, every accepted
// reading is in a published message (aggregates count theirs), the stream
// reads back whole and in order, and the counters add up.
func TestBackPressureCoalescesInBoundedQueue(t *testing.T) {
	t.Parallel()
	for _, policy := range []Policy{Last, Mean} {
		t.Run(policy.String(), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				db, ch := openDB(t)
				tg := mamtest.New()
				const maxQueue, rate, points = 8, 1000, 10
				seconds := 120
				if raceEnabled {
					seconds = 30 // the race detector makes bbolt and MAM signing ~10x slower
				}
				s, err := New(db, ch, testSeed, &slowQueue{tg: tg, period: 2 * time.Second},
					Options{Name: "bp", Gateway: "gw", Devices: []string{"a", "b"}, Mode: mam.Private, MaxQueue: maxQueue, MaxLatency: time.Second, Coalesce: policy}, nil)
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancel(t.Context())
				done := make(chan error, 1)
				go func() { done <- s.Run(ctx) }()
				last := map[string]float64{}
				var heap0 uint64
				maxQueued := 0
				for tick := range seconds * 10 { // 100 readings every 100ms
					for i := range rate / 10 {
						n := tick*rate/10 + i
						r := adapters.Reading{Device: []string{"a", "b"}[n%2], Point: fmt.Sprintf("p%d", n%points), Value: adapters.Number(float64(n)), Gateway: time.Now()}
						if err := s.Offer(ctx, r); err != nil {
							t.Fatal(err)
						}
						last[r.Device+"."+r.Point] = float64(n)
					}
					time.Sleep(100 * time.Millisecond)
					if tick%10 == 0 {
						maxQueued = max(maxQueued, stats(t, s).Queued)
					}
					if tick == seconds*10/4 {
						heap0 = heapInUse()
					}
				}
				heap1 := heapInUse()
				total := uint64(seconds * rate)
				waitFor(t, "the queue to drain", 10*time.Minute, func() bool {
					st := stats(t, s)
					return st.Accepted == total && st.Queued == 0 && st.Enqueued == st.Messages
				})
				cancel()
				if err := <-done; !errors.Is(err, context.Canceled) {
					t.Fatalf("Run: %v", err)
				}
				st := stats(t, s)
				t.Logf("stats %+v; heap in use %d KiB after 30s, %d KiB after 120s", st, heap0>>10, heap1>>10)
				if maxQueued > maxQueue {
					t.Errorf("queue held %d batches, max %d", maxQueued, maxQueue)
				}
				if heap1 > heap0+32<<20 {
					t.Errorf("heap grew from %d to %d bytes", heap0, heap1)
				}
				if st.CoalescedBatches == 0 || st.CoalescedReadings == 0 {
					t.Errorf("nothing was coalesced: %+v", st)
				}
				if st.Accepted != st.PublishedReadings+st.QueuedReadings || st.PublishedReadings != total {
					t.Errorf("accepted %d != published %d + queued %d (want %d)", st.Accepted, st.PublishedReadings, st.QueuedReadings, total)
				}
				ms := readBack(t, tg, s)
				checkSeq(t, ms)
				if uint64(len(ms)) != st.Messages || len(ms) > seconds/2+maxQueue+2 {
					t.Errorf("read %d messages, stats say %d (PoW allows about %d)", len(ms), st.Messages, seconds/2)
				}
				var count, co uint64
				lastTime := map[string]time.Time{}
				got := map[string]float64{}
				for _, m := range ms {
					count += m.Count()
					co += m.Coalesced
					for _, r := range m.Readings() {
						k := r.Device + "." + r.Point
						if r.Gateway.Before(lastTime[k]) {
							t.Errorf("%s: time went back in message %d", k, m.Seq)
						}
						lastTime[k], got[k] = r.Gateway, r.Value.Num
					}
				}
				if count != total || co != st.CoalescedReadings || co != st.PublishedCoalesced {
					t.Errorf("messages stand for %d readings (%d coalesced); stats %+v", count, co, st)
				}
				if policy == Last {
					for k, v := range last {
						if got[k] != v {
							t.Errorf("%s: last published %v, last produced %v", k, got[k], v)
						}
					}
				}
			})
		})
	}
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// TestCrashBetweenSigningAndEnqueueResendsSameMessage kills the stream at
// the two points between committing a key index and handing the bundle on:
// the next Run re-sends exactly that message, so the chain has no hole.
func TestCrashBetweenSigningAndEnqueueResendsSameMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		crash func(t *testing.T, s *Stream, q *slowQueue) // leaves a signed, unsent message
	}{
		{"after the batch left the queue", func(t *testing.T, s *Stream, q *slowQueue) {
			ctx, cancel := context.WithCancel(t.Context())
			q.fail = func() error { cancel(); return errors.New("power loss") }
			s.Offer(ctx, adapters.Reading{Device: "a", Point: "x", Value: adapters.Number(2), Gateway: t0.Add(time.Second)})
			if err := s.Run(ctx); !errors.Is(err, context.Canceled) {
				t.Fatalf("Run: %v", err)
			}
		}},
		{"before the batch left the queue", func(t *testing.T, s *Stream, q *slowQueue) {
			b := newBuilder("gw", "c")
			r := adapters.Reading{Device: "a", Point: "x", Value: adapters.Number(2), Gateway: t0.Add(time.Second)}
			c, smp := b.cost(r, "")
			b.add(r, "", c, smp)
			if _, err := s.q.push(&b.msg, 8, Last); err != nil {
				t.Fatal(err)
			}
			m, _, _ := s.q.head()
			payload, _ := m.Trytes()
			if _, err := s.channels.Next(s.channel, payload); err != nil { // signed, then the power went
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				db, ch := openDB(t)
				tg := mamtest.New()
				q := &slowQueue{tg: tg, period: time.Millisecond}
				opt := Options{Name: "c", Gateway: "gw", Devices: []string{"a"}, Mode: mam.Public, MaxLatency: time.Second, RetryMin: time.Hour}
				s, err := New(db, ch, testSeed, q, opt, nil)
				if err != nil {
					t.Fatal(err)
				}
				// One message goes out normally first.
				ctx, cancel := context.WithCancel(t.Context())
				done := make(chan error, 1)
				go func() { done <- s.Run(ctx) }()
				s.Offer(ctx, adapters.Reading{Device: "a", Point: "x", Value: adapters.Number(1), Gateway: t0})
				waitFor(t, "first message", time.Minute, func() bool { return stats(t, s).Enqueued == 1 })
				cancel()
				<-done

				tc.crash(t, s, q)
				q.fail = nil
				s2, err := New(db, ch, testSeed, q, opt, nil)
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel = context.WithCancel(t.Context())
				go func() { done <- s2.Run(ctx) }()
				s2.Offer(ctx, adapters.Reading{Device: "a", Point: "x", Value: adapters.Number(3), Gateway: t0.Add(2 * time.Second)})
				waitFor(t, "third message", time.Minute, func() bool { return stats(t, s2).Enqueued == 3 })
				cancel()
				<-done
				ms := readBack(t, tg, s2)
				checkSeq(t, ms)
				var vals []float64
				for _, m := range ms {
					for _, r := range m.Readings() {
						vals = append(vals, r.Value.Num)
					}
				}
				if fmt.Sprint(vals) != "[1 2 3]" {
					t.Errorf("read back %v, want [1 2 3]", vals)
				}
				if st := stats(t, s2); st.Accepted != 3 || st.PublishedReadings != 3 || st.Messages != 3 {
					t.Errorf("stats %+v", st)
				}
			})
		})
	}
}

func TestNewRefusesModeChangeOfExistingStream(t *testing.T) {
	t.Parallel()
	db, ch := openDB(t)
	if _, err := New(db, ch, testSeed, mamtest.New(), Options{Name: "m", Gateway: "gw", Devices: []string{"a"}, Mode: mam.Public}, nil); err != nil {
		t.Fatal(err)
	}
	_, err := New(db, ch, testSeed, mamtest.New(), Options{Name: "m", Gateway: "gw", Devices: []string{"a"}, Mode: mam.Restricted, SideKey: "K"}, nil)
	if err == nil || !strings.Contains(err.Error(), "new name") {
		t.Errorf("New with another mode: %v, want a refusal", err)
	}
	infos, err := Streams(db)
	if err != nil || len(infos) != 1 || infos[0].Mode != "public" || len(infos[0].Root) != 81 {
		t.Errorf("Streams: %+v, %v", infos, err)
	}
}
