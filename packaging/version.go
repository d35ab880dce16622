package packaging

import (
	"regexp"
	"strings"
)

// DevVersion is the Debian version used when git cannot describe the tree.
const DevVersion = "0.0.0~dev"

// describeRE splits `git describe --tags --always --dirty` output into the
// tag, the commit count and hash since the tag, and the dirty marker.
var describeRE = regexp.MustCompile(`^(.*?)(?:-(\d+)-g([0-9a-f]+))?(-dirty)?$`)

// hashRE matches what `git describe --always` prints when there is no tag:
// an abbreviated commit hash, which may start with a digit.
var hashRE = regexp.MustCompile(`^[0-9a-f]{7,64}(-dirty)?$`)

// DebVersion turns the output of `git describe --tags --always --dirty` into
// a native Debian version that sorts the way releases do:
//
//	v1.2.3                 -> 1.2.3
//	v1.2.3-rc1             -> 1.2.3~rc1                (pre-releases sort before 1.2.3)
//	v1.2.3-4-gabc1234      -> 1.2.3+git4.abc1234       (commits after a tag sort after it)
//	v1.2.3-dirty           -> 1.2.3+dirty
//	abc1234, 3db3c8f-dirty -> 0.0.0~gitabc1234, 0.0.0~git3db3c8f.dirty (no tag yet)
//	dev                    -> 0.0.0~dev                (any other name: 0.0.0~name)
//	""                     -> 0.0.0~dev
//
// Debian versions must start with a digit. A tag is told from a bare commit
// hash by its dots: a tag of only hex digits (such as 20240101) is read as a hash.
func DebVersion(describe string) string {
	d := strings.TrimSpace(describe)
	if d == "" {
		return DevVersion
	}
	if len(d) > 1 && d[0] == 'v' && isDigit(d[1]) {
		d = d[1:]
	}
	if hashRE.MatchString(d) {
		return "0.0.0~git" + sanitize(strings.ReplaceAll(d, "-", "."))
	}
	if !isDigit(d[0]) {
		return "0.0.0~" + sanitize(strings.ReplaceAll(d, "-", "."))
	}
	m := describeRE.FindStringSubmatch(d)
	v := sanitize(strings.ReplaceAll(m[1], "-", "~"))
	var extra []string
	if m[2] != "" {
		extra = append(extra, "git"+m[2], m[3])
	}
	if m[4] != "" {
		extra = append(extra, "dirty")
	}
	if len(extra) > 0 {
		v += "+" + strings.Join(extra, ".")
	}
	return v
}

// OCITag turns a Debian version into an image tag ([A-Za-z0-9_.-], at most
// 128 characters, not starting with '.' or '-').
func OCITag(debVersion string) string {
	t := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
			return r
		}
		return '-'
	}, debVersion)
	t = strings.TrimLeft(t, ".-")
	if t == "" {
		t = "dev"
	}
	if len(t) > 128 {
		t = t[:128]
	}
	return t
}

// sanitize replaces characters that a native Debian version may not contain
// (anything but alphanumerics and . + ~) with '.'.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '+', r == '~':
			return r
		}
		return '.'
	}, s)
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }
