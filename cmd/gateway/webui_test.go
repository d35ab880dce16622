package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tanglegate/gateway/config"
	"github.com/tanglegate/gateway/internal/testkit"
)

// The status page shows what a plant engineer checks first: a device that
// cannot be reached (offline, with the reason), the rules and their state,
// and the node's milestones, as HTML and as JSON.
func TestStatusPageShowsDevicesRulesAndTheNode(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dead := fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t)) // nothing listens there
	metricsAddr := fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t))
	src := fmt.Sprintf(`gateway: { name: hall-3, state_dir: state }
node: { api: 127.0.0.1:%d, peering: "", mwm: 3, coordinator: { depth: 4, interval: 1s } }
metrics: %s
rules: rules.d/*.yaml
devices:
  - name: pump1
    modbus:
      address: tcp://%s
      unit: 1
      poll: 200ms
      points:
        - { name: temperature, register: holding 100, type: uint16 }
`, testkit.FreePort(t), metricsAddr, dead)
	if err := os.MkdirAll(filepath.Join(dir, "rules.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	rule := "- rule: pump1-hot\n  when: pump1.temperature > 80\n  then:\n    - write: pump1.temperature = 0\n"
	if err := os.WriteFile(filepath.Join(dir, "rules.d", "pump.yaml"), []byte(rule), 0o644); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(cfgPath, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	g, err := newGateway(cfg, slog.New(slog.DiscardHandler), gatewayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- g.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("gateway run: %v", err)
		}
		g.Close()
	})

	var st gatewayStatus
	eventually(t, 30*time.Second, "status.json with an offline pump and a solid milestone", func() error {
		body, err := httpGet(t.Context(), "http://"+metricsAddr+"/status.json")
		if err != nil {
			return err
		}
		st = gatewayStatus{}
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			return fmt.Errorf("decode %q: %w", body, err)
		}
		switch {
		case len(st.Devices) != 1 || st.Devices[0].State != "offline" || st.Devices[0].LastError == "":
			return fmt.Errorf("devices %+v", st.Devices)
		case st.Node.Coordinator == "" || !st.Node.IsCoordinator:
			return fmt.Errorf("node %+v", st.Node)
		}
		return nil
	})
	if st.Gateway != "hall-3" || len(st.Rules) != 1 || st.Rules[0].Name != "pump1-hot" || st.Rules[0].Phase != "idle" {
		t.Errorf("status %+v", st)
	}
	page, err := httpGet(t.Context(), "http://"+metricsAddr+"/")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<title>hall-3 · Tanglegate</title>", "pump1", `class="offline"`, st.Devices[0].LastError, "pump1-hot", st.Node.Coordinator} {
		if !strings.Contains(page, htmlText(want)) {
			t.Errorf("the status page lacks %q:\n%s", want, page)
		}
	}
}

// htmlText is how html/template writes s into the page's text.
func htmlText(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;")
	if strings.HasPrefix(s, "<title>") || strings.HasPrefix(s, "class=") {
		return s
	}
	return r.Replace(s)
}
