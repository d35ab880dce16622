package rules

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/tanglegate/gateway/config"
)

// Spec is one rule as written in a rules file.
type Spec struct {
	Rule              string       `yaml:"rule"`
	When              string       `yaml:"when"`
	Any               []string     `yaml:"any"`
	All               []string     `yaml:"all"`
	For               string       `yaml:"for"`
	ClearWhen         string       `yaml:"clear_when"`
	Cooldown          string       `yaml:"cooldown"`
	Severity          string       `yaml:"severity"`
	AbsentFor         *AbsentSpec  `yaml:"absent_for"`
	Then              []ActionSpec `yaml:"then"`
	UnacknowledgedFor string       `yaml:"unacknowledged_for"`
	ElseThen          []ActionSpec `yaml:"else_then"`
	UnresolvedFor     string       `yaml:"unresolved_for"`
	Escalate          []ActionSpec `yaml:"escalate"`
}

// AbsentSpec is the absent_for watchdog as written.
type AbsentSpec struct {
	Point    string `yaml:"point"`
	Duration string `yaml:"duration"`
}

// ActionSpec is one action as written: exactly one of notify, write or mqtt.
type ActionSpec struct {
	Notify string         `yaml:"notify"`
	Action string         `yaml:"action"`
	Params map[string]any `yaml:"params"`
	Write  string         `yaml:"write"` // "device.point = value"
	MQTT   *MQTTSpec      `yaml:"mqtt"`
}

// MQTTSpec is an mqtt action as written.
type MQTTSpec struct {
	Topic   string `yaml:"topic"`
	Payload string `yaml:"payload"`
}

// Env is what rules are checked against: the configured points and helpers.
type Env struct {
	Points  Points
	Helpers []string
}

// LoadFiles loads and compiles every rule in the files matching glob. Errors
// are *config.FieldError values with file:line:col, all of them joined.
func LoadFiles(glob string, env Env) ([]*Rule, error) {
	files, err := filepath.Glob(glob)
	if err != nil {
		return nil, fmt.Errorf("rules: bad glob %q: %w", glob, err)
	}
	sort.Strings(files)
	var all []*Rule
	var errs []error
	names := map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, fmt.Errorf("read rules: %w", err))
			continue
		}
		rs, err := Parse(f, data, env)
		if err != nil {
			errs = append(errs, err)
		}
		for _, r := range rs {
			if prev, dup := names[r.Name]; dup {
				errs = append(errs, &config.FieldError{File: f, Path: "rule", Msg: fmt.Sprintf("rule %q is also defined in %s", r.Name, prev)})
				continue
			}
			names[r.Name] = f
			all = append(all, r)
		}
	}
	return all, errors.Join(errs...)
}

// Parse compiles the rules in one file's data; name is used in errors.
func Parse(name string, data []byte, env Env) ([]*Rule, error) {
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, goccyErr(name, err)
	}
	if len(file.Docs) == 0 || file.Docs[0].Body == nil {
		return nil, nil // an empty file holds no rules
	}
	seq, ok := file.Docs[0].Body.(*ast.SequenceNode)
	if !ok {
		return nil, atNode(name, file.Docs[0].Body, "", "a rules file is a list of rules (each item starts with `- rule: name`)")
	}
	var rules []*Rule
	var errs []error
	for i, item := range seq.Values {
		path := fmt.Sprintf("[%d]", i)
		var s Spec
		if err := nodeToValue(item, &s); err != nil {
			errs = append(errs, goccyErr(name, err))
			continue
		}
		r, ferrs := compileSpec(s, env)
		for _, fe := range ferrs {
			fe.File = name
			if n := lookup(item, fe.Path); n != nil {
				pos := n.GetToken().Position
				fe.Line, fe.Column = pos.Line, pos.Column
			} else {
				fe.Line, fe.Column = firstKeyPos(item)
			}
			if s.Rule != "" {
				fe.Path = fmt.Sprintf("rule %s: %s", s.Rule, fe.Path)
			} else {
				fe.Path = path + "." + fe.Path
			}
			errs = append(errs, fe)
		}
		if len(ferrs) == 0 {
			rules = append(rules, r)
		}
	}
	return rules, errors.Join(errs...)
}

