// Package helper is the agent that runs on (or for) a helper device: a
// cooling unit, a maintenance robot, a safety fence. It follows the
// gateway's restricted MAM channel to the helper, runs a handler for every
// reaction it receives, and answers "acknowledged", then "done" or "failed"
// on its own restricted channel, which the gateway follows.
package helper

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tanglegate/gateway/mam"
	"github.com/tanglegate/gateway/rules"
	"github.com/tanglegate/gateway/tangle/trinary"
)

// A Handler carries out one reaction. It returns a short detail for the
// answer, or an error when the helper could not act.
type Handler interface {
	Handle(ctx context.Context, r rules.Reaction) (detail string, err error)
}

// HandlerFunc adapts a function to [Handler].
type HandlerFunc func(ctx context.Context, r rules.Reaction) (string, error)

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, r rules.Reaction) (string, error) { return f(ctx, r) }

// Options configure an [Agent].
type Options struct {
	Name        string        // the helper's name, as the gateway config calls it
	GatewayRoot string        // root of the gateway's channel to this helper
	SideKey     string        // side key shared with the gateway (up to 81 trytes)
	Poll        time.Duration // how often to look for new reactions (default 1s)
	Now         func() time.Time
	// Position, when set, keeps the read position across restarts, so old
	// reactions are not handled again. A crash between handling a reaction
	// and saving the position handles that one reaction again (at least once).
	Position PositionStore
}

// Agent follows a gateway channel and answers reactions.
type Agent struct {
	opt      Options
	node     mam.Node
	pub      mam.Publisher
	channels *mam.Store
	handler  Handler
	log      *slog.Logger
	cursor   mam.Cursor
	channel  string // our answer channel's name in the store
}

// AnswerChannel is the store name of the agent's answer channel.
const AnswerChannel = "answers"

// AnswerRoot returns the root of the answer channel an agent with seed and
// sideKey creates: what the gateway configuration names as the helper's
// channel root (helpers[].channel.root).
func AnswerRoot(seed, sideKey string) (string, error) {
	c, err := newAnswerChannel(seed, sideKey)
	if err != nil {
		return "", err
	}
	return c.Root()
}

func newAnswerChannel(seed, sideKey string) (mam.Channel, error) {
	c, err := mam.NewChannel(seed, mam.Restricted, trinary.Pad(sideKey, trinary.HashTrytes), 1)
	if err != nil {
		return mam.Channel{}, err
	}
	return c.WithTreeSize(8)
}

