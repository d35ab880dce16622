package mqtt

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/config"
)

// format says how a topic's payloads are read.
type format uint8

const (
	formatJSON format = iota
	formatPlain
	formatKV
)

// field is one point read from a JSON or key=value payload.
type field struct {
	point string
	unit  string
	key   string            // kv key
	path  []config.JSONStep // json path
}

// route is one compiled topics[] entry: a filter and how to read its payloads.
type route struct {
	filter []string // filter levels
	device string   // template
	point  string   // template (plain)
	unit   string   // plain
	format format
	fields []field // sorted by point name
}

// compile turns a validated topic entry into a route.
func compile(t config.MQTTTopic) (*route, error) {
	r := &route{filter: strings.Split(t.Topic, "/"), device: t.Device, point: t.Point, unit: t.Unit}
	switch {
	case len(t.JSON) > 0:
		r.format = formatJSON
		for name, p := range t.JSON {
			steps, err := config.ParseJSONPath(p)
			if err != nil {
				return nil, fmt.Errorf("topic %s: point %s: %w", t.Topic, name, err)
			}
			r.fields = append(r.fields, field{point: name, unit: t.Units[name], path: steps})
		}
	case len(t.KV) > 0:
		r.format = formatKV
		for name, k := range t.KV {
			r.fields = append(r.fields, field{point: name, unit: t.Units[name], key: k})
		}
	case t.Value == "plain":
		r.format = formatPlain
	default:
		return nil, fmt.Errorf("topic %s: no payload format", t.Topic)
	}
	slices.SortFunc(r.fields, func(a, b field) int { return strings.Compare(a.point, b.point) })
	return r, nil
}

// match reports whether topic matches the filter levels, returning the
// levels matched by wildcards ("#" yields the rest joined by "/").
func match(filter []string, topic string) ([]string, bool) {
	levels := strings.Split(topic, "/")
	var caps []string
	for i, f := range filter {
		if f == "#" {
			// "a/#" also matches "a" itself (the parent level).
			return append(caps, strings.Join(levels[i:], "/")), true
		}
		if i >= len(levels) {
			return nil, false
		}
		if f == "+" {
			caps = append(caps, levels[i])
		} else if f != levels[i] {
			return nil, false
		}
	}
	return caps, len(levels) == len(filter)
}

// expand fills {n} in tmpl with caps[n-1]; def is used when tmpl is empty.
func expand(tmpl, def string, caps []string) string {
	if tmpl == "" {
		return def
	}
	if !strings.Contains(tmpl, "{") {
		return tmpl
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		b.WriteString(tmpl[:i])
		n, err := strconv.Atoi(tmpl[i+1 : i+j])
		if err == nil && n >= 1 && n <= len(caps) {
			b.WriteString(caps[n-1])
		} else {
			b.WriteString(tmpl[i : i+j+1])
		}
		tmpl = tmpl[i+j+1:]
	}
}

// extract reads the readings of one message on topic (already matched, with
// wildcard captures caps). It returns the readings it could read and an error
// naming every point it could not; a reading is never made up.
func (r *route) extract(device, topic string, caps []string, payload []byte, now time.Time) ([]adapters.Reading, error) {
	dev := expand(r.device, device, caps)
	if r.device != "" && strings.Contains(r.device, "{") {
		if err := config.CheckIdent("device", dev); err != nil {
			return nil, fmt.Errorf("topic %s does not give a usable device name: %w", topic, err)
		}
	}
	mk := func(point, unit string, v adapters.Value) adapters.Reading {
		return adapters.Reading{Device: dev, Point: point, Value: v, Unit: unit, Quality: adapters.Good, Gateway: now}
	}
	switch r.format {
	case formatPlain:
		last := topic[strings.LastIndexByte(topic, '/')+1:]
		point := expand(r.point, last, caps)
		if r.point == "" || strings.Contains(r.point, "{") {
			if err := config.CheckIdent("point", point); err != nil {
				return nil, fmt.Errorf("topic %s does not give a usable point name: %w", topic, err)
			}
		}
		v, err := parseScalar(strings.TrimSpace(string(payload)))
		if err != nil {
			return nil, fmt.Errorf("point %s: %w", point, err)
		}
		return []adapters.Reading{mk(point, r.unit, v)}, nil
	case formatKV:
		kv, err := parseKV(payload)
		if err != nil {
			return nil, err
		}
		var rs []adapters.Reading
		var errs []error
		for _, f := range r.fields {
			s, ok := kv[f.key]
			if !ok {
				errs = append(errs, fmt.Errorf("point %s: key %q missing", f.point, f.key))
				continue
			}
			v, err := parseScalar(s)
			if err != nil {
				errs = append(errs, fmt.Errorf("point %s: key %s: %w", f.point, f.key, err))
				continue
			}
			rs = append(rs, mk(f.point, f.unit, v))
		}
		return rs, errors.Join(errs...)
	default:
		var doc any
		if err := json.Unmarshal(payload, &doc); err != nil {
			return nil, fmt.Errorf("payload is not JSON: %w", err)
		}
		var rs []adapters.Reading
		var errs []error
		for _, f := range r.fields {
			v, err := jsonValue(doc, f.path)
			if err != nil {
				errs = append(errs, fmt.Errorf("point %s: %w", f.point, err))
				continue
			}
			rs = append(rs, mk(f.point, f.unit, v))
		}
		return rs, errors.Join(errs...)
	}
}

// parseScalar reads a plain value: a number, or true/false/on/off.
func parseScalar(s string) (adapters.Value, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return adapters.Number(f), nil
	}
	switch strings.ToLower(s) {
	case "true", "on":
		return adapters.Bool(true), nil
	case "false", "off":
		return adapters.Bool(false), nil
	}
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return adapters.Value{}, fmt.Errorf("%q is not a number or true/false", s)
}

// parseKV splits "a=1 b=2", "a=1,b=2", "a=1;b=2" or "a=1&b=2" into a map.
func parseKV(payload []byte) (map[string]string, error) {
	out := map[string]string{}
	fields := strings.FieldsFunc(string(payload), func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == ',' || r == ';' || r == '&'
	})
	for _, f := range fields {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("key=value payload: %q is not key=value", f)
		}
		out[k] = v
	}
	if len(out) == 0 {
		return nil, errors.New("key=value payload is empty")
	}
	return out, nil
}

// jsonValue follows path through a decoded JSON document.
func jsonValue(doc any, path []config.JSONStep) (adapters.Value, error) {
	cur := doc
	for _, s := range path {
		if s.IsIndex {
			arr, ok := cur.([]any)
			if !ok || s.Index >= len(arr) {
				return adapters.Value{}, fmt.Errorf("JSON path: no element [%d]", s.Index)
			}
			cur = arr[s.Index]
			continue
		}
		obj, ok := cur.(map[string]any)
		if !ok {
			return adapters.Value{}, fmt.Errorf("JSON path: no object for key %q", s.Key)
		}
		if cur, ok = obj[s.Key]; !ok {
			return adapters.Value{}, fmt.Errorf("JSON path: key %q missing", s.Key)
		}
	}
	switch v := cur.(type) {
	case float64:
		return adapters.Number(v), nil
	case bool:
		return adapters.Bool(v), nil
	case string:
		if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
			return adapters.Number(f), nil
		}
		return adapters.String(v), nil
	case nil:
		return adapters.Value{}, errors.New("JSON value is null")
	default:
		return adapters.Value{}, fmt.Errorf("JSON value is an %s, not a number, boolean or string", jsonKind(v))
	}
}

func jsonKind(v any) string {
	if _, ok := v.([]any); ok {
		return "array"
	}
	return "object"
}
