package packaging

import (
	"os/exec"
	"testing"
)

func TestDebVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, describe, want string
	}{
		{"no git output falls back to the dev version", "", "0.0.0~dev"},
		{"the dev fallback is kept", "0.0.0~dev", "0.0.0~dev"},
		{"a name that is not a version starts with a digit", "dev", "0.0.0~dev"},
		{"a release tag loses its v", "v1.2.3\n", "1.2.3"},
		{"a pre-release sorts before the release", "v1.2.3-rc1", "1.2.3~rc1"},
		{"commits after a tag sort after it", "v1.2.3-4-gabc1234", "1.2.3+git4.abc1234"},
		{"a dirty tree after a tag is marked", "v1.2.3-4-gabc1234-dirty", "1.2.3+git4.abc1234.dirty"},
		{"a dirty tagged tree is marked", "v1.2.3-dirty", "1.2.3+dirty"},
		{"an untagged hash starts with a digit", "abc1234", "0.0.0~gitabc1234"},
		{"an untagged dirty hash starts with a digit", "abc1234-dirty", "0.0.0~gitabc1234.dirty"},
		{"an untagged hash may start with a digit", "3db3c8f-dirty", "0.0.0~git3db3c8f.dirty"},
		{"characters dpkg rejects are replaced", "v2.0_beta/x", "2.0.beta.x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := DebVersion(tc.describe); got != tc.want {
				t.Errorf("DebVersion(%q) = %q, want %q", tc.describe, got, tc.want)
			}
		})
	}
}

// TestDebVersionOrder checks with dpkg itself that versions sort as releases do.
func TestDebVersionOrder(t *testing.T) {
	t.Parallel()
	dpkg, err := exec.LookPath("dpkg")
	if err != nil {
		t.Skip("dpkg not installed")
	}
	ordered := []string{"", "abc1234", "v0.1.0-rc1", "v0.1.0", "v0.1.0-dirty", "v0.1.0-3-gabc1234", "v0.1.0-3-gabc1234-dirty", "v0.1.1"}
	for i := 1; i < len(ordered); i++ {
		a, b := DebVersion(ordered[i-1]), DebVersion(ordered[i])
		if out, err := exec.Command(dpkg, "--compare-versions", a, "lt", b).CombinedOutput(); err != nil {
			t.Errorf("dpkg: %q is not lower than %q (%s): %v", a, b, out, err)
		}
	}
}

func TestOCITag(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"1.2.3", "1.2.3"},
		{"0.0.0~dev", "0.0.0-dev"},
		{"1.2.3+git4.abc1234.dirty", "1.2.3-git4.abc1234.dirty"},
		{"~x", "x"},
	}
	for _, tc := range tests {
		if got := OCITag(tc.in); got != tc.want {
			t.Errorf("OCITag(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
