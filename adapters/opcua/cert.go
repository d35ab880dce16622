package opcua

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// Thumbprint returns the pinning form of a DER certificate: "sha256:" and the
// lower-case hex SHA-256 of the DER bytes.
func Thumbprint(der []byte) string {
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// AppCert is the gateway's own OPC UA application instance certificate.
type AppCert struct {
	DER []byte          // the certificate
	Key *rsa.PrivateKey // its key
	URI string          // the application URI (the certificate's URI SAN)
}

const (
	appCertFile   = "gateway.pem"      // certificate + key, 0600
	appPublicFile = "gateway-cert.pem" // certificate only, for server trust lists
)

// LoadOrCreateAppCert loads the application certificate from dir, generating
// a self-signed one (RSA 2048, 10 years, URI urn:tanglegate:<host>:gateway)
// at first use. Concurrent first calls agree on one certificate.
func LoadOrCreateAppCert(dir string) (*AppCert, error) {
	if dir == "" {
		return nil, errors.New("no certificate directory configured (opcua.cert_dir)")
	}
	path := filepath.Join(dir, appCertFile)
	if c, err := loadAppCert(path); err == nil {
		return c, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create certificate directory: %w", err)
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	pemBytes, err := newAppCertPEM(host, time.Now())
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(dir, ".gateway-*.pem")
	if err != nil {
		return nil, fmt.Errorf("write application certificate: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(pemBytes); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("write application certificate: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("write application certificate: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("write application certificate: %w", err)
	}
	// Link fails if another caller won the race; then we load theirs.
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("install application certificate: %w", err)
	}
	c, err := loadAppCert(path)
	if err != nil {
		return nil, err
	}
	pub := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.DER})
	if err := os.WriteFile(filepath.Join(dir, appPublicFile), pub, 0o644); err != nil {
		return nil, fmt.Errorf("write public application certificate: %w", err)
	}
	return c, nil
}

func loadAppCert(path string) (*AppCert, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read application certificate: %w", err)
	}
	c := &AppCert{}
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		switch blk.Type {
		case "CERTIFICATE":
			c.DER = blk.Bytes
		case "RSA PRIVATE KEY":
			if c.Key, err = x509.ParsePKCS1PrivateKey(blk.Bytes); err != nil {
				return nil, fmt.Errorf("parse application key in %s: %w", path, err)
			}
		}
	}
	if c.DER == nil || c.Key == nil {
		return nil, fmt.Errorf("%s: want a CERTIFICATE and an RSA PRIVATE KEY block", path)
	}
	x, err := x509.ParseCertificate(c.DER)
	if err != nil {
		return nil, fmt.Errorf("parse application certificate %s: %w", path, err)
	}
	if len(x.URIs) == 0 {
		return nil, fmt.Errorf("application certificate %s has no URI SAN", path)
	}
	c.URI = x.URIs[0].String()
	return c, nil
}

func newAppCertPEM(host string, now time.Time) ([]byte, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate application key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generate serial number: %w", err)
	}
	uri, err := url.Parse("urn:tanglegate:" + host + ":gateway")
	if err != nil {
		return nil, fmt.Errorf("application URI: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "tanglegate@" + host, Organization: []string{"Tanglegate"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(10, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment |
			x509.KeyUsageKeyEncipherment | x509.KeyUsageDataEncipherment | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		URIs:                  []*url.URL{uri},
		DNSNames:              []string{host, "localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create application certificate: %w", err)
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	out = append(out, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})...)
	return out, nil
}
