package north

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	bolt "go.etcd.io/bbolt"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/config"
)

// BucketName is the bbolt bucket the publisher owns.
const BucketName = "northbound"

var (
	queueKey = []byte("q")
	seqKey   = []byte("seq")
	countKey = []byte("count")
)

// getUint reads a counter key of b (0 when absent).
func getUint(b *bolt.Bucket, k []byte) uint64 {
	if v := b.Get(k); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func putUint(b *bolt.Bucket, k []byte, v uint64) error {
	return b.Put(k, binary.BigEndian.AppendUint64(nil, v))
}

// Config configures a [Publisher].
type Config struct {
	Broker   string // tcp://, mqtt://, tls://, ssl:// or mqtts:// host:port
	ClientID string
	Username string
	Password string
	CAFile   string // verifies the broker (system roots when empty)
	CertFile string // client certificate (with KeyFile)
	KeyFile  string

	Gateway     string // {gateway} in topics and "gw" in payloads
	TopicPrefix string // prepended to every topic ("" for none)
	Topic       string // reading topic template (default "{device}/{point}")
	QoS         byte   // 0, 1 (default for FromConfig) or 2
	Retain      bool   // retain flag of readings

	MaxStored int           // messages kept while the broker is down (default 1000000)
	Window    int           // messages in flight at once (default 64)
	RetryMin  time.Duration // first wait after a failed connection (default 1s)
	RetryMax  time.Duration // longest wait between attempts (default 30s)
	Timeout   time.Duration // connect and acknowledgement timeout (default 10s)
}

// FromConfig returns the publisher settings of the mqtt section of
// gateway.yaml, reading the password file.
func FromConfig(c config.Northbound, gateway string) (Config, error) {
	cfg := Config{
		Broker: c.Broker, ClientID: c.ClientID, Username: c.Username, CAFile: c.CAFile, CertFile: c.CertFile, KeyFile: c.KeyFile,
		Gateway: gateway, TopicPrefix: c.TopicPrefix, Topic: c.Topic, QoS: byte(c.QoS), Retain: c.Retain, MaxStored: c.MaxStored,
	}
	if c.PasswordFile != "" {
		pw, err := os.ReadFile(c.PasswordFile)
		if err != nil {
			return Config{}, fmt.Errorf("northbound mqtt: read password_file: %w", err)
		}
		cfg.Password = strings.TrimRight(string(pw), "\r\n")
	}
	return cfg, nil
}

// Stats are the publisher's counters since it was built (Pending is read
// from the store).
type Stats struct {
	Stored  uint64 `json:"stored"`  // messages written to the store
	Sent    uint64 `json:"sent"`    // messages acknowledged by the broker
	Resent  uint64 `json:"resent"`  // messages sent again with "dup":true
	Dropped uint64 `json:"dropped"` // oldest messages dropped because the store was full
	Pending int    `json:"pending"` // messages in the store
}

// entry is a stored message.
type entry struct {
	Topic    string `json:"t"`
	Payload  []byte `json:"p"`
	Retain   bool   `json:"r,omitempty"`
	JSON     bool   `json:"j,omitempty"` // payload is a JSON object ("dup" can be added)
	Attempts int    `json:"a,omitempty"`
}

// item is what Reading and Event hand to the store writer.
type item struct {
	reading *adapters.Reading
	topic   string
	payload string
}

// Publisher sends readings and events to the broker through a store in bbolt.
// Reading and Event may be called from any goroutine while Run runs.
type Publisher struct {
	cfg  Config
	db   *bolt.DB
	log  *slog.Logger
	opts *paho.ClientOptions

	in   chan item
	wake chan struct{}

	stored, sent, resent, dropped atomic.Uint64
	connected                     atomic.Bool
}

// New returns a publisher storing in db (owned by the caller).
func New(db *bolt.DB, cfg Config, log *slog.Logger) (*Publisher, error) {
	if cfg.Topic == "" {
		cfg.Topic = config.DefaultNorthboundTopic
	}
	if cfg.MaxStored <= 0 {
		cfg.MaxStored = config.DefaultNorthboundMaxStored
	}
	if cfg.Window <= 0 {
		cfg.Window = 64
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = time.Second
	}
	if cfg.RetryMax < cfg.RetryMin {
		cfg.RetryMax = max(30*time.Second, cfg.RetryMin)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.ClientID == "" {
		cfg.ClientID = "tanglegate-" + cfg.Gateway
	}
	if cfg.QoS > 2 {
		return nil, fmt.Errorf("northbound mqtt: qos %d (want 0, 1 or 2)", cfg.QoS)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts, err := clientOptions(cfg)
	if err != nil {
		return nil, err
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(BucketName))
		if err != nil {
			return err
		}
		_, err = b.CreateBucketIfNotExists(queueKey)
		return err
	}); err != nil {
		return nil, fmt.Errorf("northbound mqtt: create bucket: %w", err)
	}
	return &Publisher{cfg: cfg, db: db, log: log.With("broker", cfg.Broker), opts: opts, in: make(chan item, 4096), wake: make(chan struct{}, 1)}, nil
}

// clientOptions builds the paho options: TLS, credentials, clean sessions and
// no automatic reconnect (Run reconnects with backoff).
func clientOptions(cfg Config) (*paho.ClientOptions, error) {
	u, err := url.Parse(cfg.Broker)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("northbound mqtt: broker %q is not a URL", cfg.Broker)
	}
	o := paho.NewClientOptions()
	o.AddBroker(cfg.Broker)
	o.SetClientID(cfg.ClientID)
	o.SetCleanSession(true)
	o.SetAutoReconnect(false)
	o.SetConnectRetry(false)
	o.SetConnectTimeout(cfg.Timeout)
	o.SetWriteTimeout(cfg.Timeout)
	o.SetKeepAlive(30 * time.Second)
	o.SetPingTimeout(10 * time.Second)
	o.SetOrderMatters(true)
	if cfg.Username != "" {
		o.SetUsername(cfg.Username)
		o.SetPassword(cfg.Password)
	}
	switch u.Scheme {
	case "tls", "ssl", "mqtts":
		tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: u.Hostname()}
		if cfg.CAFile != "" {
			pemBytes, err := os.ReadFile(cfg.CAFile)
			if err != nil {
				return nil, fmt.Errorf("northbound mqtt: read ca_file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pemBytes) {
				return nil, fmt.Errorf("northbound mqtt: ca_file %s holds no PEM certificate", cfg.CAFile)
			}
			tc.RootCAs = pool
		}
		if cfg.CertFile != "" {
			pair, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
			if err != nil {
				return nil, fmt.Errorf("northbound mqtt: load client certificate: %w", err)
			}
			tc.Certificates = []tls.Certificate{pair}
		}
		o.SetTLSConfig(tc)
	}
	return o, nil
}

