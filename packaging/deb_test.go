package packaging

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ulikunitz/xz"
)

var testTime = time.Date(2025, 11, 25, 12, 0, 0, 0, time.UTC)

// fakeBinary writes a stand-in for the tanglegate binary.
func fakeBinary(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tanglegate")
	if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// arMembers splits a Debian ar archive into its members.
func arMembers(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("!<arch>\n")) {
		t.Fatalf("not an ar archive: %q", b[:min(len(b), 8)])
	}
	out := map[string][]byte{}
	for p := 8; p+60 <= len(b); {
		hdr := b[p : p+60]
		name := strings.TrimRight(strings.TrimSpace(string(hdr[0:16])), "/")
		var size int
		for _, c := range strings.TrimSpace(string(hdr[48:58])) {
			size = size*10 + int(c-'0')
		}
		p += 60
		out[name] = b[p : p+size]
		p += size + size%2
	}
	return out
}

type tarFile struct {
	hdr  *tar.Header
	body []byte
}

// untar decompresses (by name: .gz or .xz) and reads a tar member.
func untar(t *testing.T, name string, b []byte) map[string]tarFile {
	t.Helper()
	var r io.Reader
	var err error
	switch {
	case strings.HasSuffix(name, ".gz"):
		r, err = gzip.NewReader(bytes.NewReader(b))
	case strings.HasSuffix(name, ".xz"):
		r, err = xz.NewReader(bytes.NewReader(b))
	default:
		r = bytes.NewReader(b)
	}
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	out := map[string]tarFile{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[strings.TrimPrefix(h.Name, ".")] = tarFile{h, body}
	}
}

// member returns the one ar member whose name starts with prefix.
func member(t *testing.T, m map[string][]byte, prefix string) (string, []byte) {
	t.Helper()
	for name, b := range m {
		if strings.HasPrefix(name, prefix) {
			return name, b
		}
	}
	t.Fatalf("no %s* member in %v", prefix, keys(m))
	return "", nil
}

func keys[V any](m map[string]V) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	return k
}

func buildTestDeb(t *testing.T, target Target) (control, data map[string]tarFile) {
	t.Helper()
	d := Deb{Target: target, Version: "1.2.3+git4.abc", Binary: fakeBinary(t, "#!/bin/sh\necho fake\n"),
		Config: []byte("gateway: {name: test}\n"), MTime: testTime}
	var buf bytes.Buffer
	if err := d.Build(&buf); err != nil {
		t.Fatal(err)
	}
	m := arMembers(t, buf.Bytes())
	if string(m["debian-binary"]) != "2.0\n" {
		t.Errorf("debian-binary = %q, want 2.0", m["debian-binary"])
	}
	cn, cb := member(t, m, "control.tar")
	dn, db := member(t, m, "data.tar")
	return untar(t, cn, cb), untar(t, dn, db)
}

func TestDebControl(t *testing.T) {
	t.Parallel()
	for _, target := range Targets() {
		t.Run(target.DebArch, func(t *testing.T) {
			t.Parallel()
			control, _ := buildTestDeb(t, target)
			fields := map[string]string{}
			sc := bufio.NewScanner(bytes.NewReader(control["/control"].body))
			for sc.Scan() {
				if k, v, ok := strings.Cut(sc.Text(), ": "); ok && !strings.HasPrefix(k, " ") {
					fields[k] = v
				}
			}
			want := map[string]string{"Package": "tanglegate", "Version": "1.2.3+git4.abc",
				"Architecture": target.DebArch, "Section": "net", "Priority": "optional"}
			for k, v := range want {
				if fields[k] != v {
					t.Errorf("control %s = %q, want %q", k, fields[k], v)
				}
			}
			if dep := fields["Depends"]; dep != "" {
				t.Errorf("a static binary needs no Depends, got %q", dep)
			}
			conffiles := strings.Fields(string(control["/conffiles"].body))
			for _, f := range []string{"/etc/tanglegate/gateway.yaml", "/etc/tanglegate/rules.d/pump.yaml.example"} {
				if !strings.Contains(" "+strings.Join(conffiles, " ")+" ", " "+f+" ") {
					t.Errorf("conffiles %v lacks %s", conffiles, f)
				}
			}
			for _, s := range []string{"/postinst", "/prerm", "/postrm"} {
				f, ok := control[s]
				if !ok {
					t.Errorf("control.tar lacks %s", s)
					continue
				}
				if f.hdr.Mode&0o111 == 0 {
					t.Errorf("%s mode %o is not executable", s, f.hdr.Mode)
				}
			}
		})
	}
}

