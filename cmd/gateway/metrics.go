package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics is the gateway's Prometheus registry (no global state).
type metrics struct {
	reg        *prometheus.Registry
	readings   *prometheus.CounterVec
	health     *prometheus.GaugeVec
	ruleEvents *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		readings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tanglegate_readings_total", Help: "Readings received, per device.",
		}, []string{"device"}),
		health: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tanglegate_device_state", Help: "Device state: 0 offline, 1 online, 2 degraded.",
		}, []string{"device"}),
		ruleEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tanglegate_rule_events_total", Help: "Rule events (fired, unacknowledged, escalated, resolved).",
		}, []string{"rule", "event"}),
	}
	m.reg.MustRegister(m.readings, m.health, m.ruleEvents,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// register adds the gateway's gauges that are read on scrape.
func (m *metrics) register(g *gateway) {
	st := g.node.Stats()
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tanglegate_node_transactions_stored_total", Help: "Transactions stored by the local node."},
			func() float64 { return float64(st.Stored.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tanglegate_node_transactions_invalid_total", Help: "Transactions rejected as invalid."},
			func() float64 { return float64(st.Invalid.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tanglegate_node_tips", Help: "Tips in the tip pool."},
			func() float64 { return float64(g.node.TipCount()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tanglegate_outbox_depth", Help: "Bundles queued and not yet confirmed."},
			func() float64 { return float64(g.outbox.Len()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tanglegate_pow_seconds_total", Help: "Time spent on proof-of-work for attachments."},
			func() float64 { return g.outbox.Stats().PoW.Seconds() }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tanglegate_bundles_attached_total", Help: "Bundles (re)attached by the outbox."},
			func() float64 { return float64(g.outbox.Stats().Attached) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tanglegate_milestone_latest_index", Help: "Index of the latest milestone seen."},
			func() float64 { l, _, _ := g.ms.Indexes(); return float64(l) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tanglegate_milestone_solid_index", Help: "Index of the latest solid (confirmed) milestone."},
			func() float64 { _, s, _ := g.ms.Indexes(); return float64(s) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tanglegate_node_synced", Help: "1 when the node has confirmed up to the latest milestone."},
			func() float64 { return boolFloat(g.ms.Synced()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tanglegate_peers_connected", Help: "Peer gateways connected over TLS."},
			func() float64 { return float64(len(g.peers())) }),
	)
}

// serve runs /metrics, /healthz and the status page (/, /status.json) on
// addr until ctx ends.
func (m *metrics) serve(ctx context.Context, addr string, g *gateway) error {
	m.register(g)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	g.handleStatus(mux)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		devs := map[string]string{}
		for name, st := range g.devices.Health() {
			devs[name] = st.State.String()
		}
		w.Header().Set("Content-Type", "application/json")
		latest, solid, _ := g.ms.Indexes()
		_ = json.NewEncoder(w).Encode(map[string]any{
			"status": "ok", "gateway": g.config().Gateway.Name, "devices": devs,
			"milestone": map[string]any{"latest": latest, "solid": solid, "synced": g.ms.Synced()},
			"peers":     len(g.peers()),
		})
	})
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen for metrics on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return fmt.Errorf("metrics server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return ctx.Err()
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