// Reading queues a reading for the broker. It blocks only while the
// in-memory buffer is full, until ctx ends.
func (p *Publisher) Reading(ctx context.Context, r adapters.Reading) error {
	return p.put(ctx, item{reading: &r})
}

// Event queues a message (a rule's mqtt action) for topic under the prefix.
func (p *Publisher) Event(ctx context.Context, topic, payload string) error {
	return p.put(ctx, item{topic: topic, payload: payload})
}

func (p *Publisher) put(ctx context.Context, it item) error {
	select {
	case p.in <- it:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Connected reports whether the publisher holds a broker connection.
func (p *Publisher) Connected() bool { return p.connected.Load() }

// Stats returns the counters.
func (p *Publisher) Stats() (Stats, error) {
	st := Stats{Stored: p.stored.Load(), Sent: p.sent.Load(), Resent: p.resent.Load(), Dropped: p.dropped.Load()}
	err := p.db.View(func(tx *bolt.Tx) error {
		st.Pending = int(getUint(tx.Bucket([]byte(BucketName)), countKey))
		return nil
	})
	if err != nil {
		return Stats{}, fmt.Errorf("northbound mqtt: stats: %w", err)
	}
	return st, nil
}

// Run stores queued messages and sends them until ctx ends; it returns
// ctx.Err() after writing what is still buffered to the store.
func (p *Publisher) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	sctx, stop := context.WithCancel(ctx)
	var serr error
	wg.Go(func() { serr = p.sendLoop(sctx) })
	werr := p.storeLoop(ctx)
	stop()
	wg.Wait()
	if werr != nil && !errors.Is(werr, context.Canceled) {
		return werr
	}
	if serr != nil && !errors.Is(serr, context.Canceled) {
		return serr
	}
	return ctx.Err()
}

// storeLoop writes buffered items to the store, many per transaction.
func (p *Publisher) storeLoop(ctx context.Context) error {
	batch := make([]item, 0, 256)
	for {
		select {
		case it := <-p.in:
			batch = append(batch[:0], it)
		case <-ctx.Done():
			batch = batch[:0]
			for len(batch) < cap(batch) {
				select {
				case it := <-p.in:
					batch = append(batch, it)
					continue
				default:
				}
				break
			}
			if len(batch) > 0 {
				if err := p.store(batch); err != nil {
					return err
				}
			}
			return ctx.Err()
		}
	drain:
		for len(batch) < cap(batch) {
			select {
			case it := <-p.in:
				batch = append(batch, it)
			default:
				break drain
			}
		}
		if err := p.store(batch); err != nil {
			return err
		}
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
}

// store appends items in one transaction, dropping the oldest beyond MaxStored.
func (p *Publisher) store(items []item) error {
	var dropped int
	err := p.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(BucketName))
		q := b.Bucket(queueKey)
		seq, count := getUint(b, seqKey), getUint(b, countKey)
		for _, it := range items {
			seq++
			e := p.entry(seq, it)
			v, err := json.Marshal(e)
			if err != nil {
				return err
			}
			if err := q.Put(binary.BigEndian.AppendUint64(nil, seq), v); err != nil {
				return err
			}
		}
		if err := putUint(b, seqKey, seq); err != nil {
			return err
		}
		count += uint64(len(items))
		c := q.Cursor()
		for k, _ := c.First(); k != nil && count > uint64(p.cfg.MaxStored); k, _ = c.First() {
			if err := c.Delete(); err != nil {
				return err
			}
			count--
			dropped++
		}
		return putUint(b, countKey, count)
	})
	if err != nil {
		return fmt.Errorf("northbound mqtt: store %d messages: %w", len(items), err)
	}
	p.stored.Add(uint64(len(items)))
	if dropped > 0 {
		p.dropped.Add(uint64(dropped))
		p.log.Warn("northbound store full, dropped oldest messages", "dropped", dropped, "max_stored", p.cfg.MaxStored)
	}
	return nil
}

