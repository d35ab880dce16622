# ---- packaging (issue 10): `make package`, `make package-test` ----------------
# Included by the top-level Makefile. Everything is built by packaging/cmd/mkpkg
# (pure Go: nfpm for the .deb, go-containerregistry for the OCI image).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.0.0~dev)
DIST    ?= dist

.PHONY: package package-test
## package: static binaries, tanglegate_<version>_{amd64,arm64,armhf}.deb and the OCI image tarball in $(DIST)/
package:
	go run ./packaging/cmd/mkpkg -version "$(VERSION)" -out "$(DIST)"

## package-test: lintian, systemd-analyze, dpkg install/upgrade/remove/purge, qemu, skopeo/umoci (root, Debian)
package-test:
	VERSION="$(VERSION)" ./packaging/test.sh
# ---- end packaging ------------------------------------------------------------
