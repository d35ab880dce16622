package gossip_test

import (
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/tanglegate/gateway/tangle/gossip"
	"github.com/tanglegate/gateway/tangle/gossip/gossiptest"
	"github.com/tanglegate/gateway/tangle/store"
)

const testMWM = 2

func mesh(t *testing.T, n int) []*gossiptest.Running {
	t.Helper()
	peers := make([]*gossiptest.Peer, n)
	for i := range peers {
		peers[i] = gossiptest.NewPeer(t)
	}
	out := make([]*gossiptest.Running, n)
	for i, p := range peers {
		out[i] = gossiptest.Start(t, p, gossiptest.Options{MWM: testMWM, Peers: peers})
	}
	for _, r := range out {
		gossiptest.WaitFor(t, 10*time.Second, "peers connected", func() bool { return len(r.Gossip.Connected()) == n-1 })
	}
	return out
}

func TestTransactionsReachEveryPeer(t *testing.T) {
	t.Parallel()
	nodes := mesh(t, 3)
	var hs []store.Hash
	for i := range 30 {
		h, err := gossiptest.Send(t.Context(), nodes[i%3].Node, "GOSSIP")
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
	}
	for i, r := range nodes {
		gossiptest.WaitFor(t, 20*time.Second, "all transactions on every node", func() bool { return gossiptest.HasAll(r.Store, hs) })
		nb := r.Gossip.Neighbors()
		if len(nb) != 2 {
			t.Errorf("node %d: %d neighbors, want 2", i, len(nb))
		}
	}
}

func TestPeerWithWrongFingerprintIsRefused(t *testing.T) {
	t.Parallel()
	a, b, stranger := gossiptest.NewPeer(t), gossiptest.NewPeer(t), gossiptest.NewPeer(t)
	ra := gossiptest.Start(t, a, gossiptest.Options{MWM: testMWM, Peers: []*gossiptest.Peer{a, b}})
	// b pins a correctly; the stranger claims to be b's peer but a has not pinned it,
	// and b is pinned on a with the stranger's address (wrong key at that address).
	rb := gossiptest.Start(t, b, gossiptest.Options{MWM: testMWM, Peers: []*gossiptest.Peer{a}})
	rs := gossiptest.Start(t, stranger, gossiptest.Options{MWM: testMWM, Peers: []*gossiptest.Peer{a}})
	gossiptest.WaitFor(t, 10*time.Second, "a and b connected", func() bool { return len(ra.Gossip.Connected()) == 1 && len(rb.Gossip.Connected()) == 1 })
	// A direct TLS client with an unpinned key gets no session.
	c, err := tls.Dial("tcp", a.Addr, &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{stranger.ID.Cert}, NextProtos: []string{gossip.ALPN}, MinVersion: tls.VersionTLS13})
	if err == nil {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = c.Read(make([]byte, 1))
		c.Close()
	}
	if err == nil {
		t.Fatal("a stranger's key got a session")
	}
	// Dialling a pinned address that presents another key fails too.
	if err := ra.Gossip.AddPeer(stranger.Addr, b.ID.Fingerprint); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if got := rs.Gossip.Connected(); len(got) != 0 {
			t.Fatalf("stranger connected to %v", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := ra.Gossip.Connected(); len(got) != 1 || got[0] != b.ID.Fingerprint {
		t.Fatalf("a connected to %v, want only b", got)
	}
}

func TestNeighborsCanBeAddedAndRemovedAtRunTime(t *testing.T) {
	t.Parallel()
	a, b := gossiptest.NewPeer(t), gossiptest.NewPeer(t)
	ra := gossiptest.Start(t, a, gossiptest.Options{MWM: testMWM})
	rb := gossiptest.Start(t, b, gossiptest.Options{MWM: testMWM, Peers: []*gossiptest.Peer{a}})
	if _, err := ra.Gossip.AddNeighbors([]string{"tcp://" + b.Addr}, nil); err == nil {
		t.Fatal("addNeighbors without a fingerprint was accepted")
	}
	n, err := ra.Gossip.AddNeighbors([]string{"tcp://" + b.Addr}, map[string]string{"tcp://" + b.Addr: b.ID.Fingerprint})
	if err != nil || n != 1 {
		t.Fatalf("addNeighbors = %d, %v", n, err)
	}
	gossiptest.WaitFor(t, 10*time.Second, "connected", func() bool { return len(ra.Gossip.Connected()) == 1 })
	h, err := gossiptest.Send(t.Context(), ra.Node, "RUNTIME")
	if err != nil {
		t.Fatal(err)
	}
	gossiptest.WaitFor(t, 10*time.Second, "tx on b", func() bool { return gossiptest.HasAll(rb.Store, []store.Hash{h}) })
	if n, err := ra.Gossip.RemoveNeighbors([]string{"tcp://" + b.Addr}); err != nil || n != 1 {
		t.Fatalf("removeNeighbors = %d, %v", n, err)
	}
	gossiptest.WaitFor(t, 10*time.Second, "disconnected", func() bool { return len(ra.Gossip.Connected()) == 0 })
}

// rawPeer completes TLS and the handshake as a pinned peer and returns the
// connection for writing arbitrary bytes.
func rawPeer(t *testing.T, id *gossip.Identity, addr string) *tls.Conn {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{id.Cert}, NextProtos: []string{gossip.ALPN}, MinVersion: tls.VersionTLS13})
	if err != nil {
		t.Fatal(err)
	}
	hs := make([]byte, 61)
	hs[59] = testMWM
	hs[60] = 2
	if _, err := c.Write(gossip.AppendFrame(nil, gossip.TypeHandshake, hs)); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMalformedFramesDropOnlyTheSender(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		bytes []byte
	}{
		{"garbage", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")},
		{"truncated transaction", gossip.AppendFrame(nil, gossip.TypeTransaction, make([]byte, 100))},
		{"oversized frame", []byte{gossip.TypeTransaction, 0xff, 0xff}},
		{"legacy type 2", gossip.AppendFrame(nil, 2, make([]byte, 400))},
		{"t5b1 out of range", gossip.AppendFrame(nil, gossip.TypeTxRequest, append(make([]byte, 48), 0x7f))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, b, evil := gossiptest.NewPeer(t), gossiptest.NewPeer(t), gossiptest.NewPeer(t)
			ra := gossiptest.Start(t, a, gossiptest.Options{MWM: testMWM, Peers: []*gossiptest.Peer{b, evil}})
			rb := gossiptest.Start(t, b, gossiptest.Options{MWM: testMWM, Peers: []*gossiptest.Peer{a}})
			gossiptest.WaitFor(t, 10*time.Second, "a-b connected", func() bool { return len(rb.Gossip.Connected()) == 1 })
			c := rawPeer(t, evil.ID, a.Addr)
			defer c.Close()
			if _, err := c.Write(tc.bytes); err != nil {
				t.Fatal(err)
			}
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			buf := make([]byte, 4096)
			var err error
			for err == nil {
				_, err = c.Read(buf)
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("a kept the misbehaving peer connected")
			}
			// the evil peer is backed off: an immediate reconnect is refused
			c2 := rawPeer(t, evil.ID, a.Addr)
			_ = c2.SetReadDeadline(time.Now().Add(10 * time.Second))
			for err = nil; err == nil; {
				_, err = c2.Read(buf)
			}
			c2.Close()
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("a accepted a backed-off peer")
			}
			h, err := gossiptest.Send(t.Context(), rb.Node, "STILLOK")
			if err != nil {
				t.Fatal(err)
			}
			gossiptest.WaitFor(t, 10*time.Second, "a still gets b's transactions", func() bool { return gossiptest.HasAll(ra.Store, []store.Hash{h}) })
		})
	}
}

