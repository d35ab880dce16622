package main

import (
	"encoding/json"
	"path/filepath"
	"runtime"
	"testing"
)

// TestBenchIngestGeneratesOnceAndReusesTheCache runs a small ingest twice
// on one transactions file: the first run generates it, the second (fewer
// transactions) reuses it.
func TestBenchIngestGeneratesOnceAndReusesTheCache(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	txs := filepath.Join(dir, "bench.txs")
	bench := func(count string, more ...string) ingestResult {
		t.Helper()
		args := append([]string{"bench", "ingest", "--count", count, "--writers", "4", "--json",
			"--memory-limit", "0", "--txs-file", txs, "--dir", t.TempDir()}, more...)
		out, _, err := runTool(t, "", args...)
		if err != nil {
			t.Fatal(err)
		}
		var res ingestResult
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, out)
		}
		return res
	}
	first := bench("600")
	if first.Transactions != 600 || first.TxPerSecond <= 0 || first.GenerateSeconds <= 0 || first.Commits == 0 ||
		first.DBBytes == 0 || first.GetTrytesCalls+first.InProcessCalls == 0 || first.LimitingStep == "" ||
		first.CPUs < 1 || first.RateTarget != 0 {
		t.Errorf("implausible first result: %+v", first)
	}
	// Every transaction approves two tips of earlier rounds (of 512): the
	// first round approves the genesis only, the second approves about 150
	// of its 512 tips, so about 450 remain.
	if first.Tips < 1 || first.Tips > genRound+1 {
		t.Errorf("%d tips after 600 transactions", first.Tips)
	}
	if runtime.GOOS == "linux" && (first.RSSBytes == 0 || first.RSSPeakBytes < first.RSSBytes/2) {
		t.Errorf("RSS not measured: %+v", first)
	}
	if got := cachedTxs(txs); got != 600 {
		t.Fatalf("cache holds %d transactions, want 600", got)
	}
	second := bench("200", "--rate", "2000", "--cpus", "1")
	if second.Transactions != 200 || second.GenerateSeconds != 0 {
		t.Errorf("second run: %d transactions, generated for %.1f s; want 200 from the cache", second.Transactions, second.GenerateSeconds)
	}
	if second.RateTarget != 2000 || second.CPUs != 1 {
		t.Errorf("second run: rate target %d and %d ingest CPUs, want 2000 and 1", second.RateTarget, second.CPUs)
	}
}
