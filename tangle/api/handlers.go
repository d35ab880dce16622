package api

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tanglegate/gateway/pow"
	"github.com/tanglegate/gateway/tangle/bundle"
	"github.com/tanglegate/gateway/tangle/kerl"
	"github.com/tanglegate/gateway/tangle/node"
	"github.com/tanglegate/gateway/tangle/store"
	"github.com/tanglegate/gateway/tangle/tx"
)

// request holds every parameter any command takes. Pointers tell absent
// from empty.
type request struct {
	Command            string          `json:"command"`
	Addresses          *[]string       `json:"addresses"`
	Bundles            *[]string       `json:"bundles"`
	Tags               *[]string       `json:"tags"`
	Approvees          *[]string       `json:"approvees"`
	Hashes             *[]string       `json:"hashes"`
	Transactions       *[]string       `json:"transactions"`
	Tails              *[]string       `json:"tails"`
	Trytes             *[]string       `json:"trytes"`
	Tips               []string        `json:"tips"`
	Uris               []string        `json:"uris"`
	Neighbors          []neighborParam `json:"neighbors"`
	Threshold          any             `json:"threshold"`
	Depth              *float64        `json:"depth"`
	Reference          string          `json:"reference"`
	TrunkTransaction   string          `json:"trunkTransaction"`
	BranchTransaction  string          `json:"branchTransaction"`
	MinWeightMagnitude *float64        `json:"minWeightMagnitude"`
}

type neighborParam struct {
	URI         string `json:"uri"`
	Fingerprint string `json:"fingerprint"`
}

type command struct {
	name  string
	admin bool
	fn    func(s *Server, ctx context.Context, principal string, r *request) (map[string]any, error)
}

var commands = func() map[string]command {
	list := []command{
		{name: "getNodeInfo", fn: (*Server).getNodeInfo},
		{name: "getNodeAPIConfiguration", fn: (*Server).getNodeAPIConfiguration},
		{name: "getTips", fn: (*Server).getTips},
		{name: "findTransactions", fn: (*Server).findTransactions},
		{name: "getTrytes", fn: (*Server).getTrytes},
		{name: "getInclusionStates", fn: (*Server).getInclusionStates},
		{name: "getBalances", fn: (*Server).getBalances},
		{name: "getTransactionsToApprove", fn: (*Server).getTransactionsToApprove},
		{name: "attachToTangle", fn: (*Server).attachToTangle},
		{name: "interruptAttachingToTangle", fn: (*Server).interruptAttaching},
		{name: "storeTransactions", fn: (*Server).storeTransactions},
		{name: "broadcastTransactions", fn: (*Server).storeTransactions},
		{name: "checkConsistency", fn: (*Server).checkConsistency},
		{name: "wereAddressesSpentFrom", fn: (*Server).wereAddressesSpentFrom},
		{name: "getNeighbors", admin: true, fn: (*Server).getNeighbors},
		{name: "addNeighbors", admin: true, fn: (*Server).addNeighbors},
		{name: "removeNeighbors", admin: true, fn: (*Server).removeNeighbors},
	}
	m := make(map[string]command)
	for _, c := range list {
		m[strings.ToLower(c.name)] = c
	}
	m["interruptattachtotangle"] = m["interruptattachingtotangle"] // iota.go beta.15 spelling
	return m
}()

// parseHash accepts 81 trytes, or 90 with a valid checksum.
func parseHash(param, s string) (store.Hash, error) {
	if len(s) == 90 {
		sum, err := kerl.HashTrytes(s[:81])
		if err != nil || sum[81-9:] != s[81:] {
			return store.Hash{}, badRequest("Invalid %s input", param)
		}
		s = s[:81]
	}
	h, err := store.HashFromTrytes(s)
	if err != nil {
		return store.Hash{}, badRequest("Invalid %s input", param)
	}
	return h, nil
}

func (s *Server) hashList(param string, l *[]string, required, nonNull bool) ([]store.Hash, error) {
	if l == nil {
		if required {
			return nil, errInvalidParams
		}
		return nil, nil
	}
	if len(*l) > s.cfg.MaxRequestsList {
		return nil, errTooMany
	}
	out := make([]store.Hash, len(*l))
	for i, v := range *l {
		h, err := parseHash(param, v)
		if err != nil {
			return nil, err
		}
		if nonNull && h == store.NullHash {
			return nil, badRequest("Invalid %s input", param)
		}
		out[i] = h
	}
	return out, nil
}

func hashStrings(hs []store.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.Trytes()
	}
	return out
}