// readingPayload is the JSON of a reading.
type readingPayload struct {
	Seq     uint64 `json:"seq"`
	Gateway string `json:"gw,omitempty"`
	Device  string `json:"device"`
	Point   string `json:"point"`
	Value   any    `json:"value"`
	Unit    string `json:"unit,omitempty"`
	Quality string `json:"quality"`
	TS      string `json:"ts"`
}

// entry builds the stored form of an item with sequence number seq.
func (p *Publisher) entry(seq uint64, it item) entry {
	if it.reading == nil {
		e := entry{Topic: p.topic(it.topic), Payload: []byte(it.payload)}
		var obj map[string]json.RawMessage
		e.JSON = json.Unmarshal(e.Payload, &obj) == nil && obj != nil
		return e
	}
	r := it.reading
	ts := r.Source
	if ts.IsZero() {
		ts = r.Gateway
	}
	v := r.Value.Any()
	if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
		v = r.Value.String() // JSON has no NaN or Inf
	}
	b, _ := json.Marshal(readingPayload{
		Seq: seq, Gateway: p.cfg.Gateway, Device: r.Device, Point: r.Point, Value: v, Unit: r.Unit,
		Quality: r.Quality.String(), TS: ts.UTC().Format(time.RFC3339Nano),
	})
	topic := strings.NewReplacer("{gateway}", p.cfg.Gateway, "{device}", r.Device, "{point}", r.Point).Replace(p.cfg.Topic)
	return entry{Topic: p.topic(topic), Payload: b, Retain: p.cfg.Retain, JSON: true}
}

func (p *Publisher) topic(t string) string {
	if p.cfg.TopicPrefix == "" {
		return t
	}
	return p.cfg.TopicPrefix + "/" + strings.TrimPrefix(t, "/")
}

// payload returns what to send for e: with "dup":true when it was tried before.
func (e entry) payload() []byte {
	if e.Attempts == 0 || !e.JSON {
		return e.Payload
	}
	b := []byte(strings.TrimRight(string(e.Payload), " \t\r\n"))
	if len(b) < 2 || b[len(b)-1] != '}' {
		return e.Payload
	}
	body := strings.TrimSpace(string(b[1 : len(b)-1]))
	if body == "" {
		return []byte(`{"dup":true}`)
	}
	return append(b[:len(b)-1:len(b)-1], `,"dup":true}`...)
}
