package packaging

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func testImage(t *testing.T) Image {
	t.Helper()
	bins := map[Target]string{}
	for _, tg := range Targets() {
		bins[tg] = fakeBinary(t, "binary for "+tg.String())
	}
	return Image{Version: "v1.2.3", Tag: "1.2.3", Binaries: bins, Config: []byte("gateway: {name: test}\n"),
		CACerts: []byte("-----BEGIN CERTIFICATE-----\n"), Created: testTime}
}

// flatten returns the files of img's merged filesystem.
func flatten(t *testing.T, img v1.Image) map[string]tarFile {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	out := map[string]tarFile{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(h.Name, "/")] = tarFile{h, b}
	}
}

func TestImageLayout(t *testing.T) {
	t.Parallel()
	im := testImage(t)
	dir := filepath.Join(t.TempDir(), "layout")
	if err := im.WriteLayout(dir); err != nil {
		t.Fatal(err)
	}
	lp, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	top, err := lp.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	tm, err := top.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	refs := map[string]v1.Descriptor{}
	for _, d := range tm.Manifests {
		refs[d.Annotations[refNameAnnotation]] = d
	}
	for _, want := range []string{"1.2.3", "1.2.3-amd64", "1.2.3-arm64", "1.2.3-armv7"} {
		if _, ok := refs[want]; !ok {
			t.Errorf("index.json has no ref %q (has %v)", want, keys(refs))
		}
	}
	if mt := refs["1.2.3"].MediaType; mt != types.OCIImageIndex {
		t.Fatalf("ref 1.2.3 is a %s, want an OCI image index", mt)
	}
	idx, err := top.ImageIndex(refs["1.2.3"].Digest)
	if err != nil {
		t.Fatal(err)
	}
	im2, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var platforms []string
	for _, d := range im2.Manifests {
		platforms = append(platforms, d.Platform.String())
		if d.MediaType != types.OCIManifestSchema1 {
			t.Errorf("%s manifest is a %s, want OCI", d.Platform, d.MediaType)
		}
		if d.Digest != refs["1.2.3-"+d.Platform.Architecture+d.Platform.Variant].Digest {
			t.Errorf("%s: the per-platform ref names another image", d.Platform)
		}
	}
	slices.Sort(platforms)
	if want := []string{"linux/amd64", "linux/arm/v7", "linux/arm64"}; !slices.Equal(platforms, want) {
		t.Errorf("platforms %v, want %v", platforms, want)
	}

	for _, d := range im2.Manifests {
		t.Run(d.Platform.String(), func(t *testing.T) {
			img, err := idx.Image(d.Digest)
			if err != nil {
				t.Fatal(err)
			}
			cf, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			if cf.Architecture != d.Platform.Architecture || cf.Variant != d.Platform.Variant || cf.OS != "linux" {
				t.Errorf("config platform %s/%s/%s, want %s", cf.OS, cf.Architecture, cf.Variant, d.Platform)
			}
			c := cf.Config
			if c.User != "10001:10001" {
				t.Errorf("User = %q, want the non-root 10001:10001", c.User)
			}
			if c.Healthcheck == nil || !slices.Equal(c.Healthcheck.Test, []string{"CMD", "/usr/bin/tanglegate", "version"}) {
				t.Errorf("Healthcheck = %+v", c.Healthcheck)
			}
			if _, ok := c.Volumes["/var/lib/tanglegate"]; !ok {
				t.Errorf("Volumes = %v, want /var/lib/tanglegate", c.Volumes)
			}
			if !slices.Equal(c.Entrypoint, []string{"/usr/bin/tanglegate"}) {
				t.Errorf("Entrypoint = %v", c.Entrypoint)
			}
			fs := flatten(t, img)
			wantFiles := map[string]string{
				"usr/bin/tanglegate":                "binary for " + d.Platform.String(),
				"etc/tanglegate/gateway.yaml":       "name: test",
				"etc/ssl/certs/ca-certificates.crt": "BEGIN CERTIFICATE",
				"etc/passwd":                        "tanglegate:x:10001:10001:",
				"etc/group":                         "tanglegate:x:10001:",
			}
			for p, has := range wantFiles {
				if !strings.Contains(string(fs[p].body), has) {
					t.Errorf("%s = %q, want it to contain %q", p, fs[p].body, has)
				}
			}
			st := fs["var/lib/tanglegate"].hdr
			if st == nil || st.Uid != ImageUID || st.Typeflag != tar.TypeDir {
				t.Errorf("var/lib/tanglegate = %+v, want a dir owned by %d", st, ImageUID)
			}
		})
	}
}

func TestTarDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "layout")
	if err := testImage(t).WriteLayout(dir); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := TarDir(dir, &buf, testTime); err != nil {
		t.Fatal(err)
	}
	files := untar(t, "layout.tar", buf.Bytes())
	for _, p := range []string{"oci-layout", "index.json"} {
		want, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		f, ok := files[p]
		if !ok || !bytes.Equal(f.body, want) || !f.hdr.ModTime.Equal(testTime) {
			t.Errorf("archive entry %s missing or different", p)
		}
	}
	var buf2 bytes.Buffer
	if err := TarDir(dir, &buf2, testTime); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), buf2.Bytes()) {
		t.Error("two archives of one layout differ")
	}
}
