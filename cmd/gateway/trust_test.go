package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tanglegate/gateway/internal/testkit"
)

func TestIntegrationTrustOPCUAPrintsThePin(t *testing.T) {
	testkit.Integration(t)
	srv := testkit.StartNodeOPCUA(t)
	var out, errb bytes.Buffer
	if err := run(t.Context(), []string{"trust", "opcua", "--endpoint", srv.URL}, strings.NewReader(""), &out, &errb); err != nil {
		t.Fatalf("trust opcua: %v\n%s", err, errb.String())
	}
	if !strings.Contains(out.String(), "Basic256Sha256") || !strings.Contains(out.String(), `server_cert: "sha256:`) {
		t.Fatalf("output lacks the endpoints or the pin:\n%s", out.String())
	}
}

func TestTrustOPCUANeedsAnEndpoint(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	err := run(t.Context(), []string{"trust", "opcua"}, strings.NewReader(""), &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "--endpoint is required") {
		t.Fatalf("err = %v, want --endpoint is required", err)
	}
}
