package packaging

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The image's non-root user. Numeric in the config so that runtimes can check
// runAsNonRoot without reading /etc/passwd.
const (
	ImageUID = 10001
	ImageGID = 10001
	// dialoutGID is Debian's dialout group, for serial devices passed in with --device.
	dialoutGID = 20
)

// refNameAnnotation names a manifest inside an OCI layout (a "tag").
const refNameAnnotation = "org.opencontainers.image.ref.name"

// An Image describes the multi-platform OCI image to build.
type Image struct {
	Version  string            // version shown in labels (git describe)
	Tag      string            // ref name of the index, see [OCITag]
	Binaries map[Target]string // static tanglegate binary per platform
	Config   []byte            // installed as /etc/tanglegate/gateway.yaml
	CACerts  []byte            // installed as /etc/ssl/certs/ca-certificates.crt
	Created  time.Time         // image creation time and every file's mtime
}

// WriteLayout writes the image index to the OCI layout directory dir (which
// must not exist yet). index.json names the multi-platform index Tag, and
// each platform's image Tag-<goarch><variant> (such as 1.2.3-armv7), for
// tools like umoci that do not choose a platform themselves.
func (im Image) WriteLayout(dir string) error {
	targets := make([]Target, 0, len(im.Binaries))
	for t := range im.Binaries {
		targets = append(targets, t)
	}
	sort.Slice(targets, func(i, j int) bool { return targets[i].String() < targets[j].String() })

	base, err := im.baseLayer()
	if err != nil {
		return err
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	images := make([]v1.Image, len(targets))
	for i, t := range targets {
		img, err := im.image(t, base)
		if err != nil {
			return err
		}
		images[i] = img
		p := t.Platform()
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &p},
		})
	}
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("create OCI layout %s: %w", dir, err)
	}
	if err := lp.AppendIndex(idx, layout.WithAnnotations(map[string]string{refNameAnnotation: im.Tag})); err != nil {
		return fmt.Errorf("write image index: %w", err)
	}
	for i, t := range targets {
		opts := []layout.Option{
			layout.WithAnnotations(map[string]string{refNameAnnotation: im.Tag + "-" + t.GOARCH + t.Variant}),
			layout.WithPlatform(t.Platform()),
		}
		if err := lp.AppendImage(images[i], opts...); err != nil {
			return fmt.Errorf("write %s image: %w", t, err)
		}
	}
	return nil
}

