package testkit

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gopcua/opcua/ua"
	"github.com/gopcua/opcua/uapolicy"
	"github.com/gopcua/opcua/uasc"
)

// OPCUAShim is a TCP proxy in front of an in-process gopcua v0.8.0 server
// that does, for the first OpenSecureChannel request of each connection, the
// one step that server skips: decrypt it and check its signature.
//
// Why: the v0.8.0 server creates every channel with security mode None
// (server/server_config.go defaultChannelConfig, used by
// server/channel_broker.go RegisterConn), so uasc/secure_channel.go readChunk
// passes the still-encrypted first OPN body on undecrypted
// (secure_channel_instance.go verifyAndDecrypt returns it as is for mode
// None), decoding fails and the channel is dropped without an answer
// (gopcua/opcua#815). Upstream's fix (#817, after v0.8.0) sets the mode to
// SignAndEncrypt in readChunk for an OPN with a policy other than None (#866
// then stopped that from overriding a negotiated Sign mode).
//
// The shim decrypts and verifies that one message with the server's key and
// gopcua's own uapolicy code, and forwards it in plain text with its
// asymmetric security header unchanged. The server then handles it as the
// fixed server does: it takes the mode from the request, answers signed and
// encrypted, and everything after it (session, user token, reads,
// subscriptions, writes) flows end to end between the real client and the
// real server with the negotiated policy and mode. All other bytes pass
// through untouched. Remove the shim once go.mod has a fixed gopcua.
type OPCUAShim struct {
	// URL is where clients connect: opc.tcp://127.0.0.1:<Port>. The server
	// must list it as an endpoint too (server.EndPoint("127.0.0.1", Port)):
	// gopcua answers GetEndpoints only with endpoints of the URL asked for.
	URL string
	// Port is URL's port.
	Port int

	backend string
	key     *rsa.PrivateKey
	l       net.Listener

	decrypted atomic.Int64
	mu        sync.Mutex
	conns     map[net.Conn]struct{}
	errs      []error
	sent      []byte // what clients sent after their OpenSecureChannel, up to maxSent
	wg        sync.WaitGroup
}

// maxSent bounds what [OPCUAShim.TakeSent] keeps.
const maxSent = 4 << 20

// StartOPCUAShim listens on a free loopback port and proxies each connection
// to backend (host:port), a gopcua server whose private key is key. A failed
// decryption or signature check is a test error. It stops when the test ends.
func StartOPCUAShim(t testing.TB, backend string, key *rsa.PrivateKey) *OPCUAShim {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("opcua shim: listen: %v", err)
	}
	s := &OPCUAShim{
		URL:     "opc.tcp://" + l.Addr().String(),
		Port:    l.Addr().(*net.TCPAddr).Port,
		backend: backend,
		key:     key,
		l:       l,
		conns:   map[net.Conn]struct{}{},
	}
	s.wg.Go(s.accept)
	t.Cleanup(func() {
		s.l.Close()
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.conns = nil // track refuses pairs accepted from now on
		s.mu.Unlock()
		s.wg.Wait()
		for _, err := range s.Errors() {
			t.Errorf("opcua shim: %v", err)
		}
	})
	return s
}

// Decrypted returns how many OpenSecureChannel requests the shim decrypted.
func (s *OPCUAShim) Decrypted() int { return int(s.decrypted.Load()) }

// TakeSent returns the bytes that clients sent after their OpenSecureChannel
// request (at most 4 MiB) since the last call, and forgets them. A test can
// check that a name it used does not cross the wire in clear text.
func (s *OPCUAShim) TakeSent() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.sent
	s.sent = nil
	return b
}

// sentLog is the io.Writer that records client bytes for TakeSent.
type sentLog struct{ *OPCUAShim }

func (w sentLog) Write(p []byte) (int, error) {
	s := w.OPCUAShim
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := min(len(p), maxSent-len(s.sent)); n > 0 {
		s.sent = append(s.sent, p[:n]...)
	}
	return len(p), nil
}

// Errors returns the failures seen so far (bad signature, undecryptable
// request).
func (s *OPCUAShim) Errors() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.errs...)
}

func (s *OPCUAShim) accept() {
	for {
		c, err := s.l.Accept()
		if err != nil {
			return // listener closed
		}
		b, err := net.Dial("tcp", s.backend)
		if err != nil { // the server is down (a restart test): the client retries
			c.Close()
			continue
		}
		if !s.track(c, b) {
			return
		}
		s.wg.Go(func() { s.proxy(c, b) })
	}
}

