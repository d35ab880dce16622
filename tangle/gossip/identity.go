package gossip

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Files of an identity directory (e.g. <state_dir>/tls).
const (
	KeyFile  = "peer.key" // PKCS#8 Ed25519 private key, mode 0600
	CertFile = "peer.crt" // self-signed certificate
)

// Identity is this node's TLS key pair and its pinned-key fingerprint.
type Identity struct {
	Cert        tls.Certificate
	Fingerprint string
}

// LoadOrCreateIdentity reads the key pair in dir, creating an Ed25519 key
// and a self-signed certificate at first start. The key is written with mode
// 0600 (temp file, fsync, rename) before the certificate.
func LoadOrCreateIdentity(dir string) (*Identity, error) {
	keyPath, certPath := filepath.Join(dir, KeyFile), filepath.Join(dir, CertFile)
	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err == nil {
		return identityOf(cert)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("load peering key from %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create peering key directory: %w", err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate peering key: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("encode peering key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "tanglegate peer"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(100, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	certDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, priv.Public(), priv)
	if err != nil {
		return nil, fmt.Errorf("create peering certificate: %w", err)
	}
	if err := writeAtomic(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return nil, err
	}
	if err := writeAtomic(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER}), 0o644); err != nil {
		return nil, err
	}
	cert, err = tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return nil, fmt.Errorf("load new peering key: %w", err)
	}
	return identityOf(cert)
}

func identityOf(cert tls.Certificate) (*Identity, error) {
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("parse peering certificate: %w", err)
	}
	cert.Leaf = leaf
	return &Identity{Cert: cert, Fingerprint: Fingerprint(leaf)}, nil
}

// Fingerprint returns "sha256:" and the lowercase hex SHA-256 of the
// certificate's SubjectPublicKeyInfo (spec 2.10).
func Fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// ParseFingerprint normalises a pinned fingerprint ("sha256:" and 64 hex
// digits; the prefix may be omitted, case is ignored).
func ParseFingerprint(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimPrefix(s, "sha256:")
	if b, err := hex.DecodeString(s); err != nil || len(b) != sha256.Size {
		return "", fmt.Errorf("fingerprint: %q is not sha256: followed by 64 hex digits", s)
	}
	return "sha256:" + s, nil
}

func writeAtomic(path string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(mode); err == nil {
		_, err = f.Write(data)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(f.Name(), path)
		}
		if err == nil {
			return syncDir(filepath.Dir(path))
		}
	} else {
		f.Close()
	}
	return fmt.Errorf("write %s: %w", path, err)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
