package opcua

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gopcua/opcua"
	"github.com/gopcua/opcua/id"
	"github.com/gopcua/opcua/ua"
	"golang.org/x/sync/errgroup"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/config"
)

// ErrNotConnected is returned by [Adapter.Write] while there is no session.
var ErrNotConnected = errors.New("opcua: not connected")

// errConnectionLost ends Run when gopcua reports the secure channel broken.
var errConnectionLost = errors.New("connection to the server lost")

type pointCfg = config.OPCUAPoint

// Adapter reads one OPC UA server. It implements [adapters.Adapter] and
// [adapters.Writer]. Run must not be called concurrently with itself; Write
// may be called at any time and fails with [ErrNotConnected] between sessions.
type Adapter struct {
	device string
	cfg    config.OPCUA
	health *adapters.Health
	log    *slog.Logger
	index  map[string]int // point name -> index in cfg.Points

	mu   sync.Mutex
	sess *session // the live session, nil between Runs

	// A server presenting another certificate than the pinned one is asked
	// again every pinRetry; the mismatch is logged at Error when first seen,
	// when the presented certificate changes, and at most every
	// mismatchLogEvery otherwise. Only Run touches these.
	pinRetry         time.Duration
	mismatchLogEvery time.Duration
	now              func() time.Time
	lastMismatchLog  time.Time
	lastMismatchGot  string
}

// Defaults of the certificate-mismatch retry and its log rate.
const (
	defaultPinRetry         = 2 * time.Second
	defaultMismatchLogEvery = time.Minute
)

// session is what one Run connected: the client and the resolved nodes.
type session struct {
	c     *opcua.Client
	nodes []*ua.NodeID // by point index; nil when the point did not resolve

	mu    sync.Mutex
	types map[int]ua.TypeID // data types of written points, learnt on first write
}