// TestACutConnectionKeepsWhatArrivedAndIsNotBanned: a peer whose connection
// ends in the middle of a frame (it crashed, or we closed it as the
// duplicate of another) is not backed off, and the complete frames read
// before the cut are taken in: their payloads already count as seen, so
// otherwise copies from other peers would be dropped and they would be
// missing for good.
func TestACutConnectionKeepsWhatArrivedAndIsNotBanned(t *testing.T) {
	t.Parallel()
	a, src, p := gossiptest.NewPeer(t), gossiptest.NewPeer(t), gossiptest.NewPeer(t)
	ra := gossiptest.Start(t, a, gossiptest.Options{MWM: testMWM, Peers: []*gossiptest.Peer{p}})
	rs := gossiptest.Start(t, src, gossiptest.Options{MWM: testMWM}) // makes valid transactions; not peered
	var hs []store.Hash
	var frames [][]byte
	for range 6 {
		trytes, err := gossiptest.MessageBundle(t.Context(), rs.Node, "CUT")
		if err != nil {
			t.Fatal(err)
		}
		got, err := rs.Node.Submit(t.Context(), trytes)
		if err != nil {
			t.Fatal(err)
		}
		x, err := rs.Store.Get(got[0])
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, got[0])
		frames = append(frames, gossip.AppendFrame(nil, gossip.TypeTransaction, gossip.CompressTx(x.Raw)))
	}
	// five whole frames and the first half of the sixth in one write (one
	// TLS record: the reader has them all buffered), then the cut
	var first []byte
	for _, f := range frames[:5] {
		first = append(first, f...)
	}
	first = append(first, frames[5][:len(frames[5])/2]...)
	c := rawPeer(t, p.ID, a.Addr)
	buf := make([]byte, gossip.HeaderLen+gossip.MaxFrame)
	if f, err := gossip.ReadFrame(c, buf); err != nil || f.Type != gossip.TypeHandshake {
		t.Fatalf("first frame from the node: %v, %v; want its handshake", f.Type, err)
	}
	if _, err := c.Write(first); err != nil {
		t.Fatal(err)
	}
	gossiptest.WaitFor(t, 10*time.Second, "the node has the connection", func() bool { return len(ra.Gossip.Connected()) == 1 })
	c.Close()
	gossiptest.WaitFor(t, 20*time.Second, "the five whole transactions stored", func() bool { return gossiptest.HasAll(ra.Store, hs[:5]) })

	// the peer comes straight back: accepted, and its sixth transaction lands
	c2 := rawPeer(t, p.ID, a.Addr)
	defer c2.Close()
	if f, err := gossip.ReadFrame(c2, buf); err != nil || f.Type != gossip.TypeHandshake {
		t.Fatalf("after the cut the node refused the peer (%v, %v): a cut connection is no malformed frame", f.Type, err)
	}
	if _, err := c2.Write(frames[5]); err != nil {
		t.Fatal(err)
	}
	gossiptest.WaitFor(t, 20*time.Second, "the sixth transaction stored", func() bool { return gossiptest.HasAll(ra.Store, hs) })
}