func (s *Server) getNodeInfo(_ context.Context, _ string, _ *request) (map[string]any, error) {
	l := s.node.Ledger()
	latest, solid := l.Milestones()
	coo := store.NullHash
	if c, ok := l.(interface{ Address() store.Hash }); ok {
		coo = c.Address() // the null hash while a new coordinator builds its tree
	}
	nb := 0
	s.mu.Lock()
	if s.neighbors != nil {
		nb = len(s.neighbors.Neighbors())
	}
	s.mu.Unlock()
	return map[string]any{
		"appName":                            "tanglegate",
		"appVersion":                         s.cfg.AppVersion,
		"jreAvailableProcessors":             runtime.NumCPU(),
		"jreFreeMemory":                      0,
		"jreVersion":                         runtime.Version(),
		"jreMaxMemory":                       0,
		"jreTotalMemory":                     0,
		"latestMilestone":                    latest.Hash.Trytes(),
		"latestMilestoneIndex":               latest.Index,
		"latestSolidSubtangleMilestone":      solid.Hash.Trytes(),
		"latestSolidSubtangleMilestoneIndex": solid.Index,
		"milestoneStartIndex":                0,
		"lastSnapshottedMilestoneIndex":      0,
		"neighbors":                          nb,
		"packetsQueueSize":                   0,
		"time":                               time.Now().UnixMilli(),
		"tips":                               s.node.TipCount(),
		"transactionsToRequest":              0,
		"features":                           []string{"RemotePOW", "wereAddressesSpentFrom"},
		"coordinatorAddress":                 coo.Trytes(),
		"isSynced":                           l.Synced(),
	}, nil
}

func (s *Server) getNodeAPIConfiguration(_ context.Context, _ string, _ *request) (map[string]any, error) {
	return map[string]any{
		"maxFindTransactions": s.cfg.MaxFindTransactions,
		"maxRequestsList":     s.cfg.MaxRequestsList,
		"maxGetTrytes":        s.cfg.MaxGetTrytes,
		"maxBodyLength":       s.cfg.MaxBodyBytes,
		"milestoneStartIndex": 0,
		"testNet":             false,
	}, nil
}

func (s *Server) getTips(_ context.Context, _ string, _ *request) (map[string]any, error) {
	return map[string]any{"hashes": hashStrings(s.node.Tips(100))}, nil
}

func (s *Server) findTransactions(_ context.Context, _ string, r *request) (map[string]any, error) {
	type field struct {
		idx  store.Index
		keys [][]byte
	}
	var fields []field
	for _, f := range []struct {
		name string
		idx  store.Index
		l    *[]string
	}{{"addresses", store.ByAddress, r.Addresses}, {"bundles", store.ByBundle, r.Bundles}, {"approvees", store.ByApprovee, r.Approvees}} {
		hs, err := s.hashList(f.name, f.l, false, true)
		if err != nil {
			return nil, err
		}
		if f.l == nil {
			continue
		}
		keys := make([][]byte, len(hs))
		for i := range hs {
			keys[i] = hs[i][:]
		}
		fields = append(fields, field{f.idx, keys})
	}
	if r.Tags != nil {
		if len(*r.Tags) > s.cfg.MaxRequestsList {
			return nil, errTooMany
		}
		var keys [][]byte
		for _, t := range *r.Tags {
			g, err := store.TagFromTrytes(t)
			if err != nil {
				return nil, badRequest("Invalid tags input")
			}
			keys = append(keys, g[:])
		}
		fields = append(fields, field{store.ByTag, keys})
	}
	if len(fields) == 0 {
		return nil, errInvalidParams
	}
	var result []store.Hash
	for i, f := range fields {
		hs, err := s.node.Store().Find(f.idx, f.keys, s.cfg.MaxFindTransactions)
		if errors.Is(err, store.ErrTooMany) {
			return nil, errTooMany
		}
		if err != nil {
			return nil, err
		}
		if i == 0 {
			result = hs
			continue
		}
		in := make(map[store.Hash]bool, len(hs))
		for _, h := range hs {
			in[h] = true
		}
		result = slices.DeleteFunc(result, func(h store.Hash) bool { return !in[h] })
	}
	return map[string]any{"hashes": hashStrings(result)}, nil
}

var nullTx = strings.Repeat("9", store.TxTrytes)

func (s *Server) getTrytes(_ context.Context, _ string, r *request) (map[string]any, error) {
	hs, err := s.hashList("hashes", r.Hashes, true, false)
	if err != nil {
		return nil, err
	}
	if len(hs) > s.cfg.MaxGetTrytes {
		return nil, errTooMany
	}
	txs, err := s.node.Store().GetMany(hs)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(txs))
	for i, t := range txs {
		out[i] = nullTx
		if t != nil {
			if out[i], err = t.Trytes(); err != nil {
				return nil, err
			}
		}
	}
	return map[string]any{"trytes": out}, nil
}

var errNotSynced = badRequest("This operation cannot be executed: The subtangle has not been updated yet.")

