// Package packaging builds Tanglegate's release artefacts without Docker or
// dpkg-deb: static binaries for linux/amd64, linux/arm64 and linux/arm/v7,
// Debian packages with a hardened systemd unit (through nfpm), and a
// multi-platform OCI image index written as an OCI layout tarball (through
// go-containerregistry).
//
// The command packaging/cmd/mkpkg drives it (`make package`); the shell
// script packaging/test.sh checks the results on a real system
// (`make package-test`).
//
// # Caveats
//
// Maintainer scripts, the unit file and the lintian overrides are embedded
// from packaging/deb/ and written to a temporary directory while a package is
// built, because nfpm reads its sources from disk.
package packaging
