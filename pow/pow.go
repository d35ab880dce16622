package pow

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tanglegate/gateway/internal/cputime"
	"github.com/tanglegate/gateway/tangle/curl"
	"github.com/tanglegate/gateway/tangle/trinary"
)

// Sizes of a transaction in trytes.
const (
	TxTrytes    = txTrits / 3    // 2673
	NonceTrytes = nonceTrits / 3 // 27
	MaxMWM      = hashTrits      // a hash has 243 trits
)

// Errors returned by [Search] and [Attach]; test with errors.Is.
var (
	ErrInvalidInput = errors.New("pow: invalid input")
	ErrUnknownImpl  = errors.New("pow: unknown or unavailable implementation")
	ErrExhausted    = errors.New("pow: nonce space exhausted")
)

// Options tune a search. The zero value picks the fastest implementation and
// uses every CPU.
type Options struct {
	// Impl names the implementation: "auto" (or ""), "go", "avx2", "avx512"
	// or "neon". See [Implementations].
	Impl string
	// Threads is the number of workers; 0 means runtime.GOMAXPROCS(0).
	Threads int

	// workers, when set, counts running workers (tests check it drops to 0).
	workers *atomic.Int32
}

// Result describes a finished search.
type Result struct {
	Nonce   string // 27 trytes
	Impl    string // implementation used
	Threads int    // workers used
	Tried   uint64 // nonces tested by all workers together
	// CPU is the CPU time the worker threads used (0 where the OS does not
	// report thread CPU time): Tried/CPU is the rate per core, which holds
	// on a busy machine where wall-clock rates do not.
	CPU time.Duration
}

// kernel is one implementation of the 81-round bitsliced transform.
type kernel struct {
	name string
	lay  layout
	// transform runs 81 rounds from mid into a, using b as scratch; the
	// last rounds need compute only what tail lists.
	transform func(mid, a, b []uint64, tail *tailPlan)
}

func (k kernel) lanes() int { return 64 * k.lay.words }

var goKernel = kernel{
	name: "go",
	lay:  newLayout(1, loInv),
	transform: func(mid, a, b []uint64, tail *tailPlan) {
		transformGo((*[goWords]uint64)(mid), (*[goWords]uint64)(a), (*[goWords]uint64)(b), tail)
	},
}

// Implementations returns the names of the implementations this machine can
// run, fastest first. "go" is always last.
func Implementations() []string {
	var names []string
	for _, k := range kernels() {
		names = append(names, k.name)
	}
	return names
}

// pick returns the kernel for name ("" and "auto" mean the fastest).
func pick(name string) (kernel, error) {
	ks := kernels()
	if name == "" || name == "auto" {
		return ks[0], nil
	}
	for _, k := range ks {
		if k.name == name {
			return k, nil
		}
	}
	return kernel{}, fmt.Errorf("%w: %q (available: %v)", ErrUnknownImpl, name, Implementations())
}

// Search finds a nonce for a transaction of 2673 trytes (its nonce field is
// ignored) such that the transaction hash ends in at least mwm zero trits. It
// returns the 27 nonce trytes. It uses every CPU and the fastest
// implementation; see [SearchWith].
func Search(ctx context.Context, trytes string, mwm int) (string, error) {
	r, err := SearchWith(ctx, trytes, mwm, Options{})
	return r.Nonce, err
}

// SearchWith is [Search] with options. When ctx ends first it returns
// ctx.Err() (with the number of nonces tried in Result.Tried). It returns only
// after every worker has exited.
func SearchWith(ctx context.Context, trytes string, mwm int, opt Options) (Result, error) {
	if len(trytes) != TxTrytes {
		return Result{}, fmt.Errorf("%w: transaction: %d trytes, want %d", ErrInvalidInput, len(trytes), TxTrytes)
	}
	var tx [txTrits]int8
	if err := trinary.PutTrits(tx[:], trytes); err != nil {
		return Result{}, fmt.Errorf("%w: transaction: %w", ErrInvalidInput, err)
	}
	return SearchTrits(ctx, &tx, mwm, opt)
}