// New returns an agent that reads reactions through node, publishes answers
// through pub, and keeps its own channel state (crash-safe) in channels. The
// answer channel is created from seed the first time.
func New(opt Options, seed string, node mam.Node, pub mam.Publisher, channels *mam.Store, h Handler, log *slog.Logger) (*Agent, error) {
	if opt.Poll <= 0 {
		opt.Poll = time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if len(opt.SideKey) == 0 || len(opt.SideKey) > trinary.HashTrytes || trinary.ValidTrytes(opt.SideKey) != nil {
		return nil, fmt.Errorf("helper %s: side key must be 1 to 81 trytes", opt.Name)
	}
	opt.SideKey = trinary.Pad(opt.SideKey, trinary.HashTrytes)
	if _, err := channels.Get(AnswerChannel); errors.Is(err, mam.ErrNoChannel) {
		c, err := newAnswerChannel(seed, opt.SideKey)
		if err != nil {
			return nil, fmt.Errorf("helper %s: answer channel: %w", opt.Name, err)
		}
		if err := channels.Create(AnswerChannel, c); err != nil {
			return nil, fmt.Errorf("helper %s: answer channel: %w", opt.Name, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("helper %s: answer channel: %w", opt.Name, err)
	}
	a := &Agent{
		opt: opt, node: node, pub: pub, channels: channels, handler: h, log: log,
		cursor: mam.Cursor{Root: opt.GatewayRoot}, channel: AnswerChannel,
	}
	if opt.Position != nil {
		c, ok, err := opt.Position.LoadPosition()
		if err != nil {
			return nil, err
		}
		if ok && c.Root != "" {
			a.cursor = c
		}
	}
	return a, nil
}

// Root returns the root of the agent's answer channel's first tree: the
// gateway's config names it as helpers[].channel.root.
func (a *Agent) Root() (string, error) {
	c, err := a.channels.Get(a.channel)
	if err != nil {
		return "", err
	}
	c.Start, c.Index = 0, 0
	return c.Root()
}

// Run polls the gateway channel until ctx ends.
func (a *Agent) Run(ctx context.Context) error {
	t := time.NewTicker(a.opt.Poll)
	defer t.Stop()
	for {
		if err := a.Poll(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("read reactions", "helper", a.opt.Name, "err", err)
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Poll reads the reactions that arrived since the last call and handles them.
func (a *Agent) Poll(ctx context.Context) error {
	rd := &mam.Reader{Node: a.node, Mode: mam.Restricted, SideKey: a.opt.SideKey, OnSkip: func(s mam.Skipped) {
		a.log.Debug("skipped data on the gateway channel", "helper", a.opt.Name, "address", s.Address, "err", s.Err)
	}}
	return rd.Follow(ctx, &a.cursor, 8, func(f mam.Fetched) error {
		raw, err := mam.DecodeJSON(f.Message)
		if err != nil {
			a.log.Warn("unreadable reaction", "helper", a.opt.Name, "err", err)
			return nil
		}
		var r rules.Reaction
		if err := json.Unmarshal(raw, &r); err != nil || r.Schema != rules.ReactionSchema {
			a.log.Warn("unexpected message on the gateway channel", "helper", a.opt.Name, "schema", r.Schema)
			return nil
		}
		if err := a.handle(ctx, r); err != nil {
			return err
		}
		return a.savePosition(f)
	})
}

// savePosition records that the message f has been handled. Follow marks it
// seen only after the callback returns, so the saved cursor includes it here.
func (a *Agent) savePosition(f mam.Fetched) error {
	if a.opt.Position == nil {
		return nil
	}
	c := mam.Cursor{Root: a.cursor.Root, Seen: map[int]bool{f.Index: true}}
	for i := range a.cursor.Seen {
		c.Seen[i] = true
	}
	if f.Root != c.Root { // Follow moved on to the next tree
		c = mam.Cursor{Root: f.Root, Seen: map[int]bool{f.Index: true}}
	}
	return a.opt.Position.SavePosition(c)
}

func (a *Agent) handle(ctx context.Context, r rules.Reaction) error {
	log := a.log.With("helper", a.opt.Name, "reaction", r.Reaction, "action", r.Action)
	if r.Event == rules.Resolved {
		log.Info("reaction resolved by the gateway")
		return nil
	}
	if err := a.answer(ctx, r.Reaction, rules.AnswerAcknowledged, ""); err != nil {
		return err
	}
	log.Info("reaction acknowledged")
	detail, err := a.handler.Handle(ctx, r)
	status := rules.AnswerDone
	if err != nil {
		status, detail = rules.AnswerFailed, err.Error()
		log.Warn("reaction failed", "err", err)
	} else {
		log.Info("reaction done", "detail", detail)
	}
	return a.answer(ctx, r.Reaction, status, detail)
}

func (a *Agent) answer(ctx context.Context, reaction, status, detail string) error {
	payload, err := mam.EncodeJSON(rules.Answer{Schema: rules.AnswerSchema, Reaction: reaction, Helper: a.opt.Name, Status: status, Detail: detail, At: a.opt.Now().UTC()})
	if err != nil {
		return err
	}
	msg, err := a.channels.Next(a.channel, payload) // index committed before the message leaves
	if err != nil {
		return fmt.Errorf("sign answer: %w", err)
	}
	trytes, _, err := mam.Bundle(msg, mam.MessageTag("TANGLEGATE9ANSWER", msg), a.opt.Now())
	if err != nil {
		return err
	}
	if err := a.pub.Publish(ctx, trytes); err != nil {
		return fmt.Errorf("publish answer: %w", err)
	}
	return nil
}
