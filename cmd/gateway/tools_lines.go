package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// maxLine bounds one input line of the tools (a transaction is 2673 trytes;
// a Kerl input may be longer).
const maxLine = 4 << 20

// eachLine calls fn with every non-empty line of r (surrounding white space
// and a trailing \r removed) and its 1-based line number.
func eachLine(r io.Reader, fn func(n int, line string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if err := fn(n, line); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read stdin after line %d: %w", n, err)
	}
	return nil
}

// readSeed reads a seed from a file, or from stdin when path is "-". Only
// the first non-empty line counts. Errors never contain the seed.
func readSeed(path string, stdin io.Reader) (string, error) {
	if path == "" {
		return "", fmt.Errorf("--seed-file is required (a file holding the seed, or - for stdin)")
	}
	var r io.Reader = stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return "", fmt.Errorf("open seed file: %w", err)
		}
		defer f.Close()
		r = f
	}
	seed, err := firstLine(r)
	if err != nil {
		return "", fmt.Errorf("read seed: %w", err)
	}
	if seed == "" {
		return "", fmt.Errorf("seed file %s is empty", path)
	}
	return seed, nil
}

// firstLine returns the first non-blank line of r, trimmed. It reads one
// byte at a time so that, on stdin, the lines after it stay unread.
func firstLine(r io.Reader) (string, error) {
	var line []byte
	var b [1]byte
	for len(line) < 1<<12 {
		n, err := r.Read(b[:])
		if n == 1 {
			if b[0] == '\n' {
				if s := strings.TrimSpace(string(line)); s != "" {
					return s, nil
				}
				line = line[:0]
				continue
			}
			line = append(line, b[0])
		}
		if err == io.EOF {
			return strings.TrimSpace(string(line)), nil
		}
		if err != nil {
			return "", err
		}
	}
	return "", fmt.Errorf("first line longer than %d bytes", 1<<12)
}