// nodeToValue decodes one rule strictly. goccy/go-yaml can panic on some
// malformed documents (found by FuzzParse); that becomes an error at the item.
func nodeToValue(item ast.Node, s *Spec) (err error) {
	defer func() {
		if r := recover(); r != nil {
			line, col := firstKeyPos(item)
			err = &config.FieldError{Line: line, Column: col, Msg: fmt.Sprintf("cannot decode this rule (malformed YAML): %v", r)}
		}
	}()
	return yaml.NodeToValue(item, s, yaml.Strict())
}

// firstKeyPos is where a mapping's first key starts (the "rule:" of an item).
func firstKeyPos(n ast.Node) (int, int) {
	if m, ok := n.(*ast.MappingNode); ok && len(m.Values) > 0 {
		n = m.Values[0].Key
	}
	pos := n.GetToken().Position
	return pos.Line, pos.Column
}

func goccyErr(file string, err error) error {
	var own *config.FieldError
	if errors.As(err, &own) {
		own.File = file
		return own
	}
	fe := &config.FieldError{File: file, Msg: firstLine(err.Error())}
	var ye yaml.Error
	if errors.As(err, &ye) {
		fe.Msg = ye.GetMessage()
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			fe.Line, fe.Column = tk.Position.Line, tk.Position.Column
		}
	}
	return fe
}

func atNode(file string, n ast.Node, path, msg string) error {
	pos := n.GetToken().Position
	return &config.FieldError{File: file, Line: pos.Line, Column: pos.Column, Path: path, Msg: msg}
}

// lookup finds the value node of a dotted path like "then[1].write" in a mapping.
func lookup(n ast.Node, path string) ast.Node {
	for _, part := range strings.Split(path, ".") {
		key, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 {
			key = part[:i]
			idx, _ = strconv.Atoi(strings.TrimSuffix(part[i+1:], "]"))
		}
		m, ok := n.(*ast.MappingNode)
		if !ok {
			return nil
		}
		var next ast.Node
		for _, mv := range m.Values {
			if mv.Key.GetToken().Value == key {
				next = mv.Value
			}
		}
		if next == nil {
			return nil
		}
		if idx >= 0 {
			seq, ok := next.(*ast.SequenceNode)
			if !ok || idx >= len(seq.Values) {
				return next
			}
			next = seq.Values[idx]
		}
		n = next
	}
	return n
}

var severities = []string{string(Low), string(Medium), string(High), string(Critical)}

var ruleName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// compileSpec validates a spec against env and compiles it, reporting every problem.
func compileSpec(s Spec, env Env) (*Rule, []*config.FieldError) {
	var errs []*config.FieldError
	bad := func(path, format string, args ...any) { errs = append(errs, config.Errorf(path, format, args...)) }
	dur := func(path, v string) time.Duration {
		if v == "" {
			return 0
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			bad(path, "invalid duration %q (want e.g. 500ms, 5s, 2m)", v)
		} else if d < 0 {
			bad(path, "must not be negative, got %s", v)
		}
		return d
	}
	r := &Rule{
		Name: s.Rule, ClearWhen: s.ClearWhen, Severity: Severity(s.Severity),
		For: dur("for", s.For), Cooldown: dur("cooldown", s.Cooldown),
		UnackFor: dur("unacknowledged_for", s.UnacknowledgedFor), UnresolvedFor: dur("unresolved_for", s.UnresolvedFor),
	}
	if s.Rule == "" {
		bad("rule", "every rule needs a name: `- rule: pump1-overheat`")
	} else if !ruleName.MatchString(s.Rule) {
		bad("rule", "name %q: use letters, digits, '-', '_' and '.'", s.Rule)
	}
	if r.Severity == "" {
		r.Severity = Medium
	} else if !slices.Contains(severities, s.Severity) {
		bad("severity", "unknown severity %q (want %s)%s", s.Severity, strings.Join(severities, ", "), suggestion(s.Severity, severities))
	}
	conds := 0
	for _, c := range []bool{s.When != "", len(s.Any) > 0, len(s.All) > 0, s.AbsentFor != nil} {
		if c {
			conds++
		}
	}
	if conds != 1 {
		bad("when", "a rule needs exactly one of when, any, all or absent_for (found %d)", conds)
	}
	switch {
	case s.When != "":
		r.When = s.When
	case len(s.Any) > 0:
		r.When = "(" + strings.Join(s.Any, ") || (") + ")"
	case len(s.All) > 0:
		r.When = "(" + strings.Join(s.All, ") && (") + ")"
	}
	condPath := "when"
	if len(s.Any) > 0 {
		condPath = "any"
	} else if len(s.All) > 0 {
		condPath = "all"
	}
	if r.When != "" {
		prog, refs, err := compileCondition(r.When, env.Points, &r.rates)
		if err != nil {
			bad(condPath, "%v", err)
		}
		r.when, r.refs = prog, refs
	}
	if s.ClearWhen != "" {
		prog, refs, err := compileCondition(s.ClearWhen, env.Points, &r.rates)
		if err != nil {
			bad("clear_when", "%v", err)
		}
		r.clear = prog
		r.refs = append(r.refs, refs...)
	}
	if a := s.AbsentFor; a != nil {
		p, err := parsePoint(a.Point, env.Points)
		if err != nil {
			bad("absent_for.point", "%v", err)
		}
		d := dur("absent_for.duration", a.Duration)
		if d <= 0 && a.Duration == "" {
			bad("absent_for", "absent_for needs a positive duration like `duration: 2m`")
		}
		r.Absent = &Absent{Point: p, Duration: d}
	}
	r.refs = dedupe(r.refs)
	if len(s.Then) == 0 {
		bad("then", "a rule needs at least one action under then")
	}
	var e []*config.FieldError
	r.Then, e = compileActions("then", s.Then, env)
	errs = append(errs, e...)
	r.ElseThen, e = compileActions("else_then", s.ElseThen, env)
	errs = append(errs, e...)
	r.Escalate, e = compileActions("escalate", s.Escalate, env)
	errs = append(errs, e...)
	if len(s.ElseThen) > 0 && r.UnackFor == 0 {
		bad("else_then", "else_then runs only after unacknowledged_for; set unacknowledged_for: 30s")
	}
	if len(s.Escalate) > 0 && r.UnresolvedFor == 0 {
		bad("escalate", "escalate runs only after unresolved_for; set unresolved_for: 5m")
	}
	return r, errs
}

