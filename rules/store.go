package rules

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

var bucketRules = []byte("rules")

// BoltStore keeps rule states in the "rules" bucket of the gateway database.
// The caller owns (opens and closes) the database.
type BoltStore struct{ DB *bolt.DB }

// LoadStates returns every saved rule state.
func (b BoltStore) LoadStates() (map[string]State, error) {
	out := map[string]State{}
	err := b.DB.View(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketRules)
		if bk == nil {
			return nil
		}
		return bk.ForEach(func(k, v []byte) error {
			var s State
			if err := json.Unmarshal(v, &s); err != nil {
				return fmt.Errorf("rule %q: %w", k, err)
			}
			out[string(k)] = s
			return nil
		})
	})
	return out, err
}

// SaveState stores the state of one rule durably (the commit is fsynced).
func (b BoltStore) SaveState(rule string, s State) error {
	v, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return b.DB.Update(func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists(bucketRules)
		if err != nil {
			return err
		}
		return bk.Put([]byte(rule), v)
	})
}

// MemStore keeps rule states in memory (for `rules test` and tests).
type MemStore map[string]State

// LoadStates returns a copy of the states.
func (m MemStore) LoadStates() (map[string]State, error) {
	out := map[string]State{}
	for k, v := range m {
		out[k] = v
	}
	return out, nil
}

// SaveState records s.
func (m MemStore) SaveState(rule string, s State) error { m[rule] = s; return nil }