// SearchTrits is [SearchWith] on a transaction in trits.
func SearchTrits(ctx context.Context, tx *[txTrits]int8, mwm int, opt Options) (Result, error) {
	if mwm < 0 || mwm > MaxMWM {
		return Result{}, fmt.Errorf("%w: mwm %d is not between 0 and %d", ErrInvalidInput, mwm, MaxMWM)
	}
	if err := trinary.ValidTrits(tx[:]); err != nil {
		return Result{}, fmt.Errorf("%w: transaction: %w", ErrInvalidInput, err)
	}
	k, err := pick(opt.Impl)
	if err != nil {
		return Result{}, err
	}
	threads := opt.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	threads = min(threads, maxWorkers)
	res := Result{Impl: k.name, Threads: threads}
	if err := ctx.Err(); err != nil {
		return res, err
	}

	// The mid-state: 32 blocks absorbed, the last block copied in.
	sp := curl.New(curl.Rounds81)
	sp.Absorb(tx[:lastBlock])
	mid := sp.State()
	copy(mid[:hashTrits], tx[lastBlock:])

	var (
		stop  atomic.Bool
		tried atomic.Uint64
		cpuNs atomic.Int64
		found = make(chan [nonceTrits]int8, threads) // never blocks a worker
		wg    sync.WaitGroup
	)
	stopOnCancel := context.AfterFunc(ctx, func() { stop.Store(true) })
	for w := range threads {
		if opt.workers != nil {
			opt.workers.Add(1)
		}
		wg.Go(func() {
			if opt.workers != nil {
				defer opt.workers.Add(-1)
			}
			runtime.LockOSThread() // for threadCPU
			defer runtime.UnlockOSThread()
			c0 := threadCPU()
			n, batches, ok := worker(k, &mid, w, mwm, &stop)
			cpuNs.Add(int64(threadCPU() - c0))
			tried.Add(batches * uint64(k.lanes()))
			if ok {
				stop.Store(true)
				found <- n
			}
		})
	}
	wg.Wait()
	stopOnCancel()
	res.Tried = tried.Load()
	res.CPU = time.Duration(cpuNs.Load())

	select {
	case n := <-found:
		if err := verify(&mid, &n, mwm); err != nil {
			return res, fmt.Errorf("pow: %s engine: %w", k.name, err)
		}
		res.Nonce = trinary.MustTrytes(n[:])
		return res, nil
	default:
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	return res, ErrExhausted
}

// worker searches its own nonce space until it finds a nonce or stop is set.
// It returns the nonce, the number of batches run and whether it found one.
func worker(k kernel, st *[stateTrits]int8, id, mwm int, stop *atomic.Bool) (n [nonceTrits]int8, batches uint64, ok bool) {
	mid, a, b := k.lay.alloc(), k.lay.alloc(), k.lay.alloc()
	k.lay.fill(mid, st, id)
	tail := newTailPlan(mwm)
	for !stop.Load() {
		k.transform(mid, a, b, tail)
		batches++
		if w, bit, hit := k.lay.check(a, mwm); hit {
			return k.lay.nonce(mid, w, bit), batches, true
		}
		if !k.lay.increment(mid) {
			break
		}
	}
	return n, batches, false
}

// verify recomputes the last transform with the scalar Curl and checks mwm.
func verify(mid *[stateTrits]int8, n *[nonceTrits]int8, mwm int) error {
	st := *mid
	copy(st[nonceOffset:hashTrits], n[:])
	curl.Transform(&st, curl.Rounds81)
	if z := trailingZeros(st[:hashTrits]); z < mwm {
		return fmt.Errorf("nonce gives %d trailing zero trits, want %d", z, mwm)
	}
	return nil
}

// trailingZeros counts zero trits from the end of a hash.
func trailingZeros(h []int8) int {
	n := 0
	for i := len(h) - 1; i >= 0 && h[i] == 0; i-- {
		n++
	}
	return n
}

// TrailingZeros returns how many zero trits a hash (243 trits, or 81 trytes
// converted) ends with: the weight a transaction hash carries.
func TrailingZeros(hash []int8) int { return trailingZeros(hash) }

// Meets reports whether the Curl-P-81 hash of a 2673-tryte transaction ends in
// at least mwm zero trits.
func Meets(trytes string, mwm int) (bool, error) {
	if len(trytes) != TxTrytes {
		return false, fmt.Errorf("%w: transaction: %d trytes, want %d", ErrInvalidInput, len(trytes), TxTrytes)
	}
	t, err := trinary.TrytesToTrits(trytes)
	if err != nil {
		return false, fmt.Errorf("%w: transaction: %w", ErrInvalidInput, err)
	}
	h := curl.Hash(t, curl.Rounds81)
	return trailingZeros(h[:]) >= mwm, nil
}

// threadCPU returns the CPU time of the calling OS thread (lock it first),
// 0 where the platform cannot tell: Result.CPU then stays 0.
func threadCPU() time.Duration { d, _ := cputime.Thread(); return d }
