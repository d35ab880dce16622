// Command mkpkg builds Tanglegate's release artefacts into a directory
// (dist/ by default): the static binaries, tanglegate_<version>_<arch>.deb for
// amd64, arm64 and armhf, and the multi-platform OCI image as an OCI layout
// tarball. No Docker, dpkg-deb or root needed. Run it from the module root:
//
//	go run ./packaging/cmd/mkpkg -version "$(git describe --tags --always --dirty)"
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tanglegate/gateway/packaging"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkpkg:", err)
		os.Exit(1)
	}
}

// options are mkpkg's flags.
type options struct {
	version    string
	out        string
	module     string
	arches     string
	config     string
	caCerts    string
	maintainer string
	debs, oci  bool
	printDeb   bool
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mkpkg", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.version, "version", "", "version from `git describe --tags --always --dirty` (default: run it)")
	fs.StringVar(&o.out, "out", "dist", "output directory")
	fs.StringVar(&o.module, "module", ".", "module root to build ./cmd/gateway from")
	fs.StringVar(&o.arches, "arch", "amd64,arm64,armhf", "Debian architectures to build, comma-separated")
	fs.StringVar(&o.config, "config", "", "default gateway.yaml (default: config/example.yaml, else packaging/gateway.yaml)")
	fs.StringVar(&o.caCerts, "ca-certs", "/etc/ssl/certs/ca-certificates.crt", "CA bundle for the image")
	fs.StringVar(&o.maintainer, "maintainer", packaging.DefaultMaintainer, "Maintainer field of the .deb")
	fs.BoolVar(&o.debs, "deb", true, "build the .deb packages")
	fs.BoolVar(&o.oci, "oci", true, "build the OCI image")
	fs.BoolVar(&o.printDeb, "print-deb-version", false, "print the Debian version for -version and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.version == "" {
		o.version = gitDescribe(ctx, o.module)
	}
	if o.printDeb {
		_, err := fmt.Fprintln(stdout, packaging.DebVersion(o.version))
		return err
	}
	return build(ctx, o, stdout)
}

func build(ctx context.Context, o options, stdout io.Writer) error {
	debVersion := packaging.DebVersion(o.version)
	targets, err := selectTargets(o.arches)
	if err != nil {
		return err
	}
	configPath, config, err := readConfig(o)
	if err != nil {
		return err
	}
	example, err := os.ReadFile(filepath.Join(o.module, "config", "example.yaml"))
	if err != nil {
		return fmt.Errorf("read the annotated example config: %w", err)
	}
	mtime := sourceDate(ctx, o.module)
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", o.out, err)
	}
	fmt.Fprintf(stdout, "version %s (deb %s), config %s\n", o.version, debVersion, configPath)

	binaries := make(map[packaging.Target]string, len(targets))
	for _, t := range targets {
		bin := filepath.Join(o.out, "bin", "linux_"+t.DebArch, "tanglegate")
		if err := packaging.BuildBinary(ctx, t, o.module, o.version, bin); err != nil {
			return err
		}
		st, err := os.Stat(bin)
		if err != nil {
			return fmt.Errorf("stat binary: %w", err)
		}
		fmt.Fprintf(stdout, "%s  %.1f MB (%d bytes, stripped)\n", bin, float64(st.Size())/1e6, st.Size())
		binaries[t] = bin
	}
	if o.debs {
		for _, t := range targets {
			d := packaging.Deb{Target: t, Version: debVersion, Binary: binaries[t], Config: config, Example: example,
				Maintainer: o.maintainer, MTime: mtime}
			path := filepath.Join(o.out, d.FileName())
			if err := writeFile(path, d.Build); err != nil {
				return err
			}
			fmt.Fprintln(stdout, path)
		}
	}
	if o.oci {
		ca, err := os.ReadFile(o.caCerts)
		if err != nil {
			return fmt.Errorf("read CA certificates: %w", err)
		}
		im := packaging.Image{Version: o.version, Tag: packaging.OCITag(debVersion), Binaries: binaries,
			Config: config, CACerts: ca, Created: mtime}
		dir, err := os.MkdirTemp(o.out, ".oci-")
		if err != nil {
			return fmt.Errorf("create OCI staging dir: %w", err)
		}
		defer os.RemoveAll(dir)
		layoutDir := filepath.Join(dir, "layout")
		if err := im.WriteLayout(layoutDir); err != nil {
			return err
		}
		path := filepath.Join(o.out, "tanglegate_"+debVersion+"_oci.tar")
		if err := writeFile(path, func(w io.Writer) error { return packaging.TarDir(layoutDir, w, mtime) }); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s  (OCI layout; tags %s, %s-<arch>)\n", path, im.Tag, im.Tag)
	}
	return nil
}

// selectTargets returns the targets named by a comma-separated list of Debian architectures.
func selectTargets(list string) ([]packaging.Target, error) {
	var out []packaging.Target
	all := packaging.Targets()
	for a := range strings.SplitSeq(list, ",") {
		i := slices.IndexFunc(all, func(t packaging.Target) bool { return t.DebArch == strings.TrimSpace(a) })
		if i < 0 {
			return nil, fmt.Errorf("-arch: unknown architecture %q (want amd64, arm64 or armhf)", a)
		}
		out = append(out, all[i])
	}
	return out, nil
}

// readConfig returns the default config: -config, else packaging/gateway.yaml
// (runnable as installed: a local node, no devices, no secrets to create).
// The annotated config/example.yaml is shipped as documentation instead.
func readConfig(o options) (string, []byte, error) {
	candidates := []string{o.config}
	if o.config == "" {
		candidates = []string{filepath.Join(o.module, "packaging", "gateway.yaml")}
	}
	for _, p := range candidates {
		b, err := os.ReadFile(p)
		if err == nil {
			return p, b, nil
		}
		if !errors.Is(err, os.ErrNotExist) || o.config != "" {
			return "", nil, fmt.Errorf("read default config: %w", err)
		}
	}
	return "", nil, fmt.Errorf("read default config: none of %q exists", candidates)
}

// gitDescribe returns `git describe --tags --always --dirty`, or "" outside a
// repository or before the first commit.
func gitDescribe(ctx context.Context, dir string) string {
	out, err := gitOutput(ctx, dir, "describe", "--tags", "--always", "--dirty")
	if err != nil {
		return ""
	}
	return out
}

// sourceDate is the timestamp of every packaged file: $SOURCE_DATE_EPOCH,
// else the last commit's time, else now.
func sourceDate(ctx context.Context, dir string) time.Time {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		s, _ = gitOutput(ctx, dir, "log", "-1", "--format=%ct")
	}
	if sec, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(sec, 0).UTC()
	}
	return time.Now().UTC().Truncate(time.Second)
}

func gitOutput(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return "", err
	}
	return strings.TrimSpace(out.String()), nil
}

// writeFile writes path atomically: a temporary file in the same directory, then rename.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return fmt.Errorf("chmod %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("rename to %s: %w", path, err)
	}
	return nil
}
