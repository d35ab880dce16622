package adapters

import (
	"sync"
	"time"
)

// State is the connection state of a device.
type State uint8

// States of a device, from the runtime's point of view.
const (
	Offline  State = iota // not connected, or every recent attempt failed
	Online                // connected and polling without errors
	Degraded              // connected, but some points or requests fail
)

// String returns "offline", "online" or "degraded".
func (s State) String() string {
	switch s {
	case Online:
		return "online"
	case Degraded:
		return "degraded"
	default:
		return "offline"
	}
}

// Status is a snapshot of a device's health.
type Status struct {
	State     State     // current state
	Since     time.Time // when State last changed (zero before the first change)
	LastError string    // the most recent error, empty if none since the last success
	ErrorAt   time.Time // when LastError happened
	Failures  int       // consecutive failed connection attempts or polls
}

// Health is the health of one device. Adapters and [Supervise] update it; the
// runtime (metrics, web UI, identity state) reads it with [Health.Status]. All
// methods are safe for concurrent use. The zero value is an offline device;
// a nil *Health ignores updates, so adapters can be run without one.
type Health struct {
	mu  sync.Mutex
	st  Status
	now func() time.Time // for tests; time.Now when nil
}

// NewHealth returns the health of a device that has not connected yet.
func NewHealth() *Health { return &Health{} }

func (h *Health) clock() time.Time {
	if h.now != nil {
		return h.now()
	}
	return time.Now()
}

// Status returns a snapshot of the health.
func (h *Health) Status() Status {
	if h == nil {
		return Status{}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.st
}

// State returns the current state.
func (h *Health) State() State { return h.Status().State }

// set changes the state, recording when it changed. Callers hold h.mu.
func (h *Health) set(s State, now time.Time) {
	if h.st.State != s || h.st.Since.IsZero() {
		h.st.State = s
		h.st.Since = now
	}
}

// OK records a successful poll: the device is online, the last error is cleared.
func (h *Health) OK() {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.set(Online, h.clock())
	h.st.LastError = ""
	h.st.Failures = 0
}

// Degrade records a partial failure: the device answers, but err happened
// (for example one point returned a Modbus exception).
func (h *Health) Degrade(err error) {
	if h == nil || err == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.clock()
	h.set(Degraded, now)
	h.st.LastError = err.Error()
	h.st.ErrorAt = now
}

// Fail records that the device is unreachable because of err.
func (h *Health) Fail(err error) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.clock()
	h.set(Offline, now)
	if err != nil {
		h.st.LastError = err.Error()
		h.st.ErrorAt = now
	}
	h.st.Failures++
}
