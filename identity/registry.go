package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tanglegate/gateway/mam"
)

// BucketName is the bbolt bucket the [Registry] owns.
const BucketName = "identity"

// ErrUnknownDevice is returned for a device that was never announced.
var ErrUnknownDevice = errors.New("identity: unknown device")

// A Queue takes a bundle (transactions in bundle order, before tip selection
// and proof-of-work) and gets it onto the tangle eventually. The node's
// durable outbox implements it.
type Queue interface {
	Enqueue(ctx context.Context, trytes []string) error
}

// Device is what the runtime knows about a device when it announces it.
type Device struct {
	Name      string
	Key       Key
	Vendor    string
	Model     string
	Points    []Point
	Telemetry string // telemetry channel root, if any
}

// Record is the registry's entry for one device.
type Record struct {
	Device     string    `json:"device"`
	Key        Key       `json:"key"`
	ID         string    `json:"id"`
	Channel    string    `json:"channel"`  // name in the MAM store
	DocHash    string    `json:"doc_hash"` // of the last published description
	Created    time.Time `json:"created"`
	State      string    `json:"state,omitempty"`
	LastUpdate time.Time `json:"last_update,omitzero"`
	Messages   int       `json:"messages"`
}

// Registry keeps device identities in the gateway database and publishes
// identity documents and state updates on each device's channel. It is safe
// for concurrent use.
type Registry struct {
	db          *bolt.DB
	channels    *mam.Store
	seed        string
	gateway     string
	queue       Queue
	minInterval time.Duration
	now         func() time.Time
	mu          sync.Mutex // serialises publishing per registry (keeps message order)
}

// Options for [NewRegistry].
type Options struct {
	MinInterval time.Duration    // shortest time between state updates with the same state (default 1m)
	Now         func() time.Time // clock (time.Now)
}

// NewRegistry returns a registry on db (the caller owns it) that derives
// identities from gatewaySeed and publishes through channels and queue.
func NewRegistry(db *bolt.DB, channels *mam.Store, gatewaySeed, gateway string, queue Queue, opt Options) (*Registry, error) {
	if opt.MinInterval <= 0 {
		opt.MinInterval = time.Minute
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists([]byte(BucketName))
		return err
	}); err != nil {
		return nil, fmt.Errorf("identity: create bucket: %w", err)
	}
	return &Registry{db: db, channels: channels, seed: gatewaySeed, gateway: gateway, queue: queue, minInterval: opt.MinInterval, now: opt.Now}, nil
}

func (r *Registry) get(name string) (Record, bool, error) {
	var rec Record
	var ok bool
	err := r.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket([]byte(BucketName)).Get([]byte(name))
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &rec)
	})
	return rec, ok, err
}

func (r *Registry) put(rec Record) error {
	v, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return r.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(BucketName)).Put([]byte(rec.Device), v)
	})
}

// Get returns the record of a device.
func (r *Registry) Get(name string) (Record, error) {
	rec, ok, err := r.get(name)
	if err != nil {
		return Record{}, fmt.Errorf("identity: read %s: %w", name, err)
	}
	if !ok {
		return Record{}, fmt.Errorf("%w: %q", ErrUnknownDevice, name)
	}
	return rec, nil
}

// List returns every record, sorted by device name.
func (r *Registry) List() ([]Record, error) {
	var out []Record
	err := r.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(BucketName)).ForEach(func(_, v []byte) error {
			var rec Record
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			out = append(out, rec)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Device < out[j].Device })
	return out, err
}

// Announce makes sure the device has an identity and that its current
// description is published: the first time a device is seen, and again when
// its description (key, vendor, model, points) changes. It returns the record
// and whether a document was published.
func (r *Registry) Announce(ctx context.Context, d Device) (Record, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec, ok, err := r.get(d.Name)
	if err != nil {
		return Record{}, false, fmt.Errorf("identity: read %s: %w", d.Name, err)
	}
	if !ok || rec.Key != d.Key {
		seed, err := DeviceSeed(r.seed, d.Key)
		if err != nil {
			return Record{}, false, err
		}
		id, err := ID(seed)
		if err != nil {
			return Record{}, false, err
		}
		ch := "identity/" + id
		if _, err := r.channels.Get(ch); err != nil {
			c, err := NewChannel(seed)
			if err != nil {
				return Record{}, false, err
			}
			if err := r.channels.Create(ch, c); err != nil && !errors.Is(err, mam.ErrChannelExists) {
				return Record{}, false, fmt.Errorf("identity: create channel of %s: %w", d.Name, err)
			}
		}
		rec = Record{Device: d.Name, Key: d.Key, ID: id, Channel: ch, Created: r.now().UTC()}
	}
	hash := describe(d)
	if rec.DocHash == hash {
		return rec, false, nil
	}
	doc := Document{
		Schema: DocumentSchema, ID: rec.ID, Device: d.Name, Gateway: r.gateway, Bus: d.Key,
		Vendor: d.Vendor, Model: d.Model, Points: d.Points, Created: rec.Created, Telemetry: d.Telemetry,
	}
	if err := r.publish(ctx, rec.Channel, doc); err != nil {
		return rec, false, fmt.Errorf("identity: publish document of %s: %w", d.Name, err)
	}
	rec.DocHash = hash
	rec.Messages++
	if err := r.put(rec); err != nil {
		return rec, true, fmt.Errorf("identity: save %s: %w", d.Name, err)
	}
	return rec, true, nil
}

