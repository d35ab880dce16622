package packaging

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
)

// BuildBinary compiles ./cmd/gateway of the module in moduleDir for t into
// out: static (CGO_ENABLED=0), stripped (-s -w), with main.version set to
// version. It runs the go command found on PATH.
func BuildBinary(ctx context.Context, t Target, moduleDir, version, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false",
		"-ldflags", "-s -w -X main.version="+version, "-o", out, "./cmd/gateway")
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+t.GOARCH, "GOARM="+t.GOARM)
	var stderr bytes.Buffer
	cmd.Stdout = &stderr
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build for %s: %w\n%s", t, err, stderr.Bytes())
	}
	return nil
}