// New returns the adapter of device for a validated opcua section. cfg.CertDir
// must be set when the security policy is not None (cmd/gateway defaults it to
// <state_dir>/tls/opcua). h may be nil.
func New(device string, cfg config.OPCUA, h *adapters.Health, log *slog.Logger) (*Adapter, error) {
	if errs := cfg.Validate("opcua"); len(errs) > 0 {
		return nil, fmt.Errorf("invalid opcua config: %w", errors.Join(errs...))
	}
	if policy(cfg) != "None" && cfg.CertDir == "" {
		return nil, errors.New("opcua.cert_dir is required for security policy " + policy(cfg))
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &Adapter{device: device, cfg: cfg, health: h, log: log, index: map[string]int{},
		pinRetry: defaultPinRetry, mismatchLogEvery: defaultMismatchLogEvery, now: time.Now}
	for i, p := range cfg.Points {
		a.index[p.Name] = i
	}
	return a, nil
}

// Factory builds the adapter of an opcua device; it fits [adapters.Factory].
func Factory(dev config.Device, h *adapters.Health, log *slog.Logger) (adapters.Adapter, error) {
	if dev.OPCUA == nil {
		return nil, errors.New("device has no opcua section")
	}
	return New(dev.Name, *dev.OPCUA, h, log)
}

func policy(cfg config.OPCUA) string {
	if cfg.Security.Policy == "" {
		return "None"
	}
	return cfg.Security.Policy
}

func mode(cfg config.OPCUA) string {
	if cfg.Security.Mode == "" {
		return "None"
	}
	return cfg.Security.Mode
}

func (a *Adapter) timeout() time.Duration {
	if a.cfg.Timeout > 0 {
		return a.cfg.Timeout.D()
	}
	return config.DefaultOPCUATimeout.D()
}

// Run connects, resolves the points, starts polling and subscriptions and
// sends readings to out until ctx ends (it returns ctx.Err()) or the
// connection breaks (it returns why). Each call builds a new session and new
// subscriptions.
//
// A server presenting another certificate than the pinned one is refused but
// not given up on: Run records the [*CertificateMismatchError] in the
// device's health, logs it at Error (once, then at most once a minute while it
// persists) and asks the server again every 2 s, until ctx ends or the
// server presents the pinned certificate again.
func (a *Adapter) Run(ctx context.Context, out chan<- adapters.Reading) error {
	for {
		err := a.runSession(ctx, out)
		mm, ok := errors.AsType[*CertificateMismatchError](err)
		if !ok || ctx.Err() != nil {
			return err
		}
		a.refused(mm)
		t := time.NewTimer(a.pinRetry)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// refused records a certificate mismatch: in the health every time, in the
// log at Error when it is new, when the server's certificate changed, or when
// mismatchLogEvery has passed since the last Error.
func (a *Adapter) refused(mm *CertificateMismatchError) {
	a.health.Fail(mm)
	now := a.now()
	if a.lastMismatchLog.IsZero() || mm.Got != a.lastMismatchGot || now.Sub(a.lastMismatchLog) >= a.mismatchLogEvery {
		a.lastMismatchLog, a.lastMismatchGot = now, mm.Got
		a.log.Error("server certificate does not match the pinned thumbprint, retrying",
			"endpoint", mm.Endpoint, "pinned", mm.Want, "presented", mm.Got, "subject", mm.Subject,
			"retry_every", a.pinRetry, "err", mm)
		return
	}
	a.log.Debug("server certificate still does not match the pinned thumbprint", "endpoint", mm.Endpoint, "presented", mm.Got)
}

// mismatchGone forgets a logged mismatch once a session is open, so that a
// later mismatch is logged at Error again.
func (a *Adapter) mismatchGone() {
	if !a.lastMismatchLog.IsZero() {
		a.log.Info("server certificate matches the pinned thumbprint again", "endpoint", a.cfg.Endpoint)
		a.lastMismatchLog, a.lastMismatchGot = time.Time{}, ""
	}
}

// runSession is one session: connect, resolve, poll and subscribe until ctx
// ends or the connection breaks.
func (a *Adapter) runSession(ctx context.Context, out chan<- adapters.Reading) error {
	// gopcua blocks on its state channel: drain it until the client is closed.
	stateCh := make(chan opcua.ConnState, 8)
	lost := make(chan struct{})
	stopDrain := make(chan struct{})
	var drain sync.WaitGroup
	drain.Go(func() {
		var once sync.Once
		for {
			select {
			case st := <-stateCh:
				if st == opcua.Disconnected || st == opcua.Closed {
					once.Do(func() { close(lost) })
				}
			case <-stopDrain:
				return
			}
		}
	})
	defer func() {
		close(stopDrain)
		drain.Wait()
	}()

	c, err := a.connect(ctx, stateCh)
	if err != nil {
		return err
	}
	a.mismatchGone()
	defer func() {
		// Close the session politely even when ctx is done, but not forever.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		c.Close(cctx)
	}()
	// The connection may have dropped right after Connect.
	select {
	case <-lost:
		return errConnectionLost
	default:
	}

	s := &session{c: c, types: map[int]ua.TypeID{}}
	if err := a.resolve(ctx, s); err != nil {
		return err
	}
	a.log.Info("connected", "endpoint", a.cfg.Endpoint, "policy", policy(a.cfg), "mode", mode(a.cfg))
	a.health.OK()
	a.setSession(s)
	defer a.setSession(nil)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.watch(gctx, s, lost) })
	var subscribed []int
	polls := map[time.Duration][]int{}
	for i, p := range a.cfg.Points {
		if s.nodes[i] == nil {
			continue
		}
		if p.Subscribe > 0 {
			subscribed = append(subscribed, i)
			continue
		}
		every := p.Poll.D()
		if every == 0 {
			every = a.cfg.Poll.D()
		}
		if every == 0 {
			every = config.DefaultOPCUAPoll.D()
		}
		polls[every] = append(polls[every], i)
	}
	if len(subscribed) > 0 {
		g.Go(func() error { return a.subscribe(gctx, s, subscribed, out) })
	}
	for every, idx := range polls {
		g.Go(func() error { return a.poll(gctx, s, every, idx, out) })
	}
	err = g.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// Connection watchdog: a server that vanishes without closing the TCP
// connection (power loss, a restarted server process that left its socket)
// would otherwise leave subscriptions silent forever.
const (
	keepAliveEvery   = time.Second
	keepAliveTimeout = 3 * time.Second
)

// watch returns an error when gopcua reports the channel lost or when the
// server stops answering a read of its current time.
func (a *Adapter) watch(ctx context.Context, s *session, lost <-chan struct{}) error {
	req := &ua.ReadRequest{NodesToRead: []*ua.ReadValueID{{
		NodeID: ua.NewNumericNodeID(0, id.Server_ServerStatus_CurrentTime), AttributeID: ua.AttributeIDValue,
	}}}
	t := time.NewTicker(keepAliveEvery)
	defer t.Stop()
	for {
		select {
		case <-lost:
			return errConnectionLost
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, keepAliveTimeout)
		_, err := s.c.Read(rctx, req)
		cancel()
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("server stopped answering: %w", err)
		}
	}
}

func (a *Adapter) setSession(s *session) {
	a.mu.Lock()
	a.sess = s
	a.mu.Unlock()
}

func (a *Adapter) session() *session {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sess
}

// connect discovers the endpoints, checks the pinned certificate and opens a
// session with the configured security and identity.
func (a *Adapter) connect(ctx context.Context, stateCh chan<- opcua.ConnState) (*opcua.Client, error) {
	dctx, cancel := context.WithTimeout(ctx, a.timeout())
	defer cancel()
	eps, err := opcua.GetEndpoints(dctx, a.cfg.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("discover endpoints of %s: %w", a.cfg.Endpoint, err)
	}
	pol, mod := policy(a.cfg), mode(a.cfg)
	ep, err := pickEndpoint(a.cfg.Endpoint, eps, pol, mod, a.cfg.Security.ServerCert)
	if err != nil {
		return nil, err
	}
	opts := []opcua.Option{
		opcua.ApplicationName("Tanglegate gateway"),
		opcua.SessionName("tanglegate/" + a.device),
		opcua.SecurityPolicy(pol),
		opcua.SecurityModeString(mod),
		opcua.AutoReconnect(false), // Supervise reconnects; see the package doc
		opcua.RequestTimeout(a.timeout()),
		opcua.DialTimeout(a.timeout()),
		opcua.StateChangedCh(stateCh),
	}
	if pol != "None" {
		app, err := LoadOrCreateAppCert(a.cfg.CertDir)
		if err != nil {
			return nil, fmt.Errorf("application certificate: %w", err)
		}
		opts = append(opts, opcua.Certificate(app.DER), opcua.PrivateKey(app.Key), opcua.ApplicationURI(app.URI))
	}
	var tokenType ua.UserTokenType
	switch auth := a.cfg.Auth; {
	case auth.Username != "":
		pw, err := os.ReadFile(auth.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("read password_file: %w", err)
		}
		tokenType = ua.UserTokenTypeUserName
		opts = append(opts, opcua.AuthUsername(auth.Username, strings.TrimRight(string(pw), "\r\n")))
	case auth.CertFile != "":
		pair, err := tls.LoadX509KeyPair(auth.CertFile, auth.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load user certificate: %w", err)
		}
		key, ok := pair.PrivateKey.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("user certificate key %s is not an RSA key", auth.KeyFile)
		}
		tokenType = ua.UserTokenTypeCertificate
		opts = append(opts, opcua.AuthCertificate(pair.Certificate[0]), opcua.AuthPrivateKey(key))
	default:
		tokenType = ua.UserTokenTypeAnonymous
		opts = append(opts, opcua.AuthAnonymous())
	}
	if !slices.ContainsFunc(ep.UserIdentityTokens, func(t *ua.UserTokenPolicy) bool { return t.TokenType == tokenType }) {
		return nil, fmt.Errorf("endpoint %s/%s of %s does not accept %s identities", pol, mod, a.cfg.Endpoint, tokenName(tokenType))
	}
	opts = append(opts, opcua.SecurityFromEndpoint(ep, tokenType))
	c, err := opcua.NewClient(a.cfg.Endpoint, opts...)
	if err != nil {
		return nil, fmt.Errorf("configure client for %s: %w", a.cfg.Endpoint, err)
	}
	cctx, cancel2 := context.WithTimeout(ctx, a.timeout())
	defer cancel2()
	if err := c.Connect(cctx); err != nil {
		if tokenType == ua.UserTokenTypeUserName && isAuthError(err) {
			return nil, fmt.Errorf("connect to %s as user %q: the server rejected the user name or password: %w", a.cfg.Endpoint, a.cfg.Auth.Username, err)
		}
		return nil, fmt.Errorf("connect to %s (%s/%s): %w", a.cfg.Endpoint, pol, mod, err)
	}
	return c, nil
}

