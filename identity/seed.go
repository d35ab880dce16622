package identity

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/tanglegate/gateway/internal/fsutil"
	"github.com/tanglegate/gateway/tangle/trinary"
)

// LoadOrCreateSeed returns the gateway seed stored at path, creating it from
// crypto/rand (81 trytes, mode 0600, written atomically and fsynced) when the
// file does not exist. A seed file readable by group or others is refused.
func LoadOrCreateSeed(path string) (seed string, created bool, err error) {
	seed, err = ReadSeed(path)
	if err == nil {
		return seed, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", false, err
	}
	seed, err = NewSeed()
	if err != nil {
		return "", false, err
	}
	if err := fsutil.WriteFileAtomic(path, []byte(seed+"\n"), 0o600); err != nil {
		return "", false, fmt.Errorf("identity: create seed %s: %w", path, err)
	}
	return seed, true, nil
}

// ReadSeed reads an existing seed file.
func ReadSeed(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("identity: seed: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("identity: seed %s has mode %04o; it must be readable by its owner only (chmod 600 %s)", path, fi.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("identity: seed: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if len(s) != trinary.HashTrytes || trinary.ValidTrytes(s) != nil {
		return "", fmt.Errorf("identity: seed %s: want 81 trytes (9, A-Z), got %d characters", path, len(s))
	}
	return s, nil
}

// NewSeed returns 81 uniformly random trytes from crypto/rand.
func NewSeed() (string, error) {
	b := make([]byte, trinary.HashTrytes)
	out := make([]byte, trinary.HashTrytes)
	for i := 0; i < len(out); {
		if _, err := rand.Read(b); err != nil {
			return "", fmt.Errorf("identity: random seed: %w", err)
		}
		for _, x := range b {
			if x >= 243 { // 243 = 9*27: reject to keep the distribution uniform
				continue
			}
			out[i] = trinary.Alphabet[x%27]
			i++
			if i == len(out) {
				break
			}
		}
	}
	return string(out), nil
}
