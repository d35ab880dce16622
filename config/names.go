package config

import "fmt"

// Device and point names appear in rule expressions as device.point
// ("pump1.temperature > 80"), so both must be identifiers of the expression
// language: an ASCII letter or '_', then letters, digits or '_', at most 64
// characters, and not one of its keywords. A dash is not allowed
// ("env-sensors" would read as env minus sensors); write env_sensors.
const maxIdent = 64

// exprKeywords are the words the rule expression language (expr-lang/expr)
// reads as operators or literals, plus the rule functions.
var exprKeywords = map[string]bool{
	"true": true, "false": true, "nil": true, "not": true, "and": true, "or": true,
	"in": true, "matches": true, "contains": true, "startsWith": true, "endsWith": true,
	"let": true, "if": true, "else": true, "rate_of_change": true,
}

// CheckIdent returns nil if name can be a device or point name, and otherwise
// a *FieldError at path saying why. Bus sections call it for point names.
func CheckIdent(path, name string) error {
	if err := identError(name); err != nil {
		return Errorf(path, "%v", err)
	}
	return nil
}

func identError(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("is required")
	case len(name) > maxIdent:
		return fmt.Errorf("%q is longer than %d characters", name, maxIdent)
	case exprKeywords[name]:
		return fmt.Errorf("%q is a keyword of rule expressions; choose another name", name)
	}
	for i, r := range name {
		if r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || i > 0 && '0' <= r && r <= '9' {
			continue
		}
		if i == 0 && '0' <= r && r <= '9' {
			return fmt.Errorf("%q must start with a letter or _, as rules use it in expressions (try %q)", name, identLike(name))
		}
		return fmt.Errorf("%q may contain only letters, digits and _, as rules use it in expressions (try %q)", name, identLike(name))
	}
	return nil
}

// checkLabel checks names that rules only quote (helpers, the gateway):
// letters, digits, '.', '_' and '-', starting with a letter or digit.
func checkLabel(path, name string) error {
	if name == "" {
		return Errorf(path, "is required")
	}
	if len(name) > maxIdent {
		return Errorf(path, "%q is longer than %d characters", name, maxIdent)
	}
	for i, r := range name {
		ok := 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' ||
			i > 0 && (r == '_' || r == '-' || r == '.')
		if !ok {
			return Errorf(path, "%q may contain only letters, digits, '.', '_' and '-', starting with a letter or digit", name)
		}
	}
	return nil
}

// identLike turns name into an identifier for a suggestion: other characters
// become '_', and a leading digit gets a '_' in front.
func identLike(name string) string {
	b := []rune(name)
	for i, r := range b {
		if !(r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			b[i] = '_'
		}
	}
	s := string(b)
	if s != "" && '0' <= s[0] && s[0] <= '9' {
		s = "_" + s
	}
	return s
}
