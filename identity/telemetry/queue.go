package telemetry

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// BucketName is the bbolt bucket this package owns: one sub-bucket per
// stream holding its meta record and its queue of batches.
const BucketName = "telemetry"

var (
	metaKey  = []byte("meta")
	queueKey = []byte("q")
)

// Info describes a stream as saved in the gateway database.
type Info struct {
	Name    string   `json:"name"`
	Root    string   `json:"root"` // first root of the stream's channel
	Mode    string   `json:"mode"`
	Channel string   `json:"channel"` // name in the MAM store
	Devices []string `json:"devices"`
}

// meta is a stream's persistent record: what it is and its counters.
type meta struct {
	Info
	NextSeq          uint64 `json:"next_seq"`
	LastEnqueuedLeaf int    `json:"last_enqueued_leaf"` // -1: none
	Counters         Stats  `json:"counters"`
}

// queue is the durable queue of one stream in the telemetry bucket.
type queue struct {
	db   *bolt.DB
	name []byte
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// open creates the stream's buckets and meta record if needed, updating its
// description (devices may change across reloads).
func (q *queue) open(info Info) (meta, error) {
	var m meta
	err := q.db.Update(func(tx *bolt.Tx) error {
		top, err := tx.CreateBucketIfNotExists([]byte(BucketName))
		if err != nil {
			return err
		}
		b, err := top.CreateBucketIfNotExists(q.name)
		if err != nil {
			return err
		}
		if _, err := b.CreateBucketIfNotExists(queueKey); err != nil {
			return err
		}
		if v := b.Get(metaKey); v != nil {
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("read meta: %w", err)
			}
		} else {
			m = meta{NextSeq: 1, LastEnqueuedLeaf: -1}
		}
		m.Info = info
		return putMeta(b, m)
	})
	if err != nil {
		return meta{}, fmt.Errorf("telemetry: open stream %s: %w", q.name, err)
	}
	return m, nil
}

func putMeta(b *bolt.Bucket, m meta) error {
	v, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return b.Put(metaKey, v)
}

// update runs fn on the stream's bucket and meta, saving meta afterwards.
func (q *queue) update(fn func(b, qb *bolt.Bucket, m *meta) error) error {
	return q.db.Update(func(tx *bolt.Tx) error {
		top := tx.Bucket([]byte(BucketName))
		if top == nil || top.Bucket(q.name) == nil {
			return errors.New("stream bucket is missing")
		}
		b := top.Bucket(q.name)
		var m meta
		if err := json.Unmarshal(b.Get(metaKey), &m); err != nil {
			return fmt.Errorf("read meta: %w", err)
		}
		if err := fn(b, b.Bucket(queueKey), &m); err != nil {
			return err
		}
		return putMeta(b, m)
	})
}

// push appends a closed batch, or coalesces it into the newest queued batch
// when maxQueue batches are waiting. It reports whether it coalesced.
func (q *queue) push(msg *Message, maxQueue int, policy Policy) (coalesced bool, err error) {
	n := msg.Count()
	err = q.update(func(_, qb *bolt.Bucket, m *meta) error {
		m.Counters.Batches++
		m.Counters.Accepted += n
		if m.Counters.Queued >= maxQueue {
			k, v := qb.Cursor().Last()
			if k == nil {
				return errors.New("queue is empty but counted full")
			}
			var tail Message
			if err := json.Unmarshal(v, &tail); err != nil {
				return fmt.Errorf("read batch %d: %w", binary.BigEndian.Uint64(k), err)
			}
			before := tail.Coalesced
			coalesce(&tail, msg, policy)
			b, err := tail.Encode()
			if err != nil {
				return err
			}
			m.Counters.CoalescedBatches++
			m.Counters.CoalescedReadings += tail.Coalesced - before
			m.Counters.QueuedReadings += n
			coalesced = true
			return qb.Put(k, b)
		}
		msg.Seq = m.NextSeq
		b, err := msg.Encode()
		if err != nil {
			return err
		}
		m.NextSeq++
		m.Counters.Queued++
		m.Counters.QueuedReadings += n
		return qb.Put(seqKey(msg.Seq), b)
	})
	if err != nil {
		return false, fmt.Errorf("telemetry: queue batch of stream %s: %w", q.name, err)
	}
	return coalesced, nil
}

// head returns the oldest queued batch.
func (q *queue) head() (*Message, bool, error) {
	var msg *Message
	err := q.db.View(func(tx *bolt.Tx) error {
		qb := tx.Bucket([]byte(BucketName)).Bucket(q.name).Bucket(queueKey)
		k, v := qb.Cursor().First()
		if k == nil {
			return nil
		}
		msg = new(Message)
		if err := json.Unmarshal(v, msg); err != nil {
			return fmt.Errorf("read batch %d: %w", binary.BigEndian.Uint64(k), err)
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("telemetry: stream %s: %w", q.name, err)
	}
	return msg, msg != nil, nil
}

// signed records that the batch seq went out as the channel's message leaf:
// it leaves the queue.
func (q *queue) signed(seq uint64) error {
	err := q.update(func(_, qb *bolt.Bucket, m *meta) error {
		v := qb.Get(seqKey(seq))
		if v == nil {
			return nil // already recorded (recovery after a crash)
		}
		var msg Message
		if err := json.Unmarshal(v, &msg); err != nil {
			return fmt.Errorf("read batch %d: %w", seq, err)
		}
		n := msg.Count()
		m.Counters.Messages++
		m.Counters.PublishedReadings += n
		m.Counters.PublishedCoalesced += msg.Coalesced
		m.Counters.Queued--
		m.Counters.QueuedReadings -= n
		return qb.Delete(seqKey(seq))
	})
	if err != nil {
		return fmt.Errorf("telemetry: stream %s: record signed batch %d: %w", q.name, seq, err)
	}
	return nil
}

// enqueued records that the message with key index leaf is in the node's queue.
func (q *queue) enqueued(leaf int) error {
	err := q.update(func(_, _ *bolt.Bucket, m *meta) error {
		if leaf > m.LastEnqueuedLeaf {
			m.LastEnqueuedLeaf = leaf
			m.Counters.Enqueued++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("telemetry: stream %s: record enqueued message: %w", q.name, err)
	}
	return nil
}

// meta returns the stream's record.
func (q *queue) meta() (meta, error) {
	var m meta
	err := q.db.View(func(tx *bolt.Tx) error {
		return json.Unmarshal(tx.Bucket([]byte(BucketName)).Bucket(q.name).Get(metaKey), &m)
	})
	if err != nil {
		return meta{}, fmt.Errorf("telemetry: stream %s: read meta: %w", q.name, err)
	}
	return m, nil
}

// Streams lists the streams saved in db, sorted by name (none when the
// bucket does not exist). It only reads.
func Streams(db *bolt.DB) ([]Info, error) {
	var out []Info
	err := db.View(func(tx *bolt.Tx) error {
		top := tx.Bucket([]byte(BucketName))
		if top == nil {
			return nil
		}
		return top.ForEachBucket(func(k []byte) error {
			var m meta
			if err := json.Unmarshal(top.Bucket(k).Get(metaKey), &m); err != nil {
				return fmt.Errorf("stream %s: %w", k, err)
			}
			out = append(out, m.Info)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("telemetry: list streams: %w", err)
	}
	return out, nil
}
