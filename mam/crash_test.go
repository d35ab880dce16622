package mam_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tanglegate/gateway/internal/testkit"
	"github.com/tanglegate/gateway/mam"
	"github.com/tanglegate/gateway/tangle/trinary"
)

// crashChildEnv makes the test binary act as a publisher child process.
const crashChildEnv = "TANGLEGATE_MAM_CRASH_CHILD"

// TestMain lets the crash test re-execute this binary as the publisher.
func TestMain(m *testing.M) {
	testkit.RunCrashChild(crashChildEnv, crashChild)
	os.Exit(m.Run())
}

// sent is one line of the "tangle" log the child appends to.
type sent struct {
	Leaf    int    `json:"leaf"`
	Root    string `json:"root"`
	Payload string `json:"payload"`
}

// crashChild publishes forever: on start it re-sends the last message (the
// one that may have been committed but not sent), then loops Store.Next +
// append to the log (its acknowledgements, so it does not use ack). The
// parent SIGKILLs it at random points.
func crashChild(dir string, _ func(string)) error {
	db, err := openDBErr(filepath.Join(dir, "g.db"))
	if err != nil {
		return err
	}
	s, err := mam.NewStore(db)
	if err != nil {
		return err
	}
	log, err := os.OpenFile(filepath.Join(dir, "tangle.log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	send := func(m mam.Message) error {
		b, _ := json.Marshal(sent{Leaf: m.Leaf, Root: m.Root, Payload: m.Payload})
		_, err := log.Write(append(b, '\n'))
		return err
	}
	if last, ok, err := s.Last("c"); err != nil {
		return err
	} else if ok {
		if err := send(last); err != nil {
			return err
		}
	}
	for i := 0; ; i++ {
		text, _ := trinary.ASCIIToTrytes(fmt.Sprintf("reading %d", i))
		m, err := s.Next("c", text)
		if err != nil {
			return err
		}
		if err := send(m); err != nil {
			return err
		}
	}
}

func openDBErr(path string) (*bboltDB, error) { return openBolt(path) }

// TestCrashNeverReusesAnIndex kills a publishing child with SIGKILL at 50
// random points and checks after each restart that no key index signed two
// different payloads and that the stream parses end to end.
func TestCrashNeverReusesAnIndex(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("crash test skipped under -short")
	}
	dir := t.TempDir()
	c, err := mam.NewChannel(testSeed, mam.Public, "", 1)
	if err != nil {
		t.Fatal(err)
	}
	if c, err = c.WithTreeSize(2); err != nil {
		t.Fatal(err)
	}
	root0, err := c.Root()
	if err != nil {
		t.Fatal(err)
	}
	db := openDB(t, filepath.Join(dir, "g.db"))
	s, _ := mam.NewStore(db)
	if err := s.Create("c", c); err != nil {
		t.Fatal(err)
	}
	db.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	logPath := filepath.Join(dir, "tangle.log")
	lines := func() int {
		b, _ := os.ReadFile(logPath)
		return strings.Count(string(b), "\n")
	}
	const kills = 50
	for k := range kills {
		child := testkit.StartCrashChild(t, crashChildEnv, dir)
		// Kill after 0..2 new lines plus a random delay, at a random point of
		// create / commit / send.
		target := lines() + rng.IntN(3)
		deadline := time.Now().Add(60 * time.Second)
		for lines() < target && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(time.Duration(rng.IntN(20000)) * time.Microsecond)
		if err := child.Kill(); err != nil {
			t.Fatalf("kill %d: %v: %s", k, err, child.Wait())
		}
		child.Wait()
		checkStream(t, logPath, root0)
	}
	if n := lines(); n < kills/2 {
		t.Fatalf("only %d messages were sent in %d runs", n, kills)
	}
}

// checkStream reads the log (ignoring a torn last line) and checks that no
// leaf index carries two different payloads and that the channel can be
// followed from root0 through every distinct sent message.
func checkStream(t *testing.T, logPath, root0 string) {
	t.Helper()
	f, err := os.Open(logPath)
	if err != nil {
		if os.IsNotExist(err) {
			return
		}
		t.Fatal(err)
	}
	defer f.Close()
	byLeaf := map[int]sent{}
	byRoot := map[string][]sent{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m sent
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			continue // torn write at the kill point
		}
		if prev, ok := byLeaf[m.Leaf]; ok {
			if prev.Payload != m.Payload {
				t.Fatalf("key index %d signed two different payloads", m.Leaf)
			}
			continue
		}
		byLeaf[m.Leaf] = m
		byRoot[m.Root] = append(byRoot[m.Root], m)
	}
	seen, root := 0, root0
	for len(byRoot[root]) > 0 {
		var next string
		for _, m := range byRoot[root] {
			p, err := mam.ParseMessage(m.Payload, root, "")
			if err != nil {
				t.Fatalf("leaf %d does not parse: %v", m.Leaf, err)
			}
			next = p.NextRoot
			seen++
		}
		if len(byRoot[root]) < 2 {
			break // tree not finished yet
		}
		root = next
	}
	if seen != len(byLeaf) {
		t.Fatalf("followed %d of %d sent messages from the first root", seen, len(byLeaf))
	}
}
