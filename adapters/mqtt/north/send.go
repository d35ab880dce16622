package north

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	bolt "go.etcd.io/bbolt"
)

// errStore marks failures of the database (fatal), as opposed to the broker.
var errStore = errors.New("northbound store")

// sendLoop connects, sends the store in order, and reconnects with backoff.
func (p *Publisher) sendLoop(ctx context.Context) error {
	wait := p.cfg.RetryMin
	for {
		c, lost, err := p.connect(ctx)
		if err == nil {
			p.connected.Store(true)
			p.log.Info("connected to northbound broker")
			wait = p.cfg.RetryMin
			err = p.drain(ctx, c, lost)
			p.connected.Store(false)
			c.Disconnect(100)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, errStore) {
			return err
		}
		p.log.Warn("northbound broker unavailable, storing messages", "err", err, "retry_in", wait)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		wait = min(2*wait, p.cfg.RetryMax)
	}
}

func (p *Publisher) connect(ctx context.Context) (paho.Client, <-chan error, error) {
	lost := make(chan error, 1)
	o := *p.opts
	o.SetConnectionLostHandler(func(_ paho.Client, err error) {
		select {
		case lost <- err:
		default:
		}
	})
	c := paho.NewClient(&o)
	if err := waitToken(ctx, c.Connect(), p.cfg.Timeout); err != nil {
		c.Disconnect(0)
		return nil, nil, fmt.Errorf("connect to %s: %w", p.cfg.Broker, err)
	}
	return c, lost, nil
}

// waitToken waits for a paho token, ctx or the timeout.
func waitToken(ctx context.Context, t paho.Token, timeout time.Duration) error {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-t.Done():
		return t.Error()
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return errors.New("no answer from broker")
	}
}

// drain sends stored messages, a window at a time, until the connection fails
// or ctx ends.
func (p *Publisher) drain(ctx context.Context, c paho.Client, lost <-chan error) error {
	for {
		keys, entries, err := p.window()
		if err != nil {
			return err
		}
		if len(keys) == 0 {
			select {
			case <-p.wake:
				continue
			case err := <-lost:
				return fmt.Errorf("connection lost: %w", err)
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		tokens := make([]paho.Token, len(entries))
		for i, e := range entries {
			tokens[i] = c.Publish(e.Topic, p.cfg.QoS, e.Retain, e.payload())
		}
		acked, dups := 0, 0
		var sendErr error
		for i, t := range tokens {
			if sendErr = waitToken(ctx, t, p.cfg.Timeout); sendErr != nil {
				break
			}
			acked++
			if entries[i].Attempts > 0 {
				dups++
			}
		}
		if err := p.remove(keys[:acked]); err != nil {
			return err
		}
		p.sent.Add(uint64(acked))
		p.resent.Add(uint64(dups))
		if sendErr != nil {
			return fmt.Errorf("publish: %w", sendErr)
		}
	}
}

// window returns the oldest stored messages (at most Window) and saves
// their attempt counts incremented, so a resend after a failure is flagged.
// The entries returned carry the counts from before.
func (p *Publisher) window() ([][]byte, []entry, error) {
	var keys [][]byte
	var entries []entry
	err := p.db.Update(func(tx *bolt.Tx) error {
		q := tx.Bucket([]byte(BucketName)).Bucket(queueKey)
		c := q.Cursor()
		type upd struct {
			k, v []byte
		}
		var updates []upd
		for k, v := c.First(); k != nil && len(keys) < p.cfg.Window; k, v = c.Next() {
			var e entry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("read stored message: %w", err)
			}
			keys = append(keys, append([]byte(nil), k...))
			entries = append(entries, e)
			e.Attempts++
			nv, err := json.Marshal(e)
			if err != nil {
				return err
			}
			updates = append(updates, upd{keys[len(keys)-1], nv})
		}
		for _, u := range updates {
			if err := q.Put(u.k, u.v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errStore, err)
	}
	return keys, entries, nil
}

// remove deletes acknowledged messages.
func (p *Publisher) remove(keys [][]byte) error {
	if len(keys) == 0 {
		return nil
	}
	err := p.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(BucketName))
		q := b.Bucket(queueKey)
		n := uint64(0)
		for _, k := range keys {
			if q.Get(k) != nil {
				if err := q.Delete(k); err != nil {
					return err
				}
				n++
			}
		}
		return putUint(b, countKey, getUint(b, countKey)-min(n, getUint(b, countKey)))
	})
	if err != nil {
		return fmt.Errorf("%w: %w", errStore, err)
	}
	return nil
}
