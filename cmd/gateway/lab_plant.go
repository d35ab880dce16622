package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/server"
	"github.com/gopcua/opcua/ua"
	"golang.org/x/sys/unix"
)

// labBoilerNS is the namespace URI of the lab boiler's variables.
const labBoilerNS = "urn:tanglegate:lab:boiler"

// labBoiler is an OPC UA boiler (the gopcua server package, in process,
// security policy None): drum temperature and pressure follow the burner
// setting, a writable variable.
type labBoiler struct {
	url string

	mu       sync.Mutex // guards the physics below
	temp     float64    // °C
	pressure float64    // bar
	burner   float64    // % (mirrors the Burner node; written by the gateway or the lab)

	srv                    *server.Server
	ns                     *server.NodeNameSpace
	tempN, pressN, burnerN *server.Node
}

// newLabBoiler starts the boiler's OPC UA server on a free loopback port.
func newLabBoiler() (*labBoiler, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	b := &labBoiler{url: fmt.Sprintf("opc.tcp://127.0.0.1:%d", port), temp: 120, pressure: 2.7, burner: 45}
	b.srv = server.New(
		server.EndPoint("127.0.0.1", port),
		server.EnableSecurity("None", ua.MessageSecurityModeNone),
		server.EnableAuthMode(ua.UserTokenTypeAnonymous),
		server.SetLogger(slog.New(slog.DiscardHandler)),
	)
	b.ns = server.NewNodeNameSpace(b.srv, labBoilerNS)
	root, _ := b.srv.Namespace(0)
	root.Objects().AddRef(b.ns.Objects(), id.HasComponent, true)
	value := func(f func() float64) func() *ua.DataValue {
		return func() *ua.DataValue { // read on the server's goroutines
			return &ua.DataValue{EncodingMask: ua.DataValueValue | ua.DataValueSourceTimestamp,
				Value: ua.MustVariant(f()), SourceTimestamp: time.Now()}
		}
	}
	b.tempN = b.ns.AddNewVariableStringNode("Drum.Temperature", value(func() float64 { b.mu.Lock(); defer b.mu.Unlock(); return b.temp }))
	b.pressN = b.ns.AddNewVariableStringNode("Drum.Pressure", value(func() float64 { b.mu.Lock(); defer b.mu.Unlock(); return b.pressure }))
	b.burnerN = b.ns.AddNewVariableStringNode("Burner", b.burner)
	for _, n := range []*server.Node{b.tempN, b.pressN, b.burnerN} {
		b.ns.Objects().AddRef(n, id.HasComponent, true)
	}
	if err := b.srv.Start(context.Background()); err != nil {
		return nil, fmt.Errorf("start lab OPC UA boiler: %w", err)
	}
	return b, nil
}

// burnerSetting reads the Burner variable (the gateway may have written it).
func (b *labBoiler) burnerSetting() float64 {
	dv := b.burnerN.Value()
	if dv == nil || dv.Value == nil {
		return b.burner
	}
	switch v := dv.Value.Value().(type) {
	case float64:
		return v
	case float32:
		return float64(v)
	case int32:
		return float64(v)
	case int64:
		return float64(v)
	}
	return b.burner
}

// SetBurner sets the burner (as an operator would at the boiler).
func (b *labBoiler) SetBurner(pct float64) {
	b.ns.SetAttribute(b.burnerN.ID(), ua.AttributeIDValue, server.DataValueFromValue(pct))
}

// Step advances the physics by dt: temperature approaches 20 + 2.2 × burner
// with a 60 s time constant, pressure follows saturated steam roughly.
func (b *labBoiler) Step(dt time.Duration) {
	burner := b.burnerSetting()
	b.mu.Lock()
	b.burner = burner
	target := 20 + 2.2*burner
	b.temp += (target - b.temp) * (1 - math.Exp(-dt.Seconds()/60))
	b.pressure = math.Max(1, 1+(b.temp-100)/12)
	b.mu.Unlock()
	b.ns.ChangeNotification(b.tempN.ID())
	b.ns.ChangeNotification(b.pressN.ID())
}

// Close stops the OPC UA server.
func (b *labBoiler) Close() {
	if b.srv != nil {
		b.srv.Close()
	}
}

func freePort() (int, error) {
	addr, err := freeAddr()
	if err != nil {
		return 0, err
	}
	_, port, _ := net.SplitHostPort(addr)
	return strconv.Atoi(port)
}

// labScale is a serial scale on a pseudo-terminal made in pure Go
// (/dev/ptmx, no socat): the lab writes "W=  12.34kg\r\n" lines on the
// master side, the gateway's serial adapter reads the slave (Port).
type labScale struct {
	Port   string
	master *os.File
	slave  *os.File // kept open so the line settings stay and the pty never hangs up

	mu     sync.Mutex
	weight float64
}

// newLabScale opens a pty pair and puts the slave into raw mode.
func newLabScale() (*labScale, error) {
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open /dev/ptmx: %w", err)
	}
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil { // unlockpt
		unix.Close(fd)
		return nil, fmt.Errorf("unlock pty: %w", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN) // ptsname
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("pty number: %w", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil { // so the runtime poller can interrupt writes
		unix.Close(fd)
		return nil, err
	}
	master := os.NewFile(uintptr(fd), "/dev/ptmx")
	port := "/dev/pts/" + strconv.Itoa(n)
	slave, err := os.OpenFile(port, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return nil, fmt.Errorf("open %s: %w", port, err)
	}
	tio, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err == nil {
		tio.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
		tio.Oflag &^= unix.OPOST
		tio.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
		err = unix.IoctlSetTermios(int(slave.Fd()), unix.TCSETS, tio)
	}
	if err != nil {
		master.Close()
		slave.Close()
		return nil, fmt.Errorf("raw mode on %s: %w", port, err)
	}
	return &labScale{Port: port, master: master, slave: slave, weight: 250}, nil
}

// SetWeight puts a load on the scale.
func (s *labScale) SetWeight(kg float64) { s.mu.Lock(); s.weight = kg; s.mu.Unlock() }

// Run writes one reading every 500 ms until ctx ends.
func (s *labScale) Run(ctx context.Context) error {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
		s.mu.Lock()
		w := s.weight + 0.05*math.Sin(float64(i)/3)
		s.mu.Unlock()
		_ = s.master.SetWriteDeadline(time.Now().Add(time.Second))
		if _, err := fmt.Fprintf(s.master, "W=%8.2fkg\r\n", w); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			return fmt.Errorf("lab scale: %w", err)
		}
	}
}

// Close closes both ends.
func (s *labScale) Close() {
	s.master.Close()
	s.slave.Close()
}