// UpdateState publishes a state update for an announced device when its
// state changed, or when the same state was last published at least the
// minimum interval ago. It reports whether an update was published.
func (r *Registry) UpdateState(ctx context.Context, device string, u Update) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec, ok, err := r.get(device)
	if err != nil {
		return false, fmt.Errorf("identity: read %s: %w", device, err)
	}
	if !ok {
		return false, fmt.Errorf("%w: %q", ErrUnknownDevice, device)
	}
	now := r.now().UTC()
	if u.State == rec.State && now.Sub(rec.LastUpdate) < r.minInterval {
		return false, nil
	}
	u.Schema, u.ID = UpdateSchema, rec.ID
	if u.At.IsZero() {
		u.At = now
	}
	if err := r.publish(ctx, rec.Channel, u); err != nil {
		return false, fmt.Errorf("identity: publish state of %s: %w", device, err)
	}
	rec.State, rec.LastUpdate = u.State, now
	rec.Messages++
	return true, r.put(rec)
}

// publish signs the next message of channel (the index is committed before
// the message leaves) and queues its bundle.
func (r *Registry) publish(ctx context.Context, channel string, v any) error {
	payload, err := Encode(v)
	if err != nil {
		return err
	}
	msg, err := r.channels.Next(channel, payload)
	if err != nil {
		return err
	}
	trytes, _, err := mam.Bundle(msg, mam.MessageTag("TANGLEGATE9IDENTITY", msg), r.now())
	if err != nil {
		return err
	}
	return r.queue.Enqueue(ctx, trytes)
}

// describe hashes what identifies a device's description (not its timestamps).
func describe(d Device) string {
	b, _ := json.Marshal(struct {
		Key       Key
		Vendor    string
		Model     string
		Points    []Point
		Telemetry string
	}{d.Key, d.Vendor, d.Model, d.Points, d.Telemetry})
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Verified is one message of an identity chain, checked.
type Verified struct {
	Schema   string          `json:"schema"`
	Message  json.RawMessage `json:"message"`
	Root     string          `json:"root"`
	Address  string          `json:"address"`
	Bundle   string          `json:"bundle"`
	Position int             `json:"position"`
}

// Verify follows the identity channel of id through node and checks every
// message: its MAM signature (by the channel's Merkle tree), that it is an
// identity document or state update, and that it names id. It fails if the
// chain holds no identity document. Bundles on the channel's addresses that
// do not verify (anyone can write to a public address) are not part of the
// chain; they are returned as skipped, for the user to see.
func Verify(ctx context.Context, node mam.Node, id string) ([]Verified, []mam.Skipped, error) {
	rd := &mam.Reader{Node: node, Mode: mam.Public}
	var out []Verified
	var skipped []mam.Skipped
	rd.OnSkip = func(s mam.Skipped) { skipped = append(skipped, s) }
	cur := &mam.Cursor{Root: id}
	err := rd.Follow(ctx, cur, 0, func(f mam.Fetched) error {
		schema, raw, err := Decode(f.Message)
		if err != nil {
			return fmt.Errorf("identity: message %d: %w", len(out), err)
		}
		var head struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(raw, &head)
		if (schema != DocumentSchema && schema != UpdateSchema) || head.ID != id {
			return fmt.Errorf("identity: message %d (schema %q, id %.12s…) does not belong to identity %.12s…", len(out), schema, head.ID, id)
		}
		out = append(out, Verified{Schema: schema, Message: raw, Root: f.Root, Address: f.Address, Bundle: f.Bundle, Position: len(out)})
		return nil
	})
	if err != nil {
		return out, skipped, err
	}
	if len(out) == 0 || out[0].Schema != DocumentSchema {
		return out, skipped, fmt.Errorf("identity: no identity document found for %.12s…", id)
	}
	return out, skipped, nil
}
