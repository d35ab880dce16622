package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/config"
	"github.com/tanglegate/gateway/identity"
	"github.com/tanglegate/gateway/mam"
	"github.com/tanglegate/gateway/rules"
	"github.com/tanglegate/gateway/tangle/trinary"
)

// reactions carries out rule events: MAM messages to helpers on their
// restricted channels, point writes, and an audit channel entry for every
// event; it follows each helper's answer channel and acknowledges reactions
// to the rules engine. It implements rules.Dispatcher.
type reactions struct {
	g   *gateway
	log *slog.Logger

	mu      sync.Mutex
	helpers map[string]helperLink
	status  map[string]string // reaction -> latest outcome
}

// helperLink is what the gateway knows of one helper.
type helperLink struct {
	name    string
	out     string // our MAM channel to the helper (store name)
	sideKey string
	answers string // root of the helper's answer channel
	cursor  *mam.Cursor
}

const auditChannel = "audit"

func newReactions(g *gateway, cfg *config.Config) (*reactions, error) {
	r := &reactions{g: g, log: g.log.With("component", "reactions"), helpers: map[string]helperLink{}, status: map[string]string{}}
	if err := r.ensureChannel(auditChannel, mam.Private, "", identity.Key{Adapter: "audit", Address: cfg.Gateway.Name}); err != nil {
		return nil, err
	}
	if err := r.reload(cfg); err != nil {
		return nil, err
	}
	return r, nil
}

// ensureChannel creates a gateway channel (seed derived from the gateway seed) unless it exists.
func (r *reactions) ensureChannel(name string, mode mam.Mode, sideKey string, key identity.Key) error {
	if _, err := r.g.channels.Get(name); err == nil {
		return nil
	}
	seed, err := identity.DeviceSeed(r.g.seed, key)
	if err != nil {
		return err
	}
	c, err := mam.NewChannel(seed, mode, sideKey, 1)
	if err != nil {
		return fmt.Errorf("channel %s: %w", name, err)
	}
	if c, err = c.WithTreeSize(8); err != nil {
		return fmt.Errorf("channel %s: %w", name, err)
	}
	if err := r.g.channels.Create(name, c); err != nil && !errors.Is(err, mam.ErrChannelExists) {
		return fmt.Errorf("channel %s: %w", name, err)
	}
	return nil
}

// helperSideKey reads a helper's side key file (required).
func helperSideKey(path string) (string, error) {
	k, err := readSideKey(path)
	if err != nil {
		return "", err
	}
	if k == "" {
		return "", errors.New("side_key_file is required for a helper channel")
	}
	return trinary.Pad(k, trinary.HashTrytes), nil
}

// check validates the helpers of cfg without changing anything.
func (r *reactions) check(cfg *config.Config) error {
	var errs []error
	for _, h := range cfg.Helpers {
		if _, err := helperSideKey(h.Channel.SideKeyFile); err != nil {
			errs = append(errs, fmt.Errorf("helper %s: %w", h.Name, err))
		}
	}
	return errors.Join(errs...)
}

func (r *reactions) reload(cfg *config.Config) error {
	links := map[string]helperLink{}
	for _, h := range cfg.Helpers {
		key, err := helperSideKey(h.Channel.SideKeyFile)
		if err != nil {
			return fmt.Errorf("helper %s: %w", h.Name, err)
		}
		name := "helper/" + h.Name
		if err := r.ensureChannel(name, mam.Restricted, key, identity.Key{Adapter: "helper", Address: h.Name}); err != nil {
			return err
		}
		r.mu.Lock()
		old, ok := r.helpers[h.Name]
		r.mu.Unlock()
		cur := &mam.Cursor{Root: h.Channel.Root}
		if ok && old.answers == h.Channel.Root {
			cur = old.cursor
		}
		links[h.Name] = helperLink{name: h.Name, out: name, sideKey: key, answers: h.Channel.Root, cursor: cur}
	}
	r.mu.Lock()
	r.helpers = links
	r.mu.Unlock()
	return nil
}

// HelperRoot returns the root of the gateway's channel to helper (what the
// helper's configuration must follow).
func (r *reactions) HelperRoot(helper string) (string, error) {
	c, err := r.g.channels.Get("helper/" + helper)
	if err != nil {
		return "", err
	}
	return c.Root()
}

