package config

import (
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// expand replaces ${NAME} in s with the environment variable NAME. "$${"
// stands for a literal "${"; a lone "$" is kept ("$.t" stays). A variable
// that is not set, or a reference that is not ${NAME} with NAME made of
// letters, digits and '_', is reported at n.
func (d *decoder) expand(n ast.Node, path, s string) (string, bool) {
	if !strings.Contains(s, "${") {
		return s, true
	}
	var b strings.Builder
	ok := true
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			break
		}
		if i > 0 && s[i-1] == '$' { // "$${" is a literal "${"
			b.WriteString(s[:i-1])
			b.WriteString("${")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			d.fail(n, path, "unclosed ${ (write $${ for a literal ${)")
			return "", false
		}
		name := s[i+2 : i+end]
		s = s[i+end+1:]
		if !isEnvName(name) {
			d.fail(n, path, "invalid environment reference ${%s} (want ${NAME} with letters, digits and _)", name)
			ok = false
			continue
		}
		val, set := d.lookupEnv(name)
		if !set {
			d.fail(n, path, "environment variable %s is not set", name)
			ok = false
			continue
		}
		b.WriteString(val)
	}
	return b.String(), ok
}

func isEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || i > 0 && '0' <= r && r <= '9') {
			return false
		}
	}
	return true
}

// expandInPlace expands ${NAME} in every string of a subtree that goccy's
// decoder will read (types with their own UnmarshalYAML).
func (d *decoder) expandInPlace(root ast.Node, path string) {
	ast.Walk(visitFunc(func(n ast.Node) {
		if s, ok := n.(*ast.StringNode); ok && strings.Contains(s.Value, "${") {
			if v, ok := d.expand(s, path, s.Value); ok {
				s.Value = v
			}
		}
	}), root)
}
