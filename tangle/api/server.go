package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tanglegate/gateway/tangle/node"
)

// DefaultAddr is where the API listens unless configured otherwise.
const DefaultAddr = "127.0.0.1:14265"

// DefaultAllow is the set of commands anonymous loopback callers may use.
var DefaultAllow = []string{
	"getNodeInfo", "getNodeAPIConfiguration", "getTips", "findTransactions", "getTrytes",
	"getInclusionStates", "getBalances", "getTransactionsToApprove", "storeTransactions",
	"broadcastTransactions", "checkConsistency", "wereAddressesSpentFrom",
	"attachToTangle", "interruptAttachingToTangle",
}

// Config configures the API server.
type Config struct {
	// Addr is the listen address (default 127.0.0.1:14265).
	Addr string
	// Token, when set, admits non-loopback clients and the admin commands.
	// Only its SHA-256 is kept in memory.
	Token string
	// Allow lists the commands anonymous loopback callers may use (default DefaultAllow).
	Allow []string
	// MaxBodyBytes bounds request bodies (default 1,000,000).
	MaxBodyBytes int64
	// MaxRequestsList bounds every list parameter (default 1000).
	MaxRequestsList int
	// MaxFindTransactions bounds findTransactions results (default 1000).
	MaxFindTransactions int
	// MaxGetTrytes bounds getTrytes hashes (default 1000).
	MaxGetTrytes int
	// MaxDepth bounds GTTA depth (default 15).
	MaxDepth int
	// MaxAttachTransactions bounds attachToTangle bundles (default 16).
	MaxAttachTransactions int
	// MaxMWM caps attachToTangle MWM (default: the node's MWM).
	MaxMWM int
	// AttachTimeout bounds one attachToTangle (default 2 min).
	AttachTimeout time.Duration
	// AppVersion is reported by getNodeInfo.
	AppVersion string
}

func (c *Config) withDefaults(mwm int) {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.Allow == nil {
		c.Allow = DefaultAllow
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 1_000_000
	}
	if c.MaxRequestsList <= 0 {
		c.MaxRequestsList = 1000
	}
	if c.MaxFindTransactions <= 0 {
		c.MaxFindTransactions = 1000
	}
	if c.MaxGetTrytes <= 0 {
		c.MaxGetTrytes = 1000
	}
	if c.MaxDepth <= 0 {
		c.MaxDepth = 15
	}
	if c.MaxAttachTransactions <= 0 {
		c.MaxAttachTransactions = 16
	}
	if c.MaxMWM <= 0 {
		c.MaxMWM = mwm
	}
	if c.AttachTimeout <= 0 {
		c.AttachTimeout = 2 * time.Minute
	}
	if c.AppVersion == "" {
		c.AppVersion = "dev"
	}
}

// NeighborInfo is one peer as getNeighbors shows it.
type NeighborInfo struct {
	Address                     string `json:"address"`
	Domain                      string `json:"domain,omitempty"`
	Fingerprint                 string `json:"fingerprint,omitempty"`
	Connected                   bool   `json:"connected"`
	ConnectionType              string `json:"connectionType"`
	NumberOfAllTransactions     uint64 `json:"numberOfAllTransactions"`
	NumberOfNewTransactions     uint64 `json:"numberOfNewTransactions"`
	NumberOfInvalidTransactions uint64 `json:"numberOfInvalidTransactions"`
	NumberOfSentTransactions    uint64 `json:"numberOfSentTransactions"`
}

// Neighbors is the peer manager behind the neighbor commands (tangle/gossip).
type Neighbors interface {
	Neighbors() []NeighborInfo
	// AddNeighbors adds peers by URI (with optional pinned fingerprints) and returns how many were new.
	AddNeighbors(uris []string, fingerprints map[string]string) (int, error)
	// RemoveNeighbors removes peers by URI and returns how many were removed.
	RemoveNeighbors(uris []string) (int, error)
}

// Server serves the API. Create it with [NewServer].
type Server struct {
	node      *node.Node
	cfg       Config
	log       *slog.Logger
	tokenHash [32]byte
	hasToken  bool
	allow     map[string]bool

	mu        sync.Mutex
	neighbors Neighbors
	attachMu  sync.Mutex // one PoW job at a time
	jobs      map[string]context.CancelFunc
	started   time.Time
}

// NewServer returns a server for n.
func NewServer(n *node.Node, cfg Config, log *slog.Logger) *Server {
	cfg.withDefaults(n.Config().MWM)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{node: n, cfg: cfg, log: log, allow: make(map[string]bool), jobs: make(map[string]context.CancelFunc), started: time.Now()}
	if cfg.Token != "" {
		s.tokenHash, s.hasToken = sha256.Sum256([]byte(cfg.Token)), true
		s.cfg.Token = ""
	}
	for _, c := range cfg.Allow {
		s.allow[strings.ToLower(c)] = true
	}
	return s
}

// SetNeighbors installs the peer manager (call before Run).
func (s *Server) SetNeighbors(nb Neighbors) { s.mu.Lock(); s.neighbors = nb; s.mu.Unlock() }

// Run listens on Config.Addr and serves until ctx is done.
func (s *Server) Run(ctx context.Context) error {
	l, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen for node API on %s: %w", s.cfg.Addr, err)
	}
	return s.Serve(ctx, l)
}

// Serve serves on l until ctx is done, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	s.log.Info("node API listening", "addr", l.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("serve node API: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.cancelAllJobs()
	err := srv.Shutdown(sctx)
	<-errc
	if err != nil {
		return fmt.Errorf("shut down node API: %w", err)
	}
	return ctx.Err()
}

// apiError is an error with its HTTP status and IRI body field.
type apiError struct {
	status    int
	msg       string
	exception bool
}

func (e *apiError) Error() string { return e.msg }

func badRequest(format string, a ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, a...)}
}

var (
	errInvalidParams = badRequest("Invalid parameters")
	errTooMany       = badRequest("Could not complete request")
)

// Handler returns the HTTP handler (tests inject remote addresses through it).
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	w.Header().Set("Access-Control-Allow-Origin", "*")
	if r.Method == http.MethodOptions {
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type, X-IOTA-API-Version, Authorization")
		w.Header().Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	resp, err := s.serve(r)
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			s.log.Error("node API command failed", "err", err)
			ae = &apiError{status: http.StatusInternalServerError, msg: err.Error(), exception: true}
		}
		body := map[string]any{"error": ae.msg, "duration": time.Since(start).Milliseconds()}
		if ae.exception {
			body["exception"] = ae.msg
		}
		writeJSON(w, ae.status, body)
		return
	}
	if resp == nil {
		resp = map[string]any{}
	}
	resp["duration"] = time.Since(start).Milliseconds()
	writeJSON(w, http.StatusOK, resp)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// principal is who is calling: "token" or "local".
func (s *Server) authenticate(r *http.Request) (principal string, err *apiError) {
	remote := !isLoopback(r.RemoteAddr)
	var presented string
	if h := r.Header.Get("Authorization"); h != "" {
		if t, ok := strings.CutPrefix(h, "Bearer "); ok {
			presented = strings.TrimSpace(t)
		} else if u, p, ok := r.BasicAuth(); ok && u == "token" {
			presented = p
		} else {
			return "", &apiError{status: http.StatusUnauthorized, msg: "Invalid credentials"}
		}
	}
	if presented != "" {
		sum := sha256.Sum256([]byte(presented))
		if !s.hasToken || subtle.ConstantTimeCompare(sum[:], s.tokenHash[:]) != 1 {
			return "", &apiError{status: http.StatusUnauthorized, msg: "Invalid credentials"}
		}
		return "token", nil
	}
	if remote {
		return "", &apiError{status: http.StatusUnauthorized, msg: "Unauthorized: a token is required for remote access"}
	}
	return "local", nil
}

func isLoopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *Server) serve(r *http.Request) (map[string]any, error) {
	if r.Method != http.MethodPost {
		return nil, &apiError{status: http.StatusMethodNotAllowed, msg: "use POST"}
	}
	if r.Header.Get("X-IOTA-API-Version") == "" {
		return nil, badRequest("Invalid API Version")
	}
	principal, aerr := s.authenticate(r)
	if aerr != nil {
		return nil, aerr
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, badRequest("Request too long")
		}
		return nil, badRequest("Invalid request body: %v", err)
	}
	var req request
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, badRequest("Invalid JSON syntax: %v", err)
	}
	if req.Command == "" {
		return nil, badRequest("COMMAND parameter has not been specified in the request.")
	}
	cmd, ok := commands[strings.ToLower(req.Command)]
	if !ok {
		return nil, badRequest("Command [%s] is unknown", req.Command)
	}
	if principal != "token" && (cmd.admin || !s.allow[strings.ToLower(cmd.name)]) {
		return nil, &apiError{status: http.StatusForbidden, msg: fmt.Sprintf("COMMAND %s is not available on this node", req.Command)}
	}
	return cmd.fn(s, r.Context(), principal, &req)
}
