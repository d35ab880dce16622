package gossip

import (
	"log/slog"
	"testing"
	"time"
)

// TestConeRequestTimeoutsFollowProgress: a cone request is tied to its
// connection; a closed connection puts it back to be asked again (no
// transaction-by-transaction walk), a peer that is still streaming is not
// stalled however long the cone takes, and only a request that stalled
// maxConeTries times makes the cone be walked.
func TestConeRequestTimeoutsFollowProgress(t *testing.T) {
	t.Parallel()
	const stallAfter = 3 * time.Second
	now := time.Unix(1_000_000, 0)
	newConn := func() *conn { return &conn{p: &peer{fp: "sha256:test"}, done: make(chan struct{})} }
	cases := []struct {
		name      string
		tries     int
		asked     time.Duration // before now
		progress  time.Duration // before now; 0: never
		closed    bool
		hook      bool // closed through connClosed, not found by expire
		wantState int
		wantTries int
		wantStall int
	}{
		{"fresh request", 0, time.Second, 0, false, false, coneAsked, 0, 0},
		{"slow peer still streaming", 0, 60 * time.Second, time.Second, false, false, coneAsked, 0, 0},
		{"silent peer", 0, 10 * time.Second, 0, false, false, coneNone, 1, 1},
		{"peer went silent mid-stream", 1, 60 * time.Second, 4 * time.Second, false, false, coneNone, 2, 1},
		{"stalled too often", maxConeTries - 1, 10 * time.Second, 0, false, false, coneFailed, maxConeTries, 1},
		{"connection closed (found by expire)", 0, time.Second, 0, true, false, coneNone, 0, 0},
		{"connection closed long ago", 1, time.Minute, 0, true, false, coneNone, 1, 0},
		{"connection closed (hook)", 0, time.Second, 0, true, true, coneNone, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWalker(&Gossip{log: slog.New(slog.DiscardHandler), cfg: Config{Identity: &Identity{Fingerprint: "sha256:test"}}})
			c, other := newConn(), newConn()
			w.cones[7] = coneReq{state: coneAsked, conn: c, asked: now.Add(-tc.asked), tries: tc.tries}
			w.cones[8] = coneReq{state: coneAsked, conn: other, asked: now} // unaffected
			if tc.progress != 0 {
				c.progressed(now.Add(-tc.progress))
			}
			if tc.closed {
				close(c.done)
			}
			if tc.hook {
				w.connClosed(c)
				if r := w.cones[7]; r.state != coneNone {
					t.Fatalf("after connClosed: state %d, want %d", r.state, coneNone)
				}
			}
			if n := w.expire(now, stallAfter); n != tc.wantStall {
				t.Errorf("expire counted %d stalled, want %d", n, tc.wantStall)
			}
			if r := w.cones[7]; r.state != tc.wantState || r.tries != tc.wantTries {
				t.Errorf("cone: state %d tries %d, want state %d tries %d", r.state, r.tries, tc.wantState, tc.wantTries)
			}
			if r := w.cones[7]; r.state != coneAsked && r.conn != nil {
				t.Error("a released request still names its connection")
			}
			if r := w.cones[8]; r.state != coneAsked || r.conn != other {
				t.Errorf("another connection's request changed: %+v", r)
			}
		})
	}
}

// TestConeEndCountsOnlyFromTheAskedConnection: the end of a stream on a
// connection the request was since moved away from is ignored; an empty
// stream from the asked one fails the cone.
func TestConeEndCountsOnlyFromTheAskedConnection(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		from  int // 0: the old connection, 1: the asked one
		count uint32
		want  int
	}{
		{"end from the replaced connection", 0, 12, coneAsked},
		{"end from the asked connection", 1, 12, coneDone},
		{"empty end from the asked connection", 1, 0, coneFailed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWalker(&Gossip{log: slog.New(slog.DiscardHandler), cfg: Config{Identity: &Identity{Fingerprint: "sha256:test"}}})
			conns := []*conn{{done: make(chan struct{})}, {done: make(chan struct{})}}
			w.cones[3] = coneReq{state: coneAsked, conn: conns[1], asked: time.Now()}
			w.coneEnd(conns[tc.from], 3, tc.count)
			if got := w.coneState(3); got != tc.want {
				t.Errorf("state %d, want %d", got, tc.want)
			}
		})
	}
}
