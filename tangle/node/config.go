package node

import (
	"time"

	"github.com/tanglegate/gateway/tangle/store"
)

// Config is the node's tunable behaviour.
type Config struct {
	// MWM is the network minimum weight magnitude (trailing zero trits).
	MWM int
	// MaxFutureDrift rejects transactions timestamped further ahead (default 10 min).
	MaxFutureDrift time.Duration
	// TipMaxAge makes older tips lazy (default 10 min).
	TipMaxAge time.Duration
	// MaxTipUses drops a tip after it was selected this often (default 16).
	MaxTipUses int
	// Workers hash and validate gossip transactions in parallel (default
	// CPUs).
	Workers int
	// CPUs bounds the goroutines doing ingest CPU work (decoding, hashing,
	// solidification and bundle checks) at once. The default, GOMAXPROCS-1
	// (at least 1), leaves a processor to API reads, device polling and
	// the rules engine however hard peers and clients push transactions.
	CPUs int
	// IngestNice is the nice value (1-19) of the threads that do the bulk
	// of ingest CPU work (the solidifier, and decoding and hashing of
	// Submit batches of more than 16 transactions), so that the kernel
	// runs API reads first when both want a core (compaction threads in
	// RocksDB are lowered the same way); default 10, -1 leaves them at the
	// process's. See the package doc, "Sharing the processors".
	IngestNice int
	// IngestQueue bounds the asynchronous ingest queue (default 4096).
	IngestQueue int
	// MaxBatch caps transactions per submitted batch (default 1000).
	MaxBatch int
}

// DefaultConfig returns the mainnet-like defaults (MWM 14).
func DefaultConfig() Config {
	return Config{MWM: 14}
}

func (c *Config) withDefaults(procs int) {
	if c.MaxFutureDrift == 0 {
		c.MaxFutureDrift = 10 * time.Minute
	}
	if c.TipMaxAge == 0 {
		c.TipMaxAge = 10 * time.Minute
	}
	if c.MaxTipUses == 0 {
		c.MaxTipUses = 16
	}
	if c.CPUs <= 0 {
		c.CPUs = max(1, procs-1)
	}
	if c.IngestNice == 0 {
		c.IngestNice = 10
	}
	if c.Workers <= 0 {
		c.Workers = c.CPUs
	}
	if c.IngestQueue <= 0 {
		c.IngestQueue = 4096
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 1000
	}
}

// Ledger answers the milestone and balance questions of the API. Part 2
// (tangle/milestone) implements it; [Standalone] is the default.
type Ledger interface {
	// Milestones returns the latest and the latest solid milestone.
	Milestones() (latest, solid Milestone)
	// Synced reports whether the node may serve tip selection and inclusion states.
	Synced() bool
	// Balances returns the confirmed balance of each address as of solid.
	Balances(addrs []store.Hash) ([]uint64, Milestone, error)
}

// Milestone names one milestone.
type Milestone struct {
	Hash  store.Hash
	Index uint32
}

// Standalone is the [Ledger] of a node without a coordinator: milestone 0,
// always synced, every balance 0.
type Standalone struct{}

// Milestones returns two zero milestones.
func (Standalone) Milestones() (Milestone, Milestone) { return Milestone{}, Milestone{} }

// Synced is always true.
func (Standalone) Synced() bool { return true }

// Balances returns zeros.
func (Standalone) Balances(addrs []store.Hash) ([]uint64, Milestone, error) {
	return make([]uint64, len(addrs)), Milestone{}, nil
}

// Broadcaster sends newly stored transactions to peers (tangle/gossip).
type Broadcaster interface {
	// Broadcast is called with every new transaction; it must not block.
	Broadcast(tx *store.Tx)
}

// EntryPoints tells which hashes count as solid without being stored
// (snapshot solid entry points, part 2). The null hash always does.
type EntryPoints interface {
	IsSolidEntryPoint(h store.Hash) bool
}
