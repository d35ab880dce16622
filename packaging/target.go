package packaging

import (
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// A Target is one platform that Tanglegate is released for.
type Target struct {
	GOARCH  string // Go's architecture: amd64, arm64, arm
	GOARM   string // Go's ARM version for GOARCH=arm ("7"), empty otherwise
	DebArch string // Debian's architecture: amd64, arm64, armhf
	Variant string // OCI platform variant: "v7" for arm, empty otherwise
}

// Targets returns the released platforms: linux/amd64, linux/arm64 and
// linux/arm/v7 (Debian armhf, Raspberry Pi OS 32-bit).
func Targets() []Target {
	return []Target{
		{GOARCH: "amd64", DebArch: "amd64"},
		{GOARCH: "arm64", DebArch: "arm64"},
		{GOARCH: "arm", GOARM: "7", DebArch: "armhf", Variant: "v7"},
	}
}

// Platform returns the OCI platform of t.
func (t Target) Platform() v1.Platform {
	return v1.Platform{OS: "linux", Architecture: t.GOARCH, Variant: t.Variant}
}

// String returns the Go platform, such as linux/arm/v7.
func (t Target) String() string {
	s := "linux/" + t.GOARCH
	if t.Variant != "" {
		s += "/" + t.Variant
	}
	return s
}