// image assembles the image of one platform: the shared base layer, then the binary.
func (im Image) image(t Target, base v1.Layer) (v1.Image, error) {
	bin, err := os.ReadFile(im.Binaries[t])
	if err != nil {
		return nil, fmt.Errorf("read %s binary: %w", t, err)
	}
	var tb tarBuilder
	tb.dir("usr/", 0o755, 0, 0)
	tb.dir("usr/bin/", 0o755, 0, 0)
	tb.file("usr/bin/tanglegate", bin, 0o755, 0, 0)
	binLayer, err := tb.layer(im.Created)
	if err != nil {
		return nil, err
	}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err = mutate.AppendLayers(img, base, binLayer)
	if err != nil {
		return nil, fmt.Errorf("add layers to %s image: %w", t, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("read %s image config: %w", t, err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = "linux", t.GOARCH, t.Variant
	cf.Created = v1.Time{Time: im.Created}
	cf.Author = "Tanglegate"
	cf.Config = im.config()
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("set %s image config: %w", t, err)
	}
	return img, nil
}

// config is the runtime configuration shared by every platform.
func (im Image) config() v1.Config {
	return v1.Config{
		User:       fmt.Sprintf("%d:%d", ImageUID, ImageGID),
		Entrypoint: []string{"/usr/bin/tanglegate"},
		Cmd:        []string{"run", "--config", "/etc/tanglegate/gateway.yaml"},
		WorkingDir: "/var/lib/tanglegate",
		Env: []string{
			"PATH=/usr/bin",
			"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
		},
		Volumes: map[string]struct{}{"/var/lib/tanglegate": {}},
		ExposedPorts: map[string]struct{}{
			"14265/tcp": {}, // node API
			"15600/tcp": {}, // peering (TLS)
			"9311/tcp":  {}, // metrics, /healthz
		},
		Healthcheck: &v1.HealthConfig{
			Test:        []string{"CMD", "/usr/bin/tanglegate", "version"},
			Interval:    30 * time.Second,
			Timeout:     5 * time.Second,
			StartPeriod: 10 * time.Second,
			Retries:     3,
		},
		StopSignal: "SIGTERM",
		Labels: map[string]string{
			"org.opencontainers.image.title":       "tanglegate",
			"org.opencontainers.image.description": "Tanglegate edge gateway",
			"org.opencontainers.image.version":     im.Version,
			"org.opencontainers.image.source":      "https://github.com/tanglegate/gateway",
			"org.opencontainers.image.created":     im.Created.UTC().Format(time.RFC3339),
		},
	}
}

// baseLayer holds everything but the binary: users, CA certificates, the
// default config and the state volume.
func (im Image) baseLayer() (v1.Layer, error) {
	var tb tarBuilder
	tb.dir("etc/", 0o755, 0, 0)
	tb.file("etc/passwd", fmt.Appendf(nil, "root:x:0:0:root:/root:/sbin/nologin\ntanglegate:x:%d:%d:Tanglegate:/var/lib/tanglegate:/sbin/nologin\n", ImageUID, ImageGID), 0o644, 0, 0)
	tb.file("etc/group", fmt.Appendf(nil, "root:x:0:\ndialout:x:%d:tanglegate\ntanglegate:x:%d:\n", dialoutGID, ImageGID), 0o644, 0, 0)
	tb.dir("etc/ssl/", 0o755, 0, 0)
	tb.dir("etc/ssl/certs/", 0o755, 0, 0)
	tb.file("etc/ssl/certs/ca-certificates.crt", im.CACerts, 0o644, 0, 0)
	tb.dir("etc/tanglegate/", 0o755, 0, 0)
	tb.file("etc/tanglegate/gateway.yaml", im.Config, 0o644, 0, 0)
	tb.dir("etc/tanglegate/rules.d/", 0o755, 0, 0)
	tb.dir("tmp/", 0o1777, 0, 0)
	tb.dir("var/", 0o755, 0, 0)
	tb.dir("var/lib/", 0o755, 0, 0)
	tb.dir("var/lib/tanglegate/", 0o750, ImageUID, ImageGID)
	return tb.layer(im.Created)
}

// tarBuilder collects the entries of one layer.
type tarBuilder struct {
	entries []tarEntry
}

type tarEntry struct {
	hdr  tar.Header
	body []byte
}

func (b *tarBuilder) dir(name string, mode int64, uid, gid int) {
	b.entries = append(b.entries, tarEntry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: mode, Uid: uid, Gid: gid}})
}

func (b *tarBuilder) file(name string, body []byte, mode int64, uid, gid int) {
	b.entries = append(b.entries, tarEntry{
		hdr:  tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Uid: uid, Gid: gid, Size: int64(len(body))},
		body: body,
	})
}

// layer returns the entries as a gzip-compressed OCI layer, every mtime set to mtime.
func (b *tarBuilder) layer(mtime time.Time) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range b.entries {
		h := e.hdr
		h.ModTime = mtime
		h.Format = tar.FormatPAX
		if err := tw.WriteHeader(&h); err != nil {
			return nil, fmt.Errorf("write layer entry %s: %w", h.Name, err)
		}
		if _, err := tw.Write(e.body); err != nil {
			return nil, fmt.Errorf("write layer entry %s: %w", h.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("finish layer: %w", err)
	}
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("make layer: %w", err)
	}
	return l, nil
}

// TarDir writes the directory dir (an OCI layout) to w as a tar archive
// (the oci-archive format of skopeo and podman): sorted, root-owned, every
// mtime set to mtime.
func TarDir(dir string, w io.Writer, mtime time.Time) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == "." {
			return err
		}
		h := tar.Header{Name: filepath.ToSlash(rel), ModTime: mtime, Mode: 0o644, Format: tar.FormatPAX}
		if d.IsDir() {
			h.Typeflag, h.Name, h.Mode = tar.TypeDir, h.Name+"/", 0o755
			return tw.WriteHeader(&h)
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file", path)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		h.Typeflag, h.Size = tar.TypeReg, info.Size()
		if err := tw.WriteHeader(&h); err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return fmt.Errorf("archive OCI layout %s: %w", dir, err)
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("archive OCI layout %s: %w", dir, err)
	}
	return nil
}