func (s *Server) getInclusionStates(_ context.Context, _ string, r *request) (map[string]any, error) {
	hs, err := s.hashList("transactions", r.Transactions, true, false)
	if err != nil {
		return nil, err
	}
	if !s.node.Ledger().Synced() {
		return nil, errNotSynced
	}
	txs, err := s.node.Store().GetMany(hs)
	if err != nil {
		return nil, err
	}
	states := make([]bool, len(txs))
	for i, t := range txs {
		states[i] = t != nil && t.Meta.ConfirmedBy > 0
	}
	return map[string]any{"states": states}, nil
}

func (s *Server) getBalances(_ context.Context, _ string, r *request) (map[string]any, error) {
	hs, err := s.hashList("addresses", r.Addresses, true, false)
	if err != nil {
		return nil, err
	}
	l := s.node.Ledger()
	if !l.Synced() {
		return nil, errNotSynced
	}
	bal, ms, err := l.Balances(hs)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(bal))
	for i, b := range bal {
		out[i] = strconv.FormatUint(b, 10)
	}
	return map[string]any{"balances": out, "references": []string{ms.Hash.Trytes()}, "milestone": ms.Hash.Trytes(), "milestoneIndex": ms.Index}, nil
}

func (s *Server) getTransactionsToApprove(ctx context.Context, _ string, r *request) (map[string]any, error) {
	if r.Depth == nil {
		return nil, errInvalidParams
	}
	d := int(*r.Depth)
	if d < 0 || d > s.cfg.MaxDepth {
		return nil, badRequest("Invalid depth input")
	}
	var ref *store.Hash
	if r.Reference != "" {
		h, err := parseHash("reference", r.Reference)
		if err != nil {
			return nil, err
		}
		ref = &h
	}
	if !s.node.Ledger().Synced() {
		return nil, &apiError{status: 503, msg: errNotSynced.msg}
	}
	trunk, branch, err := s.node.SelectTips(ctx, d, ref)
	if errors.Is(err, node.ErrReference) {
		return nil, badRequest("%v", err)
	}
	if err != nil {
		return nil, err
	}
	return map[string]any{"trunkTransaction": trunk.Trytes(), "branchTransaction": branch.Trytes()}, nil
}

func (s *Server) attachToTangle(ctx context.Context, principal string, r *request) (map[string]any, error) {
	if r.Trytes == nil || r.TrunkTransaction == "" || r.BranchTransaction == "" {
		return nil, errInvalidParams
	}
	trunk, err := parseHash("trunkTransaction", r.TrunkTransaction)
	if err != nil {
		return nil, err
	}
	branch, err := parseHash("branchTransaction", r.BranchTransaction)
	if err != nil {
		return nil, err
	}
	netMWM := s.node.Config().MWM
	mwm := netMWM
	if r.MinWeightMagnitude != nil && *r.MinWeightMagnitude != 0 {
		mwm = int(*r.MinWeightMagnitude)
	}
	if mwm < netMWM {
		return nil, badRequest("MWM %d is below the network's %d", mwm, netMWM)
	}
	if mwm > s.cfg.MaxMWM {
		return nil, badRequest("MWM too high")
	}
	in := *r.Trytes
	if len(in) == 0 || len(in) > s.cfg.MaxAttachTransactions {
		return nil, badRequest("Invalid trytes input: %d transactions, want 1 to %d", len(in), s.cfg.MaxAttachTransactions)
	}
	type item struct {
		t      *tx.Transaction
		trytes string
	}
	items := make([]item, len(in))
	for i, t := range in {
		d, err := tx.Decode(t)
		if err != nil {
			return nil, badRequest("Invalid trytes input: transaction %d: %v", i, err)
		}
		items[i] = item{d, t}
	}
	slices.SortFunc(items, func(a, b item) int { return int(b.t.CurrentIndex) - int(a.t.CurrentIndex) })
	last := items[0].t.LastIndex
	if last+1 != uint64(len(items)) {
		return nil, badRequest("Invalid trytes input: lastIndex %d but %d transactions", last, len(items))
	}
	headFirst := make([]string, len(items))
	for i, it := range items {
		if it.t.CurrentIndex != last-uint64(i) || it.t.LastIndex != last || it.t.Bundle != items[0].t.Bundle {
			return nil, badRequest("Invalid trytes input: transactions do not form one complete bundle")
		}
		t := it.trytes
		if it.t.Tag == strings.Repeat("9", 27) { // IRI: tag search finds legacy-formed txs
			t = t[:2592] + it.t.ObsoleteTag + t[2592+27:]
		}
		headFirst[i] = t
	}
	s.attachMu.Lock()
	defer s.attachMu.Unlock()
	jctx, cancel := context.WithTimeout(ctx, s.cfg.AttachTimeout)
	defer cancel()
	s.mu.Lock()
	s.jobs[principal] = cancel
	s.mu.Unlock()
	defer func() { s.mu.Lock(); delete(s.jobs, principal); s.mu.Unlock() }()
	out, err := pow.Attach(jctx, trunk.Trytes(), branch.Trytes(), mwm, headFirst, time.Now())
	if err != nil {
		if jctx.Err() != nil {
			return nil, badRequest("attachToTangle interrupted: %v", jctx.Err())
		}
		return nil, err
	}
	slices.Reverse(out) // tail first, as IRI and Hornet answer
	return map[string]any{"trytes": out}, nil
}