func compileActions(path string, specs []ActionSpec, env Env) ([]Action, []*config.FieldError) {
	var out []Action
	var errs []*config.FieldError
	for i, a := range specs {
		p := fmt.Sprintf("%s[%d]", path, i)
		kinds := 0
		for _, k := range []bool{a.Notify != "", a.Write != "", a.MQTT != nil} {
			if k {
				kinds++
			}
		}
		if kinds != 1 {
			errs = append(errs, config.Errorf(p, "an action is exactly one of notify, write or mqtt (found %d)", kinds))
			continue
		}
		switch {
		case a.Notify != "":
			if len(env.Helpers) > 0 && !slices.Contains(env.Helpers, a.Notify) {
				errs = append(errs, config.Errorf(p+".notify", "unknown helper %q%s", a.Notify, suggestion(a.Notify, env.Helpers)))
			}
			out = append(out, Action{Kind: Notify, Helper: a.Notify, Action: a.Action, Params: a.Params})
		case a.Write != "":
			lhs, rhs, ok := strings.Cut(a.Write, "=")
			if !ok {
				errs = append(errs, config.Errorf(p+".write", "write %q: want device.point = value", a.Write))
				continue
			}
			pt, err := parsePoint(strings.TrimSpace(lhs), env.Points)
			if err != nil {
				errs = append(errs, config.Errorf(p+".write", "%v", err))
				continue
			}
			rv := strings.TrimSpace(rhs)
			v, err := strconv.ParseFloat(rv, 64)
			if rv == "true" || rv == "false" {
				v, err = 0, nil
				if rv == "true" {
					v = 1
				}
			}
			if err != nil {
				errs = append(errs, config.Errorf(p+".write", "value %q is not a number or true/false", rv))
				continue
			}
			out = append(out, Action{Kind: Write, Point: pt, Value: v})
		default:
			if a.MQTT.Topic == "" {
				errs = append(errs, config.Errorf(p+".mqtt.topic", "an mqtt action needs a topic"))
				continue
			}
			out = append(out, Action{Kind: MQTT, Topic: a.MQTT.Topic, Payload: a.MQTT.Payload})
		}
	}
	return out, errs
}

func parsePoint(s string, pts Points) (PointRef, error) {
	dev, pt, ok := strings.Cut(s, ".")
	if !ok || dev == "" || pt == "" {
		return PointRef{}, fmt.Errorf("point %q: want device.point", s)
	}
	p := PointRef{dev, pt}
	if _, known := pts[p]; !known {
		return p, unknownPoint(p, pts)
	}
	return p, nil
}

func dedupe(refs []PointRef) []PointRef {
	seen := map[PointRef]bool{}
	out := refs[:0]
	for _, r := range refs {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}