func tokenName(t ua.UserTokenType) string {
	return strings.TrimPrefix(t.String(), "UserTokenType")
}

func isAuthError(err error) bool {
	for _, s := range []ua.StatusCode{ua.StatusBadUserAccessDenied, ua.StatusBadIdentityTokenRejected, ua.StatusBadIdentityTokenInvalid} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// resolve finds the node of every point. Namespace URIs and browse paths are
// resolved on each connect: a restarted server may have renumbered them.
// A point that does not resolve degrades the device; none resolving is an error.
func (a *Adapter) resolve(ctx context.Context, s *session) error {
	s.nodes = make([]*ua.NodeID, len(a.cfg.Points))
	nsArray := s.c.Namespaces()
	var failed []error
	for i, p := range a.cfg.Points {
		n, err := resolvePoint(ctx, s.c, nsArray, p)
		if err != nil {
			failed = append(failed, fmt.Errorf("point %s: %w", p.Name, err))
			a.log.Warn("point not found on server", "point", p.Name, "err", err)
			continue
		}
		s.nodes[i] = n
	}
	if len(failed) == len(a.cfg.Points) {
		return fmt.Errorf("resolve points: %w", errors.Join(failed...))
	}
	if len(failed) > 0 {
		a.health.Degrade(errors.Join(failed...))
	}
	return nil
}

func resolvePoint(ctx context.Context, c *opcua.Client, nsArray []string, p pointCfg) (*ua.NodeID, error) {
	if p.Node != "" {
		n, err := ua.ParseExpandedNodeID(p.Node, nsArray)
		if err != nil {
			return nil, fmt.Errorf("node %q: %w", p.Node, err)
		}
		return n.NodeID, nil
	}
	ns := 0
	if p.Namespace != "" {
		ns = slices.Index(nsArray, p.Namespace)
		if ns < 0 {
			return nil, fmt.Errorf("namespace %q is not on the server (it has %s)", p.Namespace, strings.Join(nsArray, ", "))
		}
	}
	var names []*ua.QualifiedName
	for seg := range strings.SplitSeq(strings.Trim(p.Path, "/"), "/") {
		names = append(names, &ua.QualifiedName{NamespaceIndex: uint16(ns), Name: seg})
	}
	n, err := c.Node(ua.NewNumericNodeID(0, id.ObjectsFolder)).TranslateBrowsePathsToNodeIDs(ctx, names)
	if err != nil {
		return nil, fmt.Errorf("browse path Objects/%s: %w", strings.Trim(p.Path, "/"), err)
	}
	return n, nil
}

// poll reads the points idx every interval.
func (a *Adapter) poll(ctx context.Context, s *session, every time.Duration, idx []int, out chan<- adapters.Reading) error {
	req := &ua.ReadRequest{TimestampsToReturn: ua.TimestampsToReturnBoth}
	for _, i := range idx {
		req.NodesToRead = append(req.NodesToRead, &ua.ReadValueID{NodeID: s.nodes[i], AttributeID: ua.AttributeIDValue})
	}
	t := time.NewTicker(every)
	defer t.Stop()
	rs := make([]adapters.Reading, len(idx))
	for {
		resp, err := s.c.Read(ctx, req)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("read %d points: %w", len(idx), err)
		}
		if len(resp.Results) != len(idx) {
			return fmt.Errorf("read %d points: server returned %d results", len(idx), len(resp.Results))
		}
		now := time.Now()
		for k, i := range idx {
			rs[k] = reading(a.device, a.cfg.Points[i], resp.Results[k], now)
		}
		a.health.OK()
		if err := adapters.Send(ctx, out, rs); err != nil {
			return nil
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil
		}
	}
}

