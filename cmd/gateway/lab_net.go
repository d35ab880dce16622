package main

import (
	"context"
	"io"
	"net"
	"sync"
)

// labLink is a TCP relay standing for the network between two lab gateways:
// one gateway dials the link instead of its peer. Cut drops every connection
// and refuses new ones (a partition); Heal lets them through again.
type labLink struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// newLabLink listens on a free loopback port and relays to target.
func newLabLink(target string) (*labLink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	return &labLink{ln: ln, target: target, conns: map[net.Conn]struct{}{}}, nil
}

// Addr is the address to dial instead of the target.
func (l *labLink) Addr() string { return l.ln.Addr().String() }

// Cut drops the link's connections and refuses new ones until Heal.
func (l *labLink) Cut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cut = true
	for c := range l.conns {
		c.Close()
	}
}

// Heal lets connections through again.
func (l *labLink) Heal() {
	l.mu.Lock()
	l.cut = false
	l.mu.Unlock()
}

// Run relays connections until ctx ends, then closes everything and waits
// for its goroutines.
func (l *labLink) Run(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { l.ln.Close(); l.Cut() })
	defer stop()
	defer l.wg.Wait()
	for {
		c, err := l.ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		l.wg.Go(func() { l.relay(ctx, c) })
	}
}

func (l *labLink) track(cs ...net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cut {
		return false
	}
	for _, c := range cs {
		l.conns[c] = struct{}{}
	}
	return true
}

func (l *labLink) relay(ctx context.Context, in net.Conn) {
	defer in.Close()
	if !l.track(in) {
		return
	}
	var d net.Dialer
	out, err := d.DialContext(ctx, "tcp", l.target)
	if err != nil {
		return
	}
	defer out.Close()
	if !l.track(out) {
		return
	}
	var wg sync.WaitGroup
	wg.Go(func() { io.Copy(out, in); out.Close() })
	wg.Go(func() { io.Copy(in, out); in.Close() })
	wg.Wait()
	l.mu.Lock()
	delete(l.conns, in)
	delete(l.conns, out)
	l.mu.Unlock()
}
