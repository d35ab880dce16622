package adapters

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"
)

// Default backoff bounds of [Supervise].
const (
	DefaultMinBackoff = 100 * time.Millisecond
	DefaultMaxBackoff = 2 * time.Second
)

// SuperviseOptions configures [Supervise]. Zero fields take defaults.
type SuperviseOptions struct {
	Device     string       // device name, for logs
	Health     *Health      // updated with every failure; may be nil
	Log        *slog.Logger // slog.New(slog.DiscardHandler) when nil
	MinBackoff time.Duration
	MaxBackoff time.Duration
}

// permanentError marks an error that retrying cannot fix.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent wraps err so that [Supervise] gives up instead of retrying, for
// problems that no reconnect can fix (a point that does not exist in the
// device's configuration, an unsupported address scheme).
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err was wrapped by [Permanent].
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// Supervise runs a until ctx ends, restarting it with exponential backoff
// (with ±20% jitter, between MinBackoff and MaxBackoff) whenever Run returns
// early. Each failure is logged and recorded in opt.Health as offline.
//
// The adapter reports its own successes with [Health.OK]; Supervise reads the
// health's failure count to size the backoff, so one successful poll resets it.
// Supervise returns ctx.Err() when ctx ends, or the error of Run if it is
// [Permanent]. It never closes out.
func Supervise(ctx context.Context, a Adapter, out chan<- Reading, opt SuperviseOptions) error {
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	lo, hi := opt.MinBackoff, opt.MaxBackoff
	if lo <= 0 {
		lo = DefaultMinBackoff
	}
	if hi <= 0 {
		hi = DefaultMaxBackoff
	}
	hi = max(hi, lo)
	h := opt.Health
	if h == nil {
		h = NewHealth() // private counter so that backoff still grows
	}
	for {
		err := a.Run(ctx, out)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err == nil {
			err = errors.New("adapter stopped without an error")
		}
		h.Fail(err)
		if IsPermanent(err) {
			log.Error("adapter failed permanently", "device", opt.Device, "err", err)
			return fmt.Errorf("device %s: %w", opt.Device, err)
		}
		wait := Backoff(h.Status().Failures, lo, hi)
		log.Warn("adapter failed, reconnecting", "device", opt.Device, "err", err, "retry_in", wait)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// Backoff returns the wait before attempt number failures+1: lo doubled for
// every consecutive failure after the first, capped at hi, with ±20% jitter.
func Backoff(failures int, lo, hi time.Duration) time.Duration {
	d := lo
	for i := 1; i < failures && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	j := time.Duration(float64(d) * (rand.Float64()*0.4 - 0.2))
	return max(d+j, time.Millisecond)
}
