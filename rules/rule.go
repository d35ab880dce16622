// Package rules is the rule language plant engineers write in rules.d/*.yaml:
// conditions over device points (expressions compiled with expr-lang/expr),
// timers (for, cooldown, absent_for, unacknowledged_for, unresolved_for),
// hysteresis (clear_when) and actions (notify a helper over MAM, write a
// device point, publish MQTT).
//
// [Rule.Eval] is pure: same state, values and time in, same state and events
// out. The [Engine] feeds it readings and clock ticks, persists rule states so
// that timers survive restarts and reloads, and dispatches actions.
package rules

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"

	"github.com/tanglegate/gateway/config"
)

// Severity of a rule, used by helpers and in the audit trail.
type Severity string

// Severities, lowest first.
const (
	Low      Severity = "low"
	Medium   Severity = "medium"
	High     Severity = "high"
	Critical Severity = "critical"
)

// ActionKind says what an [Action] does.
type ActionKind string

// Kinds of action.
const (
	Notify ActionKind = "notify" // a MAM message to a helper
	Write  ActionKind = "write"  // write a device point
	MQTT   ActionKind = "mqtt"   // publish an MQTT message
)

// Action is one step of a rule's then / else_then / escalate list.
type Action struct {
	Kind    ActionKind
	Helper  string         // Notify: helper name
	Action  string         // Notify: what the helper should do ("boost", "inspect")
	Params  map[string]any // Notify: parameters for the helper
	Point   PointRef       // Write: target point
	Value   float64        // Write: value to write
	Topic   string         // MQTT: topic
	Payload string         // MQTT: payload (may contain {{rule}}, {{device}}, {{value}} placeholders)
}

// PointRef names a device point as "device.point".
type PointRef struct{ Device, Point string }

// String returns "device.point".
func (p PointRef) String() string { return p.Device + "." + p.Point }

// Absent is the absent_for watchdog: the rule fires when point has had no
// reading for Duration.
type Absent struct {
	Point    PointRef
	Duration time.Duration
}

// Rule is one compiled rule. Build it with [Compile].
type Rule struct {
	Name          string
	When          string // the condition as written (for any/all: the combined form)
	ClearWhen     string
	For           time.Duration
	Cooldown      time.Duration
	Severity      Severity
	Absent        *Absent
	Then          []Action
	UnackFor      time.Duration // unacknowledged_for
	ElseThen      []Action      // fired when no helper acknowledged within UnackFor
	UnresolvedFor time.Duration
	Escalate      []Action // fired when still active after UnresolvedFor

	when, clear *vm.Program
	refs        []PointRef // every point the conditions read
	rates       []rateRef  // rate_of_change terms
}

// rateRef is one rate_of_change(device.point, window) term, rewritten to the
// variable Var before compiling.
type rateRef struct {
	Var    string
	Point  PointRef
	Window time.Duration
}

// Refs returns the points the rule's conditions read, sorted.
func (r *Rule) Refs() []PointRef { return r.refs }

// Points tells the compiler which device points exist and whether they are
// boolean, so rules that name unknown points are rejected at check time.
type Points map[PointRef]PointKind

// PointKind is the value type of a point as the rules see it.
type PointKind uint8

// Point kinds.
const (
	NumberPoint PointKind = iota
	BoolPoint
	StringPoint
)

var rateCall = regexp.MustCompile(`rate_of_change\(\s*([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)\s*,\s*([0-9]+(?:\.[0-9]+)?(?:ms|s|m|h))\s*\)`)

