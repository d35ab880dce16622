package mam

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"go.etcd.io/bbolt"
)

// BucketName is the only bbolt bucket a [Store] touches.
const BucketName = "mam"

// Errors returned by [Store].
var (
	ErrNoChannel     = errors.New("mam: no such channel")
	ErrChannelExists = errors.New("mam: channel already exists")
)

// Store keeps channel states in the "mam" bucket of a bbolt database that
// the caller owns (opens and closes), so the gateway can share one file.
// It is safe for concurrent use (bbolt serialises writers).
//
// Crash safety: [Store.Next] commits the advanced state (fsynced by bbolt)
// before it returns the message, so a message can only leave the process
// after its key index is durably used up. A crash may skip an index, never
// reuse one.
type Store struct {
	db *bbolt.DB
}

// record is what the store saves per channel.
type record struct {
	Channel Channel  `json:"channel"`
	Last    *Message `json:"last,omitempty"` // the last message handed out, for identical re-sends
}

// NewStore creates the "mam" bucket if needed and returns a store on db.
func NewStore(db *bbolt.DB) (*Store, error) {
	err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists([]byte(BucketName))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("mam: create bucket %q: %w", BucketName, err)
	}
	return &Store{db: db}, nil
}

func channelKey(name string) []byte { return []byte("channel/" + name) }

func get(b *bbolt.Bucket, name string) (record, error) {
	v := b.Get(channelKey(name))
	if v == nil {
		return record{}, fmt.Errorf("%w: %q", ErrNoChannel, name)
	}
	var r record
	if err := json.Unmarshal(v, &r); err != nil {
		return record{}, fmt.Errorf("mam: decode channel %q: %w", name, err)
	}
	return r, nil
}

func put(b *bbolt.Bucket, name string, r record) error {
	v, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("mam: encode channel %q: %w", name, err)
	}
	return b.Put(channelKey(name), v)
}

// Create saves a new channel under name. It fails with [ErrChannelExists]
// rather than overwrite a channel (which would reuse its keys).
func (s *Store) Create(name string, c Channel) error {
	if name == "" {
		return fmt.Errorf("mam: create channel: empty name")
	}
	if err := c.Validate(); err != nil {
		return fmt.Errorf("mam: create channel %q: %w", name, err)
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(BucketName))
		if b.Get(channelKey(name)) != nil {
			return fmt.Errorf("%w: %q", ErrChannelExists, name)
		}
		return put(b, name, record{Channel: c})
	})
}

// Get returns the saved state of channel name.
func (s *Store) Get(name string) (Channel, error) {
	var r record
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		r, err = get(tx.Bucket([]byte(BucketName)), name)
		return err
	})
	return r.Channel, err
}

// Last returns the last message [Store.Next] handed out for name (ok false
// if none). Re-sending exactly this payload is safe; signing anything else
// with its index is not.
func (s *Store) Last(name string) (msg Message, ok bool, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error {
		r, err := get(tx.Bucket([]byte(BucketName)), name)
		if err != nil {
			return err
		}
		if r.Last != nil {
			msg, ok = *r.Last, true
		}
		return nil
	})
	return msg, ok, err
}

// Names lists the saved channels in order.
func (s *Store) Names() ([]string, error) {
	var names []string
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket([]byte(BucketName)).Cursor()
		prefix := []byte("channel/")
		for k, _ := c.Seek(prefix); k != nil && len(k) >= len(prefix) && string(k[:len(prefix)]) == string(prefix); k, _ = c.Next() {
			names = append(names, string(k[len(prefix):]))
		}
		return nil
	})
	sort.Strings(names)
	return names, err
}

// Next creates the next message of channel name and durably saves the
// advanced state in the same bbolt transaction. It returns only after the
// commit (fsync), so the caller may then publish msg. If the commit fails no
// message is returned.
func (s *Store) Next(name, message string) (Message, error) {
	var msg Message
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(BucketName))
		r, err := get(b, name)
		if err != nil {
			return err
		}
		m, next, err := r.Channel.Next(message)
		if err != nil {
			return fmt.Errorf("mam: channel %q: %w", name, err)
		}
		if err := put(b, name, record{Channel: next, Last: &m}); err != nil {
			return err
		}
		msg = m
		return nil
	})
	if err != nil {
		return Message{}, err
	}
	return msg, nil
}