func (s *Server) interruptAttaching(_ context.Context, principal string, _ *request) (map[string]any, error) {
	s.mu.Lock()
	if c, ok := s.jobs[principal]; ok {
		c()
	}
	s.mu.Unlock()
	return nil, nil
}

func (s *Server) cancelAllJobs() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.jobs {
		c()
	}
}

func (s *Server) storeTransactions(ctx context.Context, _ string, r *request) (map[string]any, error) {
	if r.Trytes == nil {
		return nil, errInvalidParams
	}
	if len(*r.Trytes) > s.cfg.MaxRequestsList {
		return nil, errTooMany
	}
	if _, err := s.node.Submit(ctx, *r.Trytes); err != nil {
		if errors.Is(err, node.ErrInvalid) || errors.Is(err, tx.ErrInvalid) {
			return nil, badRequest("Error: %v", err)
		}
		return nil, err
	}
	return nil, nil
}

func (s *Server) checkConsistency(_ context.Context, _ string, r *request) (map[string]any, error) {
	hs, err := s.hashList("tails", r.Tails, true, false)
	if err != nil {
		return nil, err
	}
	if !s.node.Ledger().Synced() {
		return nil, errNotSynced
	}
	txs, err := s.node.Store().GetMany(hs)
	if err != nil {
		return nil, err
	}
	for i, t := range txs {
		if t == nil {
			return nil, badRequest("Invalid transaction, missing: %s", hs[i])
		}
		f, err := t.Fields()
		if err != nil {
			return nil, err
		}
		if !f.IsTail() {
			return nil, badRequest("Invalid transaction, not a tail: %s", hs[i])
		}
	}
	for i, t := range txs {
		if !t.Meta.Solid {
			return map[string]any{"state": false, "info": fmt.Sprintf("tails are not solid (missing a referenced tx): %s", hs[i])}, nil
		}
	}
	for i, t := range txs {
		b, err := s.node.LoadBundle(hs[i], t)
		if err == nil {
			err = bundle.Validate(b)
		}
		if err != nil {
			return map[string]any{"state": false, "info": fmt.Sprintf("tails are not consistent (bundle is invalid): %s", hs[i])}, nil
		}
	}
	return map[string]any{"state": true, "info": ""}, nil
}

func (s *Server) wereAddressesSpentFrom(_ context.Context, _ string, r *request) (map[string]any, error) {
	hs, err := s.hashList("addresses", r.Addresses, true, false)
	if err != nil {
		return nil, err
	}
	st, err := s.node.Store().WereSpent(hs)
	if err != nil {
		return nil, err
	}
	return map[string]any{"states": st}, nil
}

func (s *Server) nb() Neighbors { s.mu.Lock(); defer s.mu.Unlock(); return s.neighbors }

func (s *Server) getNeighbors(_ context.Context, _ string, _ *request) (map[string]any, error) {
	list := []NeighborInfo{}
	if nb := s.nb(); nb != nil {
		list = append(list, nb.Neighbors()...)
	}
	return map[string]any{"neighbors": list}, nil
}

func (s *Server) addNeighbors(_ context.Context, _ string, r *request) (map[string]any, error) {
	nb := s.nb()
	if nb == nil {
		return nil, badRequest("peering is not enabled on this node")
	}
	uris := slices.Clone(r.Uris)
	fps := make(map[string]string)
	for _, p := range r.Neighbors {
		uris = append(uris, p.URI)
		fps[p.URI] = p.Fingerprint
	}
	if len(uris) == 0 || len(uris) > s.cfg.MaxRequestsList {
		return nil, errInvalidParams
	}
	n, err := nb.AddNeighbors(uris, fps)
	if err != nil {
		return nil, badRequest("%v", err)
	}
	return map[string]any{"addedNeighbors": n}, nil
}

func (s *Server) removeNeighbors(_ context.Context, _ string, r *request) (map[string]any, error) {
	nb := s.nb()
	if nb == nil {
		return nil, badRequest("peering is not enabled on this node")
	}
	if len(r.Uris) == 0 || len(r.Uris) > s.cfg.MaxRequestsList {
		return nil, errInvalidParams
	}
	n, err := nb.RemoveNeighbors(r.Uris)
	if err != nil {
		return nil, badRequest("%v", err)
	}
	return map[string]any{"removedNeighbors": n}, nil
}
