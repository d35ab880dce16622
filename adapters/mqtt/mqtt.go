package mqtt

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/config"
)

// ErrBadCredentials is wrapped by Run's error when the broker refuses the
// user name or password.
var ErrBadCredentials = errors.New("mqtt: broker refused the user name or password")

// Adapter reads one MQTT broker connection. It implements [adapters.Adapter].
// Run must not be called concurrently with itself.
type Adapter struct {
	device string
	cfg    config.MQTT
	routes []*route
	health *adapters.Health
	log    *slog.Logger

	malformed atomic.Int64
	lastWarn  atomic.Int64 // unix nanoseconds of the last malformed-payload warning
}

// New returns the adapter of device for a validated mqtt section. h may be nil.
func New(device string, cfg config.MQTT, h *adapters.Health, log *slog.Logger) (*Adapter, error) {
	if errs := cfg.Validate("mqtt"); len(errs) > 0 {
		return nil, fmt.Errorf("invalid mqtt config: %w", errors.Join(errs...))
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &Adapter{device: device, cfg: cfg, health: h, log: log}
	for _, t := range cfg.Topics {
		r, err := compile(t)
		if err != nil {
			return nil, err
		}
		a.routes = append(a.routes, r)
	}
	return a, nil
}

// Factory builds the adapter of an mqtt device; it fits [adapters.Factory].
func Factory(dev config.Device, h *adapters.Health, log *slog.Logger) (adapters.Adapter, error) {
	if dev.MQTT == nil {
		return nil, errors.New("device has no mqtt section")
	}
	return New(dev.Name, *dev.MQTT, h, log)
}

// Malformed returns how many payloads (or points in them) could not be read
// since the adapter was built.
func (a *Adapter) Malformed() int64 { return a.malformed.Load() }

// options builds the paho client options: TLS, credentials, no automatic
// reconnect (Supervise does that) and clean sessions.
func (a *Adapter) options(lost chan<- error) (*paho.ClientOptions, error) {
	o := paho.NewClientOptions()
	o.AddBroker(a.cfg.Broker)
	id := a.cfg.ClientID
	if id == "" {
		id = "tanglegate-" + a.device
	}
	o.SetClientID(id)
	o.SetCleanSession(true)
	o.SetAutoReconnect(false)
	o.SetConnectRetry(false)
	o.SetConnectTimeout(10 * time.Second)
	o.SetWriteTimeout(10 * time.Second)
	keep := a.cfg.KeepAlive.D()
	if keep == 0 {
		keep = 30 * time.Second
	}
	o.SetKeepAlive(keep)
	o.SetPingTimeout(min(keep, 10*time.Second))
	if a.cfg.Username != "" {
		o.SetUsername(a.cfg.Username)
	}
	if a.cfg.PasswordFile != "" {
		pw, err := os.ReadFile(a.cfg.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("read password_file: %w", err)
		}
		o.SetPassword(strings.TrimRight(string(pw), "\r\n"))
	}
	u, err := url.Parse(a.cfg.Broker)
	if err != nil {
		return nil, fmt.Errorf("broker URL: %w", err)
	}
	switch u.Scheme {
	case "tls", "ssl", "mqtts":
		tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: u.Hostname()}
		if a.cfg.CAFile != "" {
			pemBytes, err := os.ReadFile(a.cfg.CAFile)
			if err != nil {
				return nil, fmt.Errorf("read ca_file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pemBytes) {
				return nil, fmt.Errorf("ca_file %s holds no PEM certificate", a.cfg.CAFile)
			}
			tc.RootCAs = pool
		}
		if a.cfg.CertFile != "" {
			pair, err := tls.LoadX509KeyPair(a.cfg.CertFile, a.cfg.KeyFile)
			if err != nil {
				return nil, fmt.Errorf("load client certificate: %w", err)
			}
			tc.Certificates = []tls.Certificate{pair}
		}
		o.SetTLSConfig(tc)
	}
	o.SetConnectionLostHandler(func(_ paho.Client, err error) {
		select {
		case lost <- err:
		default:
		}
	})
	return o, nil
}

// Run connects, subscribes to every topic filter and sends readings to out
// until ctx ends (it returns ctx.Err()) or the connection drops (it returns
// why). Each call is a new clean session with fresh subscriptions.
func (a *Adapter) Run(ctx context.Context, out chan<- adapters.Reading) error {
	lost := make(chan error, 1)
	opts, err := a.options(lost)
	if err != nil {
		return err
	}
	c := paho.NewClient(opts)
	if err := wait(ctx, c.Connect()); err != nil {
		c.Disconnect(0)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, packets.ErrorRefusedBadUsernameOrPassword) || errors.Is(err, packets.ErrorRefusedNotAuthorised) {
			return fmt.Errorf("connect to %s as user %q: %w (%w)", a.cfg.Broker, a.cfg.Username, ErrBadCredentials, err)
		}
		return fmt.Errorf("connect to %s: %w", a.cfg.Broker, err)
	}
	defer c.Disconnect(250)

	// Messages are handled on paho's router goroutine, in order; the handler
	// blocks on out (back-pressure) until this Run ends.
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	filters := make(map[string]byte, len(a.cfg.Topics))
	for _, t := range a.cfg.Topics {
		filters[t.Topic] = byte(a.cfg.QoS)
	}
	tok := c.SubscribeMultiple(filters, func(_ paho.Client, m paho.Message) {
		a.handle(rctx, m.Topic(), m.Payload(), out)
	})
	if err := wait(ctx, tok); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("subscribe to %d topics: %w", len(filters), err)
	}
	if st, ok := tok.(*paho.SubscribeToken); ok {
		var refused []string
		for f, q := range st.Result() {
			if q == 0x80 {
				refused = append(refused, f)
			}
		}
		if len(refused) > 0 {
			return fmt.Errorf("broker %s refused subscriptions to %s (check its ACL)", a.cfg.Broker, strings.Join(refused, ", "))
		}
	}
	a.log.Info("connected", "broker", a.cfg.Broker, "topics", len(filters))
	a.health.OK()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case err := <-lost:
		return fmt.Errorf("connection to %s lost: %w", a.cfg.Broker, err)
	}
}

// wait waits for a paho token or ctx.
func wait(ctx context.Context, t paho.Token) error {
	select {
	case <-t.Done():
		return t.Error()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// handle reads one message and sends its readings. Bad payloads are counted
// and logged, never fatal.
func (a *Adapter) handle(ctx context.Context, topic string, payload []byte, out chan<- adapters.Reading) {
	now := time.Now()
	for _, r := range a.routes {
		caps, ok := match(r.filter, topic)
		if !ok {
			continue
		}
		rs, err := r.extract(a.device, topic, caps, payload, now)
		if err != nil {
			a.malformedPayload(topic, err)
		}
		if len(rs) == 0 {
			continue
		}
		a.health.OK()
		if adapters.Send(ctx, out, rs) != nil {
			return
		}
	}
}

// malformedPayload counts a bad payload and warns, at most every 10 s (debug otherwise).
func (a *Adapter) malformedPayload(topic string, err error) {
	n := a.malformed.Add(1)
	now := time.Now().UnixNano()
	last := a.lastWarn.Load()
	if now-last >= int64(10*time.Second) && a.lastWarn.CompareAndSwap(last, now) {
		a.log.Warn("malformed payload", "topic", topic, "err", err, "malformed_total", n)
		return
	}
	a.log.Debug("malformed payload", "topic", topic, "err", err, "malformed_total", n)
}
