package main

import (
	_ "embed"
	"encoding/json"
	"html/template"
	"net/http"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"time"

	"github.com/tanglegate/gateway/identity"
)

// The status page on the metrics listener (default 127.0.0.1:9311): what a
// plant engineer checks first — devices, rules, the tangle node, peers and
// the outbox — as HTML at / (refreshing itself) and as JSON at /status.json.
// It is read-only: nothing on it changes the gateway.

//go:embed web/status.html
var statusPageHTML string

var statusPage = template.Must(template.New("status").Funcs(template.FuncMap{
	"mib": func(n any) string {
		var v float64
		switch n := n.(type) {
		case uint64:
			v = float64(n)
		case int64:
			v = float64(n)
		}
		return strconv.FormatFloat(v/(1<<20), 'f', 0, 64)
	},
}).Parse(statusPageHTML))

// gatewayStatus is the content of the status page and /status.json.
type gatewayStatus struct {
	Gateway string         `json:"gateway"`
	Version string         `json:"version"`
	Uptime  string         `json:"uptime"`
	Node    nodeStatus     `json:"node"`
	Outbox  outboxStatus   `json:"outbox"`
	Devices []deviceStatus `json:"devices"`
	Rules   []ruleStatus   `json:"rules"`
	// HeapBytes is the Go heap in use, GoMemoryLimit the runtime's soft
	// limit (GOMEMLIMIT, or the default `tanglegate run` sets).
	HeapBytes     uint64 `json:"heap_bytes"`
	GoMemoryLimit int64  `json:"go_memory_limit"`
}

type nodeStatus struct {
	Transactions    uint64   `json:"transactions"`
	Tips            int      `json:"tips"`
	LatestMilestone uint32   `json:"latest_milestone"`
	SolidMilestone  uint32   `json:"solid_milestone"`
	Synced          bool     `json:"synced"`
	Coordinator     string   `json:"coordinator"` // empty while a new coordinator builds its tree
	IsCoordinator   bool     `json:"is_coordinator"`
	Peers           []string `json:"peers"` // fingerprints of the connected peers
	PeersConfigured int      `json:"peers_configured"`
}

type outboxStatus struct {
	Queued   int    `json:"queued"`
	Attached uint64 `json:"attached"`
}

type deviceStatus struct {
	Name      string `json:"name"`
	State     string `json:"state"`
	Since     string `json:"since,omitempty"`
	LastError string `json:"last_error,omitempty"`
	Failures  int    `json:"failures,omitempty"`
	Identity  string `json:"identity,omitempty"`
	Messages  int    `json:"mam_messages"`
}

type ruleStatus struct {
	Name   string `json:"name"`
	Phase  string `json:"phase"`
	Since  string `json:"since,omitempty"`
	Firing int    `json:"firing,omitempty"`
	Acked  bool   `json:"acknowledged,omitempty"`
}

// status collects the gateway's state for the status page.
func (g *gateway) status() gatewayStatus {
	cfg := g.config()
	now := g.opts.now()
	ago := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return now.Sub(t).Round(time.Second).String() + " ago"
	}
	st := gatewayStatus{Gateway: cfg.Gateway.Name, Version: version, Uptime: now.Sub(g.started).Round(time.Second).String()}
	st.Node.Transactions, _ = g.store.Count()
	st.Node.Tips = g.node.TipCount()
	st.Node.LatestMilestone, st.Node.SolidMilestone, _ = g.ms.Indexes()
	st.Node.Synced = g.ms.Synced()
	select {
	case <-g.ms.Ready():
		st.Node.Coordinator = g.ms.Address().Trytes()
	default:
	}
	st.Node.IsCoordinator = cfg.Node.Coordinator.Issue
	st.Node.Peers = g.peers()
	st.Node.PeersConfigured = len(cfg.Node.Peers)
	st.Outbox = outboxStatus{Queued: g.outbox.Len(), Attached: g.outbox.Stats().Attached}

	ids := map[string]identity.Record{}
	if recs, err := g.ids.List(); err == nil {
		for _, r := range recs {
			ids[r.Device] = r
		}
	}
	health := g.devices.Health()
	for _, d := range cfg.Devices {
		ds := deviceStatus{Name: d.Name, State: "not started"}
		if h, ok := health[d.Name]; ok {
			ds.State, ds.Since, ds.LastError, ds.Failures = h.State.String(), ago(h.Since), h.LastError, h.Failures
		}
		if id, ok := ids[d.Name]; ok {
			ds.Identity, ds.Messages = id.ID, id.Messages
		}
		st.Devices = append(st.Devices, ds)
	}
	for name, s := range g.engine.States() {
		st.Rules = append(st.Rules, ruleStatus{Name: name, Phase: s.Phase.String(), Since: ago(s.Since), Firing: s.Firing, Acked: s.Acked})
	}
	sort.Slice(st.Rules, func(i, j int) bool { return st.Rules[i].Name < st.Rules[j].Name })
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	st.HeapBytes, st.GoMemoryLimit = ms.HeapInuse, debug.SetMemoryLimit(-1)
	return st
}

// handleStatus serves the status page at / and its data at /status.json.
func (g *gateway) handleStatus(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := statusPage.Execute(w, g.status()); err != nil {
			g.log.Warn("render the status page", "err", err)
		}
	})
	mux.HandleFunc("GET /status.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(g.status())
	})
}
