package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"syscall"
	"time"

	smb "github.com/simonvetter/modbus"
)

// Server serves a handler (a [Bank] or a [Pump]'s bank) over Modbus TCP.
type Server struct {
	srv  *smb.ModbusServer
	addr string
}

// Listen starts serving h on addr ("127.0.0.1:0" picks a free port).
//
// The Modbus server binds its own listener, so a free port is found first
// and bound again: another process (an outgoing connection's ephemeral
// port, a parallel test) can take it in between. Then a new port is tried,
// a few times.
func Listen(addr string, h smb.RequestHandler) (*Server, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port != "0" {
		return listen(addr, h)
	}
	for attempt := 1; ; attempt++ {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("find a free port on %s: %w", host, err)
		}
		free := l.Addr().String()
		l.Close()
		s, err := listen(free, h)
		if err == nil || !errors.Is(err, syscall.EADDRINUSE) || attempt == 5 {
			return s, err
		}
	}
}

func listen(addr string, h smb.RequestHandler) (*Server, error) {
	srv, err := smb.NewServer(&smb.ServerConfiguration{
		URL:        "tcp://" + addr,
		Timeout:    time.Minute,
		MaxClients: 64,
		Logger:     log.New(io.Discard, "", 0),
	}, h)
	if err != nil {
		return nil, fmt.Errorf("create modbus server on %s: %w", addr, err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("start modbus server on %s: %w", addr, err)
	}
	return &Server{srv: srv, addr: addr}, nil
}

// Addr returns host:port.
func (s *Server) Addr() string { return s.addr }

// URL returns the address as a Modbus device address, tcp://host:port.
func (s *Server) URL() string { return "tcp://" + s.addr }

// Close stops the server and closes client connections.
func (s *Server) Close() error { return s.srv.Stop() }

// Serve serves h on addr until ctx ends.
func Serve(ctx context.Context, addr string, h smb.RequestHandler) error {
	s, err := Listen(addr, h)
	if err != nil {
		return err
	}
	<-ctx.Done()
	s.Close()
	return ctx.Err()
}
