package adapters

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sort"
	"sync"

	"github.com/tanglegate/gateway/config"
)

// ErrNotRunning is returned by [Manager.Apply] before Run has started or after it returned.
var ErrNotRunning = errors.New("adapters: manager is not running")

// ErrNotWritable is returned when writing to a device whose adapter cannot write.
var ErrNotWritable = errors.New("adapters: device cannot be written")

// Manager runs the adapters of the configured devices under [Supervise] and
// applies configuration reloads: only devices whose configuration changed
// (or that were added or removed) are restarted; the others keep polling
// without a gap. All devices send to one channel, which the Manager never
// closes. Run owns every goroutine the Manager starts.
type Manager struct {
	reg  Registry
	out  chan<- Reading
	log  *slog.Logger
	opts SuperviseOptions

	mu      sync.Mutex
	ctx     context.Context // Run's context; nil when not running
	wg      sync.WaitGroup
	running map[string]*device
}

type device struct {
	cfg     config.Device
	health  *Health
	adapter Adapter
	cancel  context.CancelFunc
	done    chan struct{}
}

// NewManager returns a manager that builds adapters with reg and sends their
// readings to out. opts gives the backoff bounds (Device, Health and Log are
// filled in per device).
func NewManager(reg Registry, out chan<- Reading, log *slog.Logger, opts SuperviseOptions) *Manager {
	return &Manager{reg: reg, out: out, log: log, opts: opts, running: map[string]*device{}}
}

// Run starts devices and keeps them running until ctx ends; then it stops
// every device and returns ctx.Err() once all adapters have returned.
func (m *Manager) Run(ctx context.Context, devices []config.Device) error {
	m.mu.Lock()
	m.ctx = ctx
	m.mu.Unlock()
	if err := m.Apply(devices); err != nil {
		m.mu.Lock()
		m.ctx = nil
		m.mu.Unlock()
		return err
	}
	<-ctx.Done()
	m.mu.Lock()
	m.ctx = nil
	for _, d := range m.running {
		d.cancel()
	}
	m.mu.Unlock()
	m.wg.Wait()
	return ctx.Err()
}

// Apply makes the running devices match devices. Adapters for new and
// changed devices are built first; if any cannot be built nothing changes
// and the error names every failing device. Unchanged devices are not
// touched, and keep their health.
func (m *Manager) Apply(devices []config.Device) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ctx == nil {
		return ErrNotRunning
	}
	want := map[string]config.Device{}
	for _, d := range devices {
		want[d.Name] = d
	}
	// Build every new or changed adapter before touching anything.
	built := map[string]*device{}
	var errs []error
	for name, cfg := range want {
		if cur, ok := m.running[name]; ok && reflect.DeepEqual(cur.cfg, cfg) {
			continue
		}
		h := NewHealth()
		a, err := m.reg.New(cfg, h, m.log)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		built[name] = &device{cfg: cfg, health: h, adapter: a}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	// Stop removed and changed devices, and wait for them, so a changed
	// device never has two connections open to the same bus at once.
	for name, d := range m.running {
		if _, keep := want[name]; keep && built[name] == nil {
			continue
		}
		d.cancel()
		<-d.done
		delete(m.running, name)
		m.log.Info("device stopped", "device", name)
	}
	for name, d := range built {
		m.start(name, d)
	}
	return nil
}

func (m *Manager) start(name string, d *device) {
	ctx, cancel := context.WithCancel(m.ctx)
	d.cancel, d.done = cancel, make(chan struct{})
	m.running[name] = d
	opts := m.opts
	opts.Device, opts.Health = name, d.health
	opts.Log = m.log // Supervise adds the device; Registry.New gave the adapter its own logger
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer close(d.done)
		err := Supervise(ctx, d.adapter, m.out, opts)
		if err != nil && ctx.Err() == nil {
			opts.Log.Error("device gave up", "device", name, "err", err)
		}
	}()
	m.log.Info("device started", "device", name, "adapter", BusOf(d.cfg))
}

// Health returns the status of every running device, by name.
func (m *Manager) Health() map[string]Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]Status, len(m.running))
	for name, d := range m.running {
		out[name] = d.health.Status()
	}
	return out
}

// Devices returns the names of the running devices, sorted.
func (m *Manager) Devices() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	names := make([]string, 0, len(m.running))
	for n := range m.running {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Write writes v to a point of a running device (rule actions, helpers).
func (m *Manager) Write(ctx context.Context, dev, point string, v Value) error {
	m.mu.Lock()
	d, ok := m.running[dev]
	m.mu.Unlock()
	if !ok {
		return fmt.Errorf("write %s.%s: no running device %q", dev, point, dev)
	}
	w, ok := d.adapter.(Writer)
	if !ok {
		return fmt.Errorf("write %s.%s: %w", dev, point, ErrNotWritable)
	}
	if err := w.Write(ctx, point, v); err != nil {
		return fmt.Errorf("write %s.%s: %w", dev, point, err)
	}
	return nil
}