func TestDebData(t *testing.T) {
	t.Parallel()
	_, data := buildTestDeb(t, Targets()[0])
	tests := []struct {
		path string
		mode int64
		has  string // a substring of the content
	}{
		{"/usr/bin/tanglegate", 0o755, "echo fake"},
		{"/lib/systemd/system/tanglegate.service", 0o644, "User=tanglegate"},
		{"/etc/tanglegate/gateway.yaml", 0o644, "name: test"},
		{"/etc/tanglegate/rules.d/pump.yaml.example", 0o644, "rule:"},
		{"/usr/share/doc/tanglegate/copyright", 0o644, "Copyright"},
		{"/usr/share/doc/tanglegate/README.Debian", 0o644, "purge"},
		{"/usr/share/lintian/overrides/tanglegate", 0o644, "statically-linked-binary"},
		{"/usr/share/doc/tanglegate/changelog.gz", 0o644, ""},
		{"/usr/share/man/man1/tanglegate.1.gz", 0o644, ""},
	}
	for _, tc := range tests {
		f, ok := data[tc.path]
		if !ok {
			t.Errorf("data.tar lacks %s (has %v)", tc.path, keys(data))
			continue
		}
		if f.hdr.Mode&0o7777 != tc.mode || f.hdr.Uname != "root" || !f.hdr.ModTime.Equal(testTime) {
			t.Errorf("%s: mode %o owner %s mtime %v, want %o root %v", tc.path, f.hdr.Mode, f.hdr.Uname, f.hdr.ModTime, tc.mode, testTime)
		}
		if !strings.Contains(string(f.body), tc.has) {
			t.Errorf("%s does not contain %q", tc.path, tc.has)
		}
	}
	zr, err := gzip.NewReader(bytes.NewReader(data["/usr/share/doc/tanglegate/changelog.gz"].body))
	if err != nil {
		t.Fatal(err)
	}
	cl, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(cl), "tanglegate (1.2.3+git4.abc) unstable; urgency=medium\n") {
		t.Errorf("changelog starts %q", cl)
	}
}

// TestUnitFile pins the directives the issue asks for, so that an edit cannot drop one silently.
func TestUnitFile(t *testing.T) {
	t.Parallel()
	unit, err := debFiles.ReadFile("deb/tanglegate.service")
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for l := range strings.Lines(string(unit)) {
		lines[strings.TrimSpace(l)] = true
	}
	for _, want := range []string{
		"User=tanglegate", "Group=tanglegate", "SupplementaryGroups=dialout",
		"StateDirectory=tanglegate", "ConfigurationDirectory=tanglegate",
		"Restart=on-failure", "ExecReload=/bin/kill -HUP $MAINPID",
		"NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
		"CapabilityBoundingSet=", "WantedBy=multi-user.target",
		"ExecStart=/usr/bin/tanglegate run --config /etc/tanglegate/gateway.yaml",
	} {
		if !lines[want] {
			t.Errorf("tanglegate.service lacks %q", want)
		}
	}
}

// TestMaintainerScriptsParse runs `sh -n` on every maintainer script.
func TestMaintainerScriptsParse(t *testing.T) {
	t.Parallel()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	for _, name := range []string{"postinst", "prerm", "postrm"} {
		b, err := debFiles.ReadFile("deb/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(b), "#!/bin/sh\n") || !strings.Contains(string(b), "set -e") {
			t.Errorf("%s must be a #!/bin/sh script with set -e", name)
		}
		cmd := exec.Command(sh, "-n")
		cmd.Stdin = bytes.NewReader(b)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("sh -n %s: %v\n%s", name, err, out)
		}
	}
}
