package helper

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/tanglegate/gateway/mam"
)

// A PositionStore remembers how far an agent has read the gateway channel,
// so a restarted agent does not act on old reactions again.
type PositionStore interface {
	LoadPosition() (mam.Cursor, bool, error)
	SavePosition(mam.Cursor) error
}

// BoltPosition keeps the read position in the "helper" bucket of the
// agent's database (the caller owns the database). Saves are fsynced.
type BoltPosition struct{ DB *bolt.DB }

var (
	positionBucket = []byte("helper")
	positionKey    = []byte("position")
)

// LoadPosition returns the saved position, if any.
func (b BoltPosition) LoadPosition() (mam.Cursor, bool, error) {
	var c mam.Cursor
	var ok bool
	err := b.DB.View(func(tx *bolt.Tx) error {
		bk := tx.Bucket(positionBucket)
		if bk == nil {
			return nil
		}
		v := bk.Get(positionKey)
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &c)
	})
	if err != nil {
		return mam.Cursor{}, false, fmt.Errorf("helper: load read position: %w", err)
	}
	return c, ok, nil
}

// SavePosition stores c durably.
func (b BoltPosition) SavePosition(c mam.Cursor) error {
	v, err := json.Marshal(c)
	if err != nil {
		return err
	}
	err = b.DB.Update(func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists(positionBucket)
		if err != nil {
			return err
		}
		return bk.Put(positionKey, v)
	})
	if err != nil {
		return fmt.Errorf("helper: save read position: %w", err)
	}
	return nil
}