// subscribe creates one subscription with a monitored item per point and
// forwards its data changes.
func (a *Adapter) subscribe(ctx context.Context, s *session, idx []int, out chan<- adapters.Reading) error {
	interval := a.cfg.Points[idx[0]].Subscribe.D()
	items := make([]*ua.MonitoredItemCreateRequest, 0, len(idx))
	for _, i := range idx {
		p := a.cfg.Points[i]
		interval = min(interval, p.Subscribe.D())
		req := opcua.NewMonitoredItemCreateRequestWithDefaults(s.nodes[i], ua.AttributeIDValue, uint32(i))
		req.RequestedParameters.SamplingInterval = float64(p.Subscribe.D()) / float64(time.Millisecond)
		req.RequestedParameters.QueueSize = max(p.Queue, 1)
		if p.Deadband > 0 {
			req.RequestedParameters.Filter = ua.NewExtensionObject(&ua.DataChangeFilter{
				Trigger:       ua.DataChangeTriggerStatusValue,
				DeadbandType:  uint32(ua.DeadbandTypeAbsolute),
				DeadbandValue: p.Deadband,
			})
		}
		items = append(items, req)
	}
	notifs := make(chan *opcua.PublishNotificationData, 64)
	sub, err := s.c.Subscribe(ctx, &opcua.SubscriptionParameters{Interval: interval}, notifs)
	if err != nil {
		return fmt.Errorf("create subscription: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		sub.Cancel(cctx)
	}()
	res, err := sub.Monitor(ctx, ua.TimestampsToReturnBoth, items...)
	if err != nil {
		return fmt.Errorf("create %d monitored items: %w", len(items), err)
	}
	var bad []error
	for k, r := range res.Results {
		if r.StatusCode != ua.StatusOK && k < len(idx) {
			bad = append(bad, fmt.Errorf("point %s: monitored item: %w", a.cfg.Points[idx[k]].Name, r.StatusCode))
		}
	}
	if len(bad) == len(idx) {
		return errors.Join(bad...)
	}
	if len(bad) > 0 {
		a.health.Degrade(errors.Join(bad...))
		a.log.Warn("some points cannot be monitored", "err", errors.Join(bad...))
	}
	a.log.Debug("subscribed", "points", len(idx)-len(bad), "interval", interval)
	var rs []adapters.Reading
	for {
		select {
		case <-ctx.Done():
			return nil
		case n := <-notifs:
			if n.Error != nil {
				return fmt.Errorf("subscription: %w", n.Error)
			}
			dc, ok := n.Value.(*ua.DataChangeNotification)
			if !ok {
				continue
			}
			now := time.Now()
			rs = rs[:0]
			for _, item := range dc.MonitoredItems {
				if int(item.ClientHandle) >= len(a.cfg.Points) {
					continue
				}
				rs = append(rs, reading(a.device, a.cfg.Points[item.ClientHandle], item.Value, now))
			}
			a.health.OK()
			if err := adapters.Send(ctx, out, rs); err != nil {
				return nil
			}
		}
	}
}

// Write writes v to the writable point, converting it to the variable's OPC
// UA data type (a value the type cannot hold is refused).
func (a *Adapter) Write(ctx context.Context, point string, v adapters.Value) error {
	i, ok := a.index[point]
	if !ok {
		return fmt.Errorf("write %s: no such point on device %s", point, a.device)
	}
	if !a.cfg.Points[i].Writable {
		return fmt.Errorf("write %s: point is not writable (set writable: true)", point)
	}
	s := a.session()
	if s == nil {
		return fmt.Errorf("write %s: %w", point, ErrNotConnected)
	}
	node := s.nodes[i]
	if node == nil {
		return fmt.Errorf("write %s: the point's node was not found on the server", point)
	}
	t, err := s.dataType(ctx, i)
	if err != nil {
		return fmt.Errorf("write %s: %w", point, err)
	}
	variant, err := toVariant(v, t)
	if err != nil {
		return fmt.Errorf("write %s: %w", point, err)
	}
	resp, err := s.c.Write(ctx, &ua.WriteRequest{NodesToWrite: []*ua.WriteValue{{
		NodeID:      node,
		AttributeID: ua.AttributeIDValue,
		Value:       &ua.DataValue{EncodingMask: ua.DataValueValue, Value: variant},
	}}})
	if err != nil {
		return fmt.Errorf("write %s: %w", point, err)
	}
	if len(resp.Results) != 1 {
		return fmt.Errorf("write %s: server returned %d results", point, len(resp.Results))
	}
	if resp.Results[0] != ua.StatusOK {
		return fmt.Errorf("write %s: server refused: %w", point, resp.Results[0])
	}
	return nil
}

// dataType returns the type of point i's current value, read once per session.
func (s *session) dataType(ctx context.Context, i int) (ua.TypeID, error) {
	s.mu.Lock()
	t, ok := s.types[i]
	s.mu.Unlock()
	if ok {
		return t, nil
	}
	resp, err := s.c.Read(ctx, &ua.ReadRequest{NodesToRead: []*ua.ReadValueID{{NodeID: s.nodes[i], AttributeID: ua.AttributeIDValue}}})
	if err != nil {
		return 0, fmt.Errorf("read data type: %w", err)
	}
	if len(resp.Results) != 1 || resp.Results[0].Value == nil {
		return 0, errors.New("read data type: no value")
	}
	if st := resp.Results[0].Status; st != ua.StatusOK {
		return 0, fmt.Errorf("read data type: %w", st)
	}
	t = resp.Results[0].Value.Type()
	s.mu.Lock()
	s.types[i] = t
	s.mu.Unlock()
	return t, nil
}
