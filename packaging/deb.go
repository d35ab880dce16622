package packaging

import (
	"bytes"
	"compress/gzip"
	"embed"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/deb"
	"github.com/goreleaser/nfpm/v2/files"
)

// debFiles holds the unit, maintainer scripts and docs of the .deb.
//
//go:embed deb
var debFiles embed.FS

// DefaultMaintainer is the Maintainer field when none is given.
const DefaultMaintainer = "Tanglegate maintainers <packaging@tanglegate.invalid>"

// A Deb describes one Debian package to build.
type Deb struct {
	Target     Target
	Version    string    // Debian version, see [DebVersion]
	Binary     string    // path of the static tanglegate binary for Target
	Config     []byte    // installed as /etc/tanglegate/gateway.yaml
	Example    []byte    // the annotated example, /usr/share/doc/tanglegate/examples/gateway.yaml (optional)
	Maintainer string    // [DefaultMaintainer] if empty
	MTime      time.Time // timestamp of every file (reproducible builds)
}

// FileName returns the conventional name tanglegate_<version>_<arch>.deb.
func (d Deb) FileName() string {
	return fmt.Sprintf("tanglegate_%s_%s.deb", d.Version, d.Target.DebArch)
}

// Build writes the package to w.
func (d Deb) Build(w io.Writer) error {
	stage, err := os.MkdirTemp("", "tanglegate-deb-")
	if err != nil {
		return fmt.Errorf("create staging dir: %w", err)
	}
	defer os.RemoveAll(stage)
	if err := d.stage(stage); err != nil {
		return err
	}
	info := d.info(stage)
	info = nfpm.WithDefaults(info)
	if err := nfpm.PrepareForPackager(info, "deb"); err != nil {
		return fmt.Errorf("prepare deb %s: %w", d.FileName(), err)
	}
	if err := deb.Default.Package(info, w); err != nil {
		return fmt.Errorf("write deb %s: %w", d.FileName(), err)
	}
	return nil
}

// stage writes the embedded files, the config and the changelog to dir.
func (d Deb) stage(dir string) error {
	entries, err := debFiles.ReadDir("deb")
	if err != nil {
		return fmt.Errorf("read embedded deb files: %w", err)
	}
	for _, e := range entries {
		b, err := debFiles.ReadFile("deb/" + e.Name())
		if err != nil {
			return fmt.Errorf("read embedded %s: %w", e.Name(), err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			return fmt.Errorf("stage %s: %w", e.Name(), err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "gateway.yaml"), d.Config, 0o644); err != nil {
		return fmt.Errorf("stage gateway.yaml: %w", err)
	}
	if len(d.Example) > 0 {
		if err := os.WriteFile(filepath.Join(dir, "gateway.yaml.example"), d.Example, 0o644); err != nil {
			return fmt.Errorf("stage gateway.yaml example: %w", err)
		}
	}
	man, err := debFiles.ReadFile("deb/tanglegate.1")
	if err != nil {
		return fmt.Errorf("read embedded man page: %w", err)
	}
	for name, b := range map[string][]byte{"changelog.gz": []byte(d.changelog()), "tanglegate.1.gz": man} {
		z, err := gzipBytes(b)
		if err != nil {
			return fmt.Errorf("compress %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), z, 0o644); err != nil {
			return fmt.Errorf("stage %s: %w", name, err)
		}
	}
	return nil
}

func (d Deb) maintainer() string {
	if d.Maintainer == "" {
		return DefaultMaintainer
	}
	return d.Maintainer
}

// changelog is a one-entry Debian changelog (lintian requires one).
func (d Deb) changelog() string {
	return fmt.Sprintf("tanglegate (%s) unstable; urgency=medium\n\n  * Release %s.\n\n -- %s  %s\n",
		d.Version, d.Version, d.maintainer(), d.MTime.UTC().Format("Mon, 02 Jan 2006 15:04:05 -0700"))
}

func (d Deb) info(stage string) *nfpm.Info {
	file := func(src, dst string, mode os.FileMode) *files.Content {
		return &files.Content{Source: src, Destination: dst,
			FileInfo: &files.ContentFileInfo{Owner: "root", Group: "root", Mode: mode, MTime: d.MTime}}
	}
	conf := func(src, dst string) *files.Content {
		c := file(src, dst, 0o644)
		c.Type = files.TypeConfig
		return c
	}
	s := func(name string) string { return filepath.Join(stage, name) }
	doc := "/usr/share/doc/tanglegate/"
	info := &nfpm.Info{
		Name:          "tanglegate",
		Arch:          d.Target.DebArch,
		Platform:      "linux",
		Version:       d.Version,
		VersionSchema: "none",
		Section:       "net",
		Priority:      "optional",
		Maintainer:    d.maintainer(),
		Homepage:      "https://github.com/tanglegate/gateway",
		License:       "see /usr/share/doc/tanglegate/copyright",
		Description: `edge gateway for field devices with a local IOTA tangle node
 Tanglegate polls field devices (Modbus TCP/RTU/ASCII, OPC UA, serial lines,
 MQTT), gives each one a tangle identity, runs a local node of the legacy
 IOTA tangle with local proof-of-work, and sends MAM messages to helper
 devices when a rule fires. One static binary, run by systemd as the
 tanglegate user.`,
		MTime: d.MTime,
		Overridables: nfpm.Overridables{
			Umask: 0o022,
			Contents: files.Contents{
				file(d.Binary, "/usr/bin/tanglegate", 0o755),
				file(s("tanglegate.service"), "/lib/systemd/system/tanglegate.service", 0o644),
				conf(s("gateway.yaml"), "/etc/tanglegate/gateway.yaml"),
				conf(s("pump.yaml.example"), "/etc/tanglegate/rules.d/pump.yaml.example"),
				file(s("copyright"), doc+"copyright", 0o644),
				file(s("changelog.gz"), doc+"changelog.gz", 0o644),
				file(s("README.Debian"), doc+"README.Debian", 0o644),
				file(s("tanglegate.1.gz"), "/usr/share/man/man1/tanglegate.1.gz", 0o644),
				file(s("lintian-overrides"), "/usr/share/lintian/overrides/tanglegate", 0o644),
			},
			Scripts: nfpm.Scripts{
				PostInstall: s("postinst"),
				PreRemove:   s("prerm"),
				PostRemove:  s("postrm"),
			},
			Deb: nfpm.Deb{Compression: "xz"},
		},
	}
	if len(d.Example) > 0 {
		info.Contents = append(info.Contents, file(s("gateway.yaml.example"), doc+"examples/gateway.yaml", 0o644))
	}
	return info
}

// gzipBytes compresses b with maximum compression and no name or timestamp
// in the header, as dh_compress does (gzip -9n).
func gzipBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
