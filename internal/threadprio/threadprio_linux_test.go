package threadprio

import (
	"sync"
	"testing"
)

// TestLowerSetsOnlyTheCallersThread: the goroutine that lowered its thread
// reads the new nice value back; another goroutine's thread keeps the
// process's.
func TestLowerSetsOnlyTheCallersThread(t *testing.T) {
	base, err := Nice() // the process's (a test run under nice has more than 0)
	if err != nil || base >= 13 {
		t.Fatalf("nice value of the test's thread: %d, %v; want below 13", base, err)
	}
	var wg sync.WaitGroup
	var got, other int
	var errLower, errGet error
	start, done := make(chan struct{}), make(chan struct{})
	wg.Go(func() {
		if errLower = Lower(13); errLower == nil {
			got, errGet = Nice()
		}
		close(start)
		<-done // keep the lowered thread busy while the other reads
	})
	<-start
	wg.Go(func() {
		defer close(done)
		other, _ = Nice()
	})
	wg.Wait()
	if errLower != nil || errGet != nil {
		t.Fatal(errLower, errGet)
	}
	if got != 13 {
		t.Errorf("lowered thread has nice %d, want 13", got)
	}
	if other != base {
		t.Errorf("another goroutine's thread has nice %d, want the process's %d", other, base)
	}
}
