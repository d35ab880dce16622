package testkit

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Mosquitto is a mosquitto broker started by a test on a free loopback port,
// with TLS (a CA made for the test) and a password file.
type Mosquitto struct {
	Port     int    // TLS listener on 127.0.0.1
	URL      string // tls://127.0.0.1:<port>
	CAFile   string // PEM of the CA that signed the broker certificate
	User     string // a user in the password file
	Password string
	PassFile string // a file holding Password, for password_file settings

	t    testing.TB
	bin  string
	conf string
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// StartMosquitto starts mosquitto with TLS and the user "gateway" (password
// in m.Password) and stops it when the test ends.
func StartMosquitto(t testing.TB) *Mosquitto {
	t.Helper()
	bin := Need(t, "mosquitto", "mosquitto")
	passwd := Need(t, "mosquitto_passwd", "mosquitto")
	dir := t.TempDir()
	m := &Mosquitto{t: t, bin: bin, Port: FreePort(t), User: "gateway", Password: "s3cret-" + fmt.Sprint(time.Now().UnixNano()%1000)}
	m.URL = fmt.Sprintf("tls://127.0.0.1:%d", m.Port)
	ca, cert, key := testCerts(t, "127.0.0.1")
	m.CAFile = writeFile(t, dir, "ca.pem", ca, 0o644)
	certFile := writeFile(t, dir, "server.pem", cert, 0o644)
	keyFile := writeFile(t, dir, "server.key", key, 0o600)
	m.PassFile = writeFile(t, dir, "gateway.pass", []byte(m.Password+"\n"), 0o600)
	pwFile := filepath.Join(dir, "passwd")
	if out, err := exec.Command(passwd, "-c", "-b", pwFile, m.User, m.Password).CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_passwd: %v: %s", err, out)
	}
	var conf strings.Builder
	fmt.Fprintf(&conf, "listener %d 127.0.0.1\n", m.Port)
	fmt.Fprintf(&conf, "allow_anonymous false\npassword_file %s\n", pwFile)
	fmt.Fprintf(&conf, "cafile %s\ncertfile %s\nkeyfile %s\n", m.CAFile, certFile, keyFile)
	conf.WriteString("persistence false\nlog_dest stderr\nlog_type error\nlog_type warning\n")
	if os.Geteuid() == 0 {
		conf.WriteString("user root\n") // keep access to the 0600 files in the temp dir
	}
	m.conf = writeFile(t, dir, "mosquitto.conf", []byte(conf.String()), 0o644)
	m.Start()
	t.Cleanup(m.Stop)
	return m
}

// Start starts the broker (again) and waits until it accepts connections.
func (m *Mosquitto) Start() {
	m.t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	cmd := exec.Command(m.bin, "-c", m.conf)
	cmd.Stderr = &prefixWriter{t: m.t, prefix: "mosquitto: "}
	if err := cmd.Start(); err != nil {
		m.t.Fatalf("start mosquitto: %v", err)
	}
	m.cmd, m.done = cmd, make(chan struct{})
	done := m.done
	go func() { cmd.Wait(); close(done) }()
	WaitPort(m.t, m.Port, 10*time.Second)
}

// Stop stops the broker (a no-op when it is not running).
func (m *Mosquitto) Stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd == nil {
		return
	}
	m.cmd.Process.Signal(os.Interrupt)
	select {
	case <-m.done:
	case <-time.After(5 * time.Second):
		m.cmd.Process.Kill()
		<-m.done
	}
	m.cmd = nil
}

// WaitPort waits until something accepts TCP connections on 127.0.0.1:port.
func WaitPort(t testing.TB, port int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on %s after %s: %v", addr, within, err)
		}
		time.Sleep(50 * time.Millisecond) // polling with a deadline
	}
}

// testCerts returns a CA certificate and a server certificate + key for host,
// all PEM.
func testCerts(t testing.TB, host string) (caPEM, certPEM, keyPEM []byte) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tanglegate test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: host},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

func writeFile(t testing.TB, dir, name string, b []byte, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

// prefixWriter logs a child process's output lines through t.
type prefixWriter struct {
	t      testing.TB
	prefix string
}

func (w *prefixWriter) Write(p []byte) (int, error) {
	for l := range strings.SplitSeq(strings.TrimRight(string(p), "\n"), "\n") {
		w.t.Log(w.prefix + l)
	}
	return len(p), nil
}