// track registers a connection pair so that Cleanup can close it; it returns
// false (and closes both) once the shim is shutting down.
func (s *OPCUAShim) track(c, b net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns == nil {
		c.Close()
		b.Close()
		return false
	}
	s.conns[c], s.conns[b] = struct{}{}, struct{}{}
	return true
}

func (s *OPCUAShim) untrack(c, b net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	delete(s.conns, b)
	s.mu.Unlock()
	c.Close()
	b.Close()
}

// proxy copies server bytes back unchanged and client bytes forward,
// decrypting the first OpenSecureChannel request.
func (s *OPCUAShim) proxy(client, server net.Conn) {
	defer s.untrack(client, server)
	var back sync.WaitGroup
	back.Go(func() {
		io.Copy(client, server)
		client.Close() // ends the forward copy too
	})
	defer back.Wait()
	defer server.Close() // ends the backward copy when the client is gone

	for {
		msg, err := readUACPMessage(client)
		if err != nil {
			return
		}
		if string(msg[:3]) == "OPN" {
			if msg, err = s.decryptOPN(msg); err != nil {
				s.mu.Lock()
				s.errs = append(s.errs, err)
				s.mu.Unlock()
				return
			}
		}
		if _, err := server.Write(msg); err != nil {
			return
		}
		if string(msg[:3]) == "OPN" {
			break // the server's channel now knows its mode: pass the rest through
		}
	}
	io.Copy(server, io.TeeReader(client, sentLog{s}))
}

// readUACPMessage reads one message: an 8-byte header (type, chunk type,
// little-endian size including the header) and its body.
func readUACPMessage(r io.Reader) ([]byte, error) {
	hdr := make([]byte, 8)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint32(hdr[4:])
	if n < 8 || n > 16<<20 {
		return nil, fmt.Errorf("uacp message size %d", n)
	}
	msg := make([]byte, n)
	copy(msg, hdr)
	if _, err := io.ReadFull(r, msg[8:]); err != nil {
		return nil, err
	}
	return msg, nil
}

// decryptOPN returns the OpenSecureChannel message b with its body decrypted,
// its signature checked and removed and its padding removed, as a server in
// mode None reads it. A request with policy None is returned unchanged.
func (s *OPCUAShim) decryptOPN(b []byte) ([]byte, error) {
	m := new(uasc.MessageChunk)
	if _, err := m.Decode(b); err != nil {
		return nil, fmt.Errorf("decode OpenSecureChannel headers: %w", err)
	}
	h := m.AsymmetricSecurityHeader
	if h == nil || m.ChunkType != 'F' {
		return nil, errors.New("OpenSecureChannel request is not a single final chunk with an asymmetric header")
	}
	if h.SecurityPolicyURI == ua.SecurityPolicyURINone {
		return b, nil
	}
	cert, err := x509.ParseCertificate(h.SenderCertificate)
	if err != nil {
		return nil, fmt.Errorf("OpenSecureChannel sender certificate: %w", err)
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("OpenSecureChannel sender certificate has a %T key, want RSA", cert.PublicKey)
	}
	algo, err := uapolicy.Asymmetric(h.SecurityPolicyURI, s.key, pub)
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", h.SecurityPolicyURI, err)
	}
	hdrLen := 12 + h.Len()
	plain, err := algo.Decrypt(b[hdrLen:])
	if err != nil {
		return nil, fmt.Errorf("decrypt OpenSecureChannel request (%s): %w", h.SecurityPolicyURI, err)
	}
	// The signature covers the headers as sent (size = encrypted size) and
	// the plain text up to the signature.
	msg := append(append([]byte(nil), b[:hdrLen]...), plain...)
	sigLen := algo.RemoteSignatureLength()
	if len(msg) < hdrLen+8+sigLen+1 {
		return nil, fmt.Errorf("OpenSecureChannel request too short: %d bytes", len(msg))
	}
	signed := msg[:len(msg)-sigLen]
	if err := algo.VerifySignature(signed, msg[len(msg)-sigLen:]); err != nil {
		return nil, fmt.Errorf("OpenSecureChannel request signature: %w", err)
	}
	// Padding: PaddingSize bytes of PaddingSize, then PaddingSize itself
	// (plus an ExtraPaddingSize byte for keys over 2048 bits).
	pad := int(signed[len(signed)-1]) + 1
	if algo.SignatureLength() > 256 {
		pad = int(signed[len(signed)-1])<<8 + int(signed[len(signed)-2]) + 2
	}
	if len(signed)-pad < hdrLen+8 {
		return nil, fmt.Errorf("OpenSecureChannel request padding %d exceeds the body", pad)
	}
	out := signed[:len(signed)-pad]
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)))
	s.decrypted.Add(1)
	return out, nil
}
