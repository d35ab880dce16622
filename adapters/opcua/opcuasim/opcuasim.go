// Package opcuasim is a simulated OPC UA server for benchmarks and the lab:
// the gopcua server package in process, security policy None, anonymous
// users, and a namespace of Double variables that [Server.Change] moves all
// at once.
//
// # Caveats
//
//   - gopcua v0.8.0's server builds the whole standard address space on
//     every [Start]: about 1.5 s, 15-20 s under the race detector.
//   - Only policy None works: that version's server cannot open a secure
//     channel (see adapters/README.md).
package opcuasim

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net"
	"sync/atomic"
	"time"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/server"
	"github.com/gopcua/opcua/ua"
)

// Namespace is the namespace URI of the simulated variables.
const Namespace = "urn:tanglegate:opcuasim"

// Server is a running simulated OPC UA server. Its methods are safe for
// concurrent use.
type Server struct {
	url    string
	srv    *server.Server
	ids    []*ua.NodeID
	value  atomic.Uint64 // the value of every variable, float64 bits
	cancel context.CancelFunc
}

// Start listens on a free loopback port and serves points variables, named
// p0, p1, ... (node IDs "nsu=<Namespace>;s=p0", see [Server.NodeID]) whose
// value is 0 until [Server.Change]. Close stops it.
func Start(points int) (*Server, error) {
	if points < 1 {
		return nil, fmt.Errorf("opcuasim: need at least one point, got %d", points)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{url: fmt.Sprintf("opc.tcp://127.0.0.1:%d", port)}
	srv := server.New(
		server.EndPoint("127.0.0.1", port),
		server.EnableSecurity("None", ua.MessageSecurityModeNone),
		server.EnableAuthMode(ua.UserTokenTypeAnonymous),
		server.SetLogger(slog.New(slog.DiscardHandler)),
	)
	ns := server.NewNodeNameSpace(srv, Namespace)
	root, err := srv.Namespace(0)
	if err != nil {
		return nil, fmt.Errorf("opcuasim: %w", err)
	}
	root.Objects().AddRef(ns.Objects(), id.HasComponent, true)
	value := func() *ua.DataValue { // called by the server's goroutines
		return &ua.DataValue{EncodingMask: ua.DataValueValue | ua.DataValueSourceTimestamp,
			Value: ua.MustVariant(math.Float64frombits(s.value.Load())), SourceTimestamp: time.Now()}
	}
	for i := range points {
		n := ns.AddNewVariableStringNode(fmt.Sprintf("p%d", i), value)
		ns.Objects().AddRef(n, id.HasComponent, true)
		s.ids = append(s.ids, n.ID())
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := srv.Start(ctx); err != nil {
		cancel()
		return nil, fmt.Errorf("opcuasim: start server: %w", err)
	}
	s.srv, s.cancel = srv, cancel
	return s, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("opcuasim: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// URL returns the server's endpoint, opc.tcp://127.0.0.1:PORT.
func (s *Server) URL() string { return s.url }

// NodeID returns the node ID of variable i as a config string.
func (s *Server) NodeID(i int) string { return fmt.Sprintf("nsu=%s;s=p%d", Namespace, i) }

// Change sets every variable to v and notifies their monitored items; it
// returns when the server has queued every notification.
func (s *Server) Change(v float64) {
	s.value.Store(math.Float64bits(v))
	for _, n := range s.ids {
		s.srv.ChangeNotification(n)
	}
}

// Close stops the server. gopcua waits up to 10 s for connected clients to
// hang up, so close clients first.
func (s *Server) Close() error {
	err := s.srv.Close()
	s.cancel()
	return err
}
