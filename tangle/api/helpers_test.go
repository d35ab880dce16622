package api_test

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tanglegate/gateway/tangle/api"
	"github.com/tanglegate/gateway/tangle/node"
	"github.com/tanglegate/gateway/tangle/store"
)

const testMWM = 3

type harness struct {
	url   string
	node  *node.Node
	srv   *api.Server
	store *store.Bolt
}

// startNode runs a node and its API on a loopback port until the test ends.
func startNode(t testing.TB, cfg api.Config) *harness {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "gateway.db"), store.Options{InitialMmapSize: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	n := node.NewNode(s, node.Config{MWM: testMWM}, nil)
	srv := api.NewServer(n, cfg, nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = n.Run(ctx) })
	wg.Go(func() { _ = srv.Serve(ctx, l) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		rep, err := store.Check(s.DB())
		if err != nil || rep.Err() != nil {
			t.Errorf("store check after test: %v %v", err, rep.Err())
		}
		s.Close()
	})
	return &harness{url: "http://" + l.Addr().String(), node: n, srv: srv, store: s}
}

func (h *harness) client() *api.Client { return &api.Client{URL: h.url, HTTP: http.DefaultClient} }