// Dispatch carries out one rule event (rules.Dispatcher).
func (r *reactions) Dispatch(ctx context.Context, e rules.Event) error {
	var errs []error
	var done []string
	for _, a := range e.Actions {
		var err error
		switch a.Kind {
		case rules.Notify:
			err = r.notify(ctx, e, a)
		case rules.Write:
			err = r.g.devices.Write(ctx, a.Point.Device, a.Point.Point, adapters.Number(a.Value))
		case rules.MQTT:
			err = r.g.publishMQTT(ctx, a.Topic, expandPayload(a.Payload, e))
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", a, err))
			continue
		}
		done = append(done, a.String())
	}
	r.mu.Lock()
	r.status[e.Reaction] = string(e.Kind)
	r.mu.Unlock()
	if err := r.audit(ctx, rules.Audit{Reaction: e.Reaction, Rule: e.Rule, Event: string(e.Kind), Severity: e.Severity, Actions: done, Values: e.Values, At: e.At}); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func expandPayload(p string, e rules.Event) string {
	return strings.NewReplacer("{{rule}}", e.Rule, "{{reaction}}", e.Reaction, "{{event}}", string(e.Kind)).Replace(p)
}

func (r *reactions) notify(ctx context.Context, e rules.Event, a rules.Action) error {
	r.mu.Lock()
	h, ok := r.helpers[a.Helper]
	r.mu.Unlock()
	if !ok {
		return fmt.Errorf("no helper %q configured", a.Helper)
	}
	devices := map[string]string{}
	for k := range e.Values {
		dev, _, _ := strings.Cut(k, ".")
		if rec, err := r.g.ids.Get(dev); err == nil {
			devices[dev] = rec.ID
		}
	}
	msg := rules.Reaction{
		Schema: rules.ReactionSchema, Reaction: e.Reaction, Rule: e.Rule, Event: e.Kind, Severity: e.Severity,
		Gateway: r.g.config().Gateway.Name, Devices: devices, Values: e.Values, Action: a.Action, Params: a.Params, At: e.At,
	}
	return r.publish(ctx, h.out, msg, "TANGLEGATE9REACTION")
}

func (r *reactions) audit(ctx context.Context, a rules.Audit) error {
	a.Schema = rules.AuditSchema
	if a.At.IsZero() {
		a.At = r.g.opts.now()
	}
	return r.publish(ctx, auditChannel, a, "TANGLEGATE9AUDIT")
}

// publish signs the next message of channel (its index committed first) and queues the bundle.
func (r *reactions) publish(ctx context.Context, channel string, v any, tag string) error {
	payload, err := mam.EncodeJSON(v)
	if err != nil {
		return err
	}
	msg, err := r.g.channels.Next(channel, payload)
	if err != nil {
		return fmt.Errorf("sign message on %s: %w", channel, err)
	}
	trytes, _, err := mam.Bundle(msg, mam.MessageTag(tag, msg), r.g.opts.now())
	if err != nil {
		return err
	}
	return r.g.queue.Enqueue(ctx, trytes)
}

// Run follows every helper's answer channel on the local node until ctx ends.
func (r *reactions) Run(ctx context.Context) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
		r.mu.Lock()
		links := make([]helperLink, 0, len(r.helpers))
		for _, h := range r.helpers {
			links = append(links, h)
		}
		r.mu.Unlock()
		for _, h := range links {
			r.pollAnswers(ctx, h)
		}
	}
}

func (r *reactions) pollAnswers(ctx context.Context, h helperLink) {
	rd := &mam.Reader{Node: localNode{r.g.store}, Mode: mam.Restricted, SideKey: h.sideKey}
	err := rd.Follow(ctx, h.cursor, 4, func(f mam.Fetched) error {
		raw, err := mam.DecodeJSON(f.Message)
		if err != nil {
			r.log.Warn("unreadable helper answer", "helper", h.name, "err", err)
			return nil
		}
		var a rules.Answer
		if err := json.Unmarshal(raw, &a); err != nil || a.Schema != rules.AnswerSchema {
			r.log.Warn("unexpected message on helper channel", "helper", h.name, "schema", a.Schema)
			return nil
		}
		r.log.Info("helper answered", "helper", h.name, "reaction", a.Reaction, "status", a.Status)
		if r.g.opts.onAnswer != nil {
			r.g.opts.onAnswer(h.name, a)
		}
		if a.Status == rules.AnswerAcknowledged {
			if err := r.g.engine.Ack(a.Reaction); err != nil {
				r.log.Warn("ack reaction", "helper", h.name, "err", err)
			}
		}
		r.mu.Lock()
		r.status[a.Reaction] = a.Status
		r.mu.Unlock()
		rule, _, _ := strings.Cut(a.Reaction, "#")
		return r.audit(ctx, rules.Audit{Reaction: a.Reaction, Rule: rule, Event: a.Status, Helper: h.name, Detail: a.Detail, At: a.At})
	})
	if err != nil && ctx.Err() == nil {
		r.log.Debug("follow helper answers", "helper", h.name, "err", err)
	}
}

// Status returns the latest outcome of every reaction seen since start.
func (r *reactions) Status() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]string, len(r.status))
	for k, v := range r.status {
		out[k] = v
	}
	return out
}
