package config

import (
	"encoding"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// maxNodes bounds the nodes visited while decoding, aliases included, so that
// a small file with nested aliases ("billion laughs") cannot blow up.
const maxNodes = 100_000

// maxErrors bounds the problems reported; one more says that there are more.
const maxErrors = 200

// decoder fills a Go value from a goccy/go-yaml AST. Unlike yaml.Unmarshal it
// keeps going after a problem, so that every unknown key, wrong type and bad
// value in the file is reported at once, each with its field path and
// position. It also expands ${VAR} references and records where every field
// path appears in the file ([decoder.where]) for the errors of Validate.
//
// Types that implement one of goccy's Unmarshaler interfaces are decoded by
// goccy itself (yaml.NodeToValue with yaml.Strict()); types that implement
// encoding.TextUnmarshaler get the text of a scalar.
type decoder struct {
	file      string
	lookupEnv func(string) (string, bool)
	anchors   map[string]ast.Node
	pos       map[string]token.Position // field path -> where to report it
	errs      []*FieldError
	nodes     int
}

func newDecoder(file string, lookupEnv func(string) (string, bool)) *decoder {
	return &decoder{
		file:      file,
		lookupEnv: lookupEnv,
		anchors:   map[string]ast.Node{},
		pos:       map[string]token.Position{},
	}
}

// fail records a problem at the position of node n.
func (d *decoder) fail(n ast.Node, path, format string, args ...any) {
	d.failAt(nodePos(n), path, format, args...)
}

// failAt records a problem at position p (nil when unknown).
func (d *decoder) failAt(p *token.Position, path, format string, args ...any) {
	if len(d.errs) > maxErrors {
		return
	}
	e := Errorf(path, format, args...)
	if len(d.errs) == maxErrors {
		e = Errorf("", "too many problems, stopping here")
	}
	e.File = d.file
	if p != nil {
		e.Line, e.Column = p.Line, p.Column
	}
	d.errs = append(d.errs, e)
}

// nodePos is where a node starts in the file: the first key of a block
// mapping, the '{' of a flow mapping, the value of a scalar.
func nodePos(n ast.Node) *token.Position {
	if isNil(n) {
		return nil
	}
	switch n := n.(type) {
	case *ast.MappingNode:
		if !n.IsFlowStyle && len(n.Values) > 0 {
			return nodePos(n.Values[0].Key)
		}
		if n.Start != nil {
			return n.Start.Position
		}
	case *ast.MappingValueNode:
		return nodePos(n.Key)
	case *ast.TagNode:
		if n.Start != nil {
			return n.Start.Position
		}
	case *ast.AnchorNode:
		if n.Start != nil {
			return n.Start.Position
		}
	}
	if t := n.GetToken(); t != nil {
		return t.Position
	}
	return nil
}

// collectAnchors records every anchor of the document, so that aliases can be
// followed while decoding.
func (d *decoder) collectAnchors(root ast.Node) {
	ast.Walk(visitFunc(func(n ast.Node) {
		if a, ok := n.(*ast.AnchorNode); ok && a.Name != nil {
			d.anchors[scalarTokenText(a.Name)] = a.Value
		}
	}), root)
}

type visitFunc func(ast.Node)

func (f visitFunc) Visit(n ast.Node) ast.Visitor {
	if n == nil {
		return nil
	}
	f(n)
	return f
}

// resolve unwraps tags and anchors and follows aliases. It returns nil when
// the node budget is spent or an alias is unknown (both reported).
func (d *decoder) resolve(n ast.Node, path string) ast.Node {
	for range 64 {
		d.nodes++
		if d.nodes > maxNodes {
			if d.nodes == maxNodes+1 {
				d.fail(n, path, "document too large (more than %d nodes after expanding aliases)", maxNodes)
			}
			return nil
		}
		switch v := n.(type) {
		case *ast.TagNode:
			n = v.Value
		case *ast.AnchorNode:
			n = v.Value
		case *ast.AliasNode:
			name := scalarTokenText(v.Value)
			target, ok := d.anchors[name]
			if !ok {
				d.fail(n, path, "unknown alias *%s", name)
				return nil
			}
			n = target
		default:
			return n
		}
		if isNil(n) {
			return nil
		}
	}
	d.fail(n, path, "aliases nested too deeply")
	return nil
}

// isNil reports whether n is nil or a typed nil pointer.
func isNil(n ast.Node) bool {
	if n == nil {
		return true
	}
	v := reflect.ValueOf(n)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

func scalarTokenText(n ast.Node) string {
	if isNil(n) {
		return ""
	}
	if s, ok := n.(*ast.StringNode); ok {
		return s.Value
	}
	if t := n.GetToken(); t != nil {
		return t.Value
	}
	return n.String()
}

var (
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	goccyUnmarshalers   = []reflect.Type{
		reflect.TypeFor[yaml.BytesUnmarshaler](),
		reflect.TypeFor[yaml.BytesUnmarshalerContext](),
		reflect.TypeFor[yaml.InterfaceUnmarshaler](),
		reflect.TypeFor[yaml.InterfaceUnmarshalerContext](),
		reflect.TypeFor[yaml.NodeUnmarshaler](),
		reflect.TypeFor[yaml.NodeUnmarshalerContext](),
	}
)

// decode fills v (settable) from node n found at path. A null node keeps v.
func (d *decoder) decode(n ast.Node, path string, v reflect.Value) {
	n = d.resolve(n, path)
	if n == nil {
		return
	}
	if _, ok := d.pos[path]; !ok {
		if p := nodePos(n); p != nil {
			d.pos[path] = *p
		}
	}
	if _, ok := n.(*ast.NullNode); ok {
		return
	}
	pt := reflect.PointerTo(v.Type())
	for _, u := range goccyUnmarshalers {
		if pt.Implements(u) {
			d.decodeWithGoccy(n, path, v)
			return
		}
	}
	if pt.Implements(textUnmarshalerType) {
		text, ok := d.scalar(n, path, "a value")
		if !ok {
			return
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(text)); err != nil {
			d.fail(n, path, "%v", err)
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, path, v.Elem())
	case reflect.Struct:
		m, ok := n.(*ast.MappingNode)
		if !ok {
			d.fail(n, path, "want a mapping (key: value), got %s", describe(n))
			return
		}
		d.decodeStruct(m, path, v, map[string]ast.Node{})
	case reflect.Map:
		d.decodeMap(n, path, v)
	case reflect.Slice:
		seq, ok := n.(*ast.SequenceNode)
		if !ok {
			d.fail(n, path, "want a list, got %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(seq.Values), len(seq.Values))
		for i, item := range seq.Values {
			d.decode(item, fmt.Sprintf("%s[%d]", path, i), s.Index(i))
		}
		v.Set(s)
	case reflect.String:
		if text, ok := d.scalar(n, path, "a string"); ok {
			v.SetString(text)
		}
	case reflect.Bool:
		d.decodeBool(n, path, v)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		d.decodeInt(n, path, v)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		d.decodeUint(n, path, v)
	case reflect.Float32, reflect.Float64:
		d.decodeFloat(n, path, v)
	case reflect.Interface:
		d.decodeWithGoccy(n, path, v)
	default:
		d.fail(n, path, "cannot decode into %s (a bug in the schema)", v.Type())
	}
}

// decodeWithGoccy hands a subtree to goccy's decoder (custom unmarshalers).
// Its error, if any, is placed at the token it names, or at the subtree.
func (d *decoder) decodeWithGoccy(n ast.Node, path string, v reflect.Value) {
	d.expandInPlace(n, path)
	target := reflect.New(v.Type())
	target.Elem().Set(v)
	if err := safeNodeToValue(n, target.Interface()); err != nil {
		at, msg := nodePos(n), err.Error()
		if ye, ok := err.(yaml.Error); ok {
			msg = ye.GetMessage()
			if tk := ye.GetToken(); tk != nil && tk.Position != nil {
				at = tk.Position
			}
		}
		d.failAt(at, d.pathAt(at, path), "%s", msg)
		return
	}
	v.Set(target.Elem())
}

// safeNodeToValue runs goccy's decoder, turning a panic in it into an error.
func safeNodeToValue(n ast.Node, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("YAML decoder failed: %v", r)
		}
	}()
	return yaml.NodeToValue(n, v, yaml.Strict())
}

// pathAt returns the deepest recorded path at or under within whose position
// is at, or within itself.
func (d *decoder) pathAt(at *token.Position, within string) string {
	if at == nil {
		return within
	}
	best := within
	for p, pos := range d.pos {
		if pos.Line == at.Line && pos.Column == at.Column &&
			isUnder(p, within) && len(p) > len(best) {
			best = p
		}
	}
	return best
}

func isUnder(p, parent string) bool {
	if parent == "" || p == parent {
		return true
	}
	return strings.HasPrefix(p, parent) && (p[len(parent)] == '.' || p[len(parent)] == '[')
}

// structField is a YAML key of a struct and the index path of its field.
type structField struct {
	key   string
	index []int
}

// fieldsOf lists the keys of struct type t, inline fields flattened.
func fieldsOf(t reflect.Type) []structField {
	var out []structField
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		inline := slices.Contains(strings.Split(opts, ","), "inline") || f.Anonymous && name == ""
		if inline && f.Type.Kind() == reflect.Struct {
			for _, sub := range fieldsOf(f.Type) {
				sub.index = append([]int{i}, sub.index...)
				out = append(out, sub)
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out = append(out, structField{key: name, index: []int{i}})
	}
	return out
}

// decodeStruct fills struct v from mapping m. seen holds the keys already set
// explicitly (merged mappings do not override them).
func (d *decoder) decodeStruct(m *ast.MappingNode, path string, v reflect.Value, seen map[string]ast.Node) {
	fields := fieldsOf(v.Type())
	keys := make([]string, len(fields))
	for i, f := range fields {
		keys[i] = f.key
	}
	// Explicit keys first, then merges (<<) for the keys still unset.
	var merges []*ast.MappingValueNode
	for _, mv := range m.Values {
		if isMergeKey(mv.Key) {
			merges = append(merges, mv)
			continue
		}
		key, ok := d.keyText(mv.Key, path)
		if !ok {
			continue
		}
		kp := joinPath(path, key)
		if first, dup := seen[key]; dup {
			d.fail(mv.Key, kp, "key %q is already set at line %d", key, nodePos(first).Line)
			continue
		}
		seen[key] = mv.Key
		if path == "" && strings.HasPrefix(key, "x-") {
			continue // x-name: top-level keys that only hold anchors, as in compose files
		}
		i := slices.Index(keys, key)
		if i < 0 {
			d.fail(mv.Key, kp, "unknown key %q%s", key, unknownKeyHint(key, keys))
			continue
		}
		d.recordKey(mv, kp)
		d.decode(mv.Value, kp, v.FieldByIndex(fields[i].index))
	}
	for _, mv := range merges {
		d.merge(mv.Value, path, v, seen)
	}
}

// merge applies a merge key's value (a mapping, or a list of them) to v.
func (d *decoder) merge(n ast.Node, path string, v reflect.Value, seen map[string]ast.Node) {
	n = d.resolve(n, path)
	switch n := n.(type) {
	case nil:
	case *ast.MappingNode:
		sub := map[string]ast.Node{}
		for k, kn := range seen {
			sub[k] = kn
		}
		// Keys set explicitly win over merged ones: drop them from the merge.
		filtered := &ast.MappingNode{BaseNode: n.BaseNode, Start: n.Start, IsFlowStyle: n.IsFlowStyle}
		for _, mv := range n.Values {
			if k, ok := d.keyText(mv.Key, path); ok && !isMergeKey(mv.Key) {
				if _, set := seen[k]; set {
					continue
				}
			}
			filtered.Values = append(filtered.Values, mv)
		}
		d.decodeStruct(filtered, path, v, map[string]ast.Node{})
		for _, mv := range filtered.Values {
			if k, ok := d.keyText(mv.Key, path); ok {
				seen[k] = mv.Key
			}
		}
	case *ast.SequenceNode:
		for _, item := range n.Values {
			d.merge(item, path, v, seen)
		}
	default:
		d.fail(n, path, "<< wants a mapping or a list of mappings, got %s", describe(n))
	}
}

func isMergeKey(k ast.Node) bool {
	_, ok := k.(*ast.MergeKeyNode)
	return ok
}

// recordKey remembers where a key's value is: at the value for scalars, at
// the key for mappings and lists (and empty values).
func (d *decoder) recordKey(mv *ast.MappingValueNode, kp string) {
	at := ast.Node(mv.Key)
	switch val := mv.Value.(type) {
	case *ast.MappingNode, *ast.SequenceNode, *ast.NullNode, nil:
	default:
		if r := nodePos(val); r != nil && !isCollection(val) {
			at = val
		}
	}
	if p := nodePos(at); p != nil {
		d.pos[kp] = *p
	}
}

func isCollection(n ast.Node) bool {
	for range 16 {
		switch v := n.(type) {
		case *ast.MappingNode, *ast.SequenceNode:
			return true
		case *ast.TagNode:
			n = v.Value
		case *ast.AnchorNode:
			n = v.Value
		default:
			return false
		}
	}
	return false
}

func unknownKeyHint(key string, keys []string) string {
	if slices.Contains(keys, key+"_file") {
		return fmt.Sprintf(" (secrets are only read from files: use %s_file)", key)
	}
	if h := didYouMean(key, keys); h != "" {
		return h
	}
	if len(keys) <= 12 {
		return " (want " + OneOf(keys) + ")"
	}
	return ""
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// keyText returns a mapping key as a string; complex keys are reported.
func (d *decoder) keyText(k ast.MapKeyNode, path string) (string, bool) {
	n := ast.Node(k)
	if mk, ok := k.(*ast.MappingKeyNode); ok {
		n = mk.Value
	}
	n = d.resolve(n, path)
	switch n := n.(type) {
	case nil:
		return "", false
	case *ast.StringNode:
		return n.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.NullNode, *ast.InfinityNode, *ast.NanNode:
		return n.GetToken().Value, true
	}
	d.fail(k, path, "want a plain key, got %s", describe(n))
	return "", false
}

func (d *decoder) decodeMap(n ast.Node, path string, v reflect.Value) {
	m, ok := n.(*ast.MappingNode)
	if !ok {
		d.fail(n, path, "want a mapping (key: value), got %s", describe(n))
		return
	}
	if v.Type().Key().Kind() != reflect.String {
		d.fail(n, path, "cannot decode into %s (a bug in the schema)", v.Type())
		return
	}
	out := reflect.MakeMapWithSize(v.Type(), len(m.Values))
	seen := map[string]ast.Node{}
	for _, mv := range m.Values {
		if isMergeKey(mv.Key) {
			d.fail(mv.Key, path, "<< merge keys are not supported here")
			continue
		}
		key, ok := d.keyText(mv.Key, path)
		if !ok {
			continue
		}
		kp := joinPath(path, key)
		if first, dup := seen[key]; dup {
			d.fail(mv.Key, kp, "key %q is already set at line %d", key, nodePos(first).Line)
			continue
		}
		seen[key] = mv.Key
		d.recordKey(mv, kp)
		elem := reflect.New(v.Type().Elem()).Elem()
		d.decode(mv.Value, kp, elem)
		out.SetMapIndex(reflect.ValueOf(key).Convert(v.Type().Key()), elem)
	}
	v.Set(out)
}

// describe names what a node is, for "want X, got Y" messages.
func describe(n ast.Node) string {
	switch n := n.(type) {
	case *ast.MappingNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.NullNode:
		return "nothing"
	case *ast.StringNode:
		return strconv.Quote(n.Value)
	case *ast.LiteralNode:
		return "a text block"
	}
	if t := n.GetToken(); t != nil {
		return t.Value
	}
	return n.Type().String()
}

// scalar returns the text of a scalar node with ${VAR} expanded. Numbers and
// booleans give their text as written ("1.10" stays "1.10").
func (d *decoder) scalar(n ast.Node, path, want string) (string, bool) {
	switch n := n.(type) {
	case *ast.StringNode:
		return d.expand(n, path, n.Value)
	case *ast.LiteralNode:
		if n.Value == nil {
			return "", true
		}
		return d.expand(n, path, n.Value.Value)
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return n.GetToken().Value, true
	}
	d.fail(n, path, "want %s, got %s", want, describe(n))
	return "", false
}

// typedScalar classifies a scalar for a number or bool field. A string with
// ${VAR} in it is read after expansion as the field's type; any other string
// is reported as the wrong type.
func (d *decoder) typedScalar(n ast.Node, path, want string) (text string, fromString, ok bool) {
	if s, isStr := n.(*ast.StringNode); isStr {
		if !strings.Contains(s.Value, "${") {
			if _, err := strconv.ParseFloat(s.Value, 64); err == nil && s.Token != nil && s.Token.Type == token.StringType {
				d.fail(n, path, "%s is out of range", s.Value) // a plain number goccy could not hold
			} else {
				d.fail(n, path, "want %s, got %s", want, describe(n))
			}
			return "", false, false
		}
		text, ok := d.expand(n, path, s.Value)
		return strings.TrimSpace(text), true, ok
	}
	switch n.(type) {
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return n.GetToken().Value, false, true
	}
	d.fail(n, path, "want %s, got %s", want, describe(n))
	return "", false, false
}

func (d *decoder) decodeBool(n ast.Node, path string, v reflect.Value) {
	text, fromString, ok := d.typedScalar(n, path, "true or false")
	if !ok {
		return
	}
	if b, isBool := n.(*ast.BoolNode); isBool {
		v.SetBool(b.Value)
		return
	}
	if fromString {
		switch text {
		case "true", "True", "TRUE":
			v.SetBool(true)
			return
		case "false", "False", "FALSE":
			v.SetBool(false)
			return
		}
	}
	d.fail(n, path, "want true or false, got %s", quoteIfString(text, fromString))
}

func (d *decoder) decodeInt(n ast.Node, path string, v reflect.Value) {
	text, fromString, ok := d.typedScalar(n, path, "an integer")
	if !ok {
		return
	}
	var i int64
	switch x := n.(type) {
	case *ast.IntegerNode:
		switch val := x.Value.(type) {
		case int64:
			i = val
		case uint64:
			if val > math.MaxInt64 {
				d.fail(n, path, "%s is too large", text)
				return
			}
			i = int64(val)
		}
	default:
		var err error
		i, err = strconv.ParseInt(strings.ReplaceAll(text, "_", ""), 0, 64)
		if err != nil {
			if f, ferr := strconv.ParseFloat(text, 64); ferr == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
				i = int64(f)
			} else {
				d.fail(n, path, "want an integer, got %s", quoteIfString(text, fromString))
				return
			}
		}
	}
	if v.OverflowInt(i) {
		d.fail(n, path, "%d is out of range for this field", i)
		return
	}
	v.SetInt(i)
}

func (d *decoder) decodeUint(n ast.Node, path string, v reflect.Value) {
	text, fromString, ok := d.typedScalar(n, path, "a non-negative integer")
	if !ok {
		return
	}
	u, err := strconv.ParseUint(strings.ReplaceAll(text, "_", ""), 0, 64)
	if err != nil {
		if strings.HasPrefix(text, "-") {
			d.fail(n, path, "must not be negative, got %s", text)
			return
		}
		d.fail(n, path, "want a non-negative integer, got %s", quoteIfString(text, fromString))
		return
	}
	if v.OverflowUint(u) {
		d.fail(n, path, "%d is out of range for this field", u)
		return
	}
	v.SetUint(u)
}

func (d *decoder) decodeFloat(n ast.Node, path string, v reflect.Value) {
	text, fromString, ok := d.typedScalar(n, path, "a number")
	if !ok {
		return
	}
	if _, isBool := n.(*ast.BoolNode); isBool {
		d.fail(n, path, "want a number, got %s", text)
		return
	}
	var f float64
	switch x := n.(type) {
	case *ast.FloatNode:
		f = x.Value
	case *ast.InfinityNode:
		f = x.Value
	case *ast.NanNode:
		f = math.NaN()
	default:
		var err error
		f, err = strconv.ParseFloat(strings.ReplaceAll(text, "_", ""), 64)
		if err != nil {
			if i, ierr := strconv.ParseInt(strings.ReplaceAll(text, "_", ""), 0, 64); ierr == nil {
				f = float64(i)
			} else {
				d.fail(n, path, "want a number, got %s", quoteIfString(text, fromString))
				return
			}
		}
	}
	if v.OverflowFloat(f) {
		d.fail(n, path, "%s is out of range for this field", text)
		return
	}
	v.SetFloat(f)
}

func quoteIfString(text string, isString bool) string {
	if isString {
		return strconv.Quote(text)
	}
	return text
}
