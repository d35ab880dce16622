package rules

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Replay evaluates rules against recorded readings without acting: it reads
// CSV rows "time,device,point,value" (a header row is optional; time is
// RFC 3339 or Unix seconds; value is a number, true/false or text), advances a
// virtual clock second by second between rows so timers run, and calls emit for
// every event in order. Rows must be in time order.
func Replay(rules []*Rule, in io.Reader, emit func(Event)) error {
	cr := csv.NewReader(in)
	cr.FieldsPerRecord = 4
	cr.TrimLeadingSpace = true
	cr.Comment = '#'
	var (
		values *Values
		states = map[string]State{}
		clock  time.Time
		line   int
	)
	step := func(r *Rule, now time.Time) {
		s, evs := r.Eval(states[r.Name], values, now)
		states[r.Name] = s
		for _, e := range evs {
			emit(e)
		}
	}
	for {
		rec, err := cr.Read()
		line++
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("readings: %w", err)
		}
		if line == 1 && strings.EqualFold(rec[0], "time") {
			continue
		}
		at, err := parseTime(rec[0])
		if err != nil {
			return fmt.Errorf("readings line %d: time: %w", line, err)
		}
		if values == nil {
			values = NewValues(at)
			for _, r := range rules {
				values.track(r)
			}
			clock = at
		}
		if at.Before(clock) {
			return fmt.Errorf("readings line %d: time %s is before the previous row (%s); sort the file by time", line, at.Format(time.RFC3339), clock.Format(time.RFC3339))
		}
		for t := clock.Truncate(time.Second).Add(time.Second); t.Before(at); t = t.Add(time.Second) {
			for _, r := range rules {
				step(r, t)
			}
		}
		clock = at
		p := PointRef{strings.TrimSpace(rec[1]), strings.TrimSpace(rec[2])}
		values.Set(p, parseValue(rec[3]), at)
		for _, r := range rules {
			step(r, at)
		}
	}
	return nil
}

func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither RFC 3339 nor Unix seconds", s)
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC(), nil
}

func parseValue(s string) any {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "true":
		return true
	case "false":
		return false
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f
	}
	return s
}

// FormatEvent formats an event as one line for `tanglegate rules test`.
func FormatEvent(e Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %-24s %-14s %s", e.At.UTC().Format(time.RFC3339), e.Rule, e.Kind, e.Reaction)
	keys := make([]string, 0, len(e.Values))
	for k := range e.Values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%v", k, e.Values[k])
	}
	for _, a := range e.Actions {
		b.WriteString("  -> ")
		b.WriteString(a.String())
	}
	return b.String()
}

// String describes the action for humans.
func (a Action) String() string {
	switch a.Kind {
	case Notify:
		s := "notify " + a.Helper
		if a.Action != "" {
			s += " " + a.Action
		}
		return s
	case Write:
		return fmt.Sprintf("write %s = %g", a.Point, a.Value)
	default:
		return fmt.Sprintf("mqtt %s %q", a.Topic, a.Payload)
	}
}