// compileCondition rewrites rate_of_change terms, checks that every point
// exists and compiles the expression to a boolean program.
func compileCondition(src string, pts Points, rates *[]rateRef) (*vm.Program, []PointRef, error) {
	var rerr error
	rewritten := rateCall.ReplaceAllStringFunc(src, func(m string) string {
		sub := rateCall.FindStringSubmatch(m)
		w, err := time.ParseDuration(sub[3])
		if err != nil || w <= 0 {
			rerr = fmt.Errorf("rate_of_change window %q: want a positive duration like 1m", sub[3])
			return m
		}
		p := PointRef{sub[1], sub[2]}
		v := fmt.Sprintf("rate__%s__%s__%d", p.Device, p.Point, w.Milliseconds())
		for _, r := range *rates {
			if r.Var == v {
				return v
			}
		}
		*rates = append(*rates, rateRef{Var: v, Point: p, Window: w})
		return v
	})
	if rerr != nil {
		return nil, nil, rerr
	}
	if strings.Contains(rewritten, "rate_of_change") {
		return nil, nil, fmt.Errorf("rate_of_change takes a device.point and a duration, e.g. rate_of_change(pump1.vibration, 1m)")
	}
	tree, err := parser.Parse(rewritten)
	if err != nil {
		return nil, nil, fmt.Errorf("%s", firstLine(err.Error()))
	}
	refs, err := pointRefs(tree.Node, pts)
	if err != nil {
		return nil, nil, err
	}
	env := envSample(pts, *rates)
	prog, err := expr.Compile(rewritten, expr.Env(env), expr.AsBool())
	if err != nil {
		return nil, nil, fmt.Errorf("%s", firstLine(err.Error()))
	}
	for _, r := range *rates {
		refs = append(refs, r.Point)
	}
	return prog, refs, nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

type refCollector struct {
	pts     Points
	refs    []PointRef
	members map[*ast.IdentifierNode]bool // identifiers that are the device of a member node
	idents  []*ast.IdentifierNode
	err     error
}

func (c *refCollector) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.MemberNode:
		id, ok := n.Node.(*ast.IdentifierNode)
		prop, ok2 := n.Property.(*ast.StringNode)
		if !ok || !ok2 {
			return
		}
		c.members[id] = true
		p := PointRef{id.Value, prop.Value}
		if _, known := c.pts[p]; !known && c.err == nil {
			c.err = unknownPoint(p, c.pts)
		}
		c.refs = append(c.refs, p)
	case *ast.IdentifierNode:
		if !strings.HasPrefix(n.Value, "rate__") {
			c.idents = append(c.idents, n)
		}
	}
}

func pointRefs(root ast.Node, pts Points) ([]PointRef, error) {
	c := &refCollector{pts: pts, members: map[*ast.IdentifierNode]bool{}}
	ast.Walk(&root, c)
	if c.err != nil {
		return nil, c.err
	}
	for _, id := range c.idents {
		if !c.members[id] {
			return nil, fmt.Errorf("unknown name %q (write device.point, e.g. pump1.temperature)", id.Value)
		}
	}
	return c.refs, nil
}

func unknownPoint(p PointRef, pts Points) error {
	var devPoints, devices []string
	seen := map[string]bool{}
	for q := range pts {
		if q.Device == p.Device {
			devPoints = append(devPoints, q.Point)
		}
		if !seen[q.Device] {
			seen[q.Device] = true
			devices = append(devices, q.Device)
		}
	}
	if len(devPoints) == 0 {
		return fmt.Errorf("unknown device %q in %s%s", p.Device, p, suggestion(p.Device, devices))
	}
	return fmt.Errorf("unknown point %s%s", p, suggestion(p.Point, devPoints))
}

// suggestion formats config.Suggest's "did you mean" hint, or "".
func suggestion(got string, options []string) string {
	// Ties go to the first in order, whatever map order built the list; sort
	// a copy, since options may be shared (the severities).
	sorted := slices.Sorted(slices.Values(options))
	if best := config.Suggest(got, sorted); best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}

// envSample builds an environment with the right value types for the checker.
func envSample(pts Points, rates []rateRef) map[string]any {
	env := map[string]any{}
	for p, k := range pts {
		dev, ok := env[p.Device].(map[string]any)
		if !ok {
			dev = map[string]any{}
			env[p.Device] = dev
		}
		switch k {
		case BoolPoint:
			dev[p.Point] = false
		case StringPoint:
			dev[p.Point] = ""
		default:
			dev[p.Point] = 0.0
		}
	}
	for _, r := range rates {
		env[r.Var] = 0.0
	}
	return env
}
