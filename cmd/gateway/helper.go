package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/spf13/cobra"
	bolt "go.etcd.io/bbolt"

	"github.com/tanglegate/gateway/adapters"
	"github.com/tanglegate/gateway/adapters/modbus"
	"github.com/tanglegate/gateway/config"
	"github.com/tanglegate/gateway/identity"
	"github.com/tanglegate/gateway/mam"
	"github.com/tanglegate/gateway/rules"
	"github.com/tanglegate/gateway/rules/helper"
	"github.com/tanglegate/gateway/tangle/trinary"
)

// helperConfig is helper.yaml, the configuration of `tanglegate helper`:
//
//	name: cooling-unit                  # as the gateway's helpers[].name
//	node: http://127.0.0.1:14265        # a node of the gateway's network
//	state_dir: /var/lib/tanglegate-helper
//	gateway_root: ABC...                # root of the gateway's channel to this helper
//	side_key_file: cooling.key          # shared with the gateway
//	handlers:
//	  - action: boost
//	    modbus: { address: tcp://10.0.3.50:502, unit: 1, register: holding 300, param: level, value: 100 }
//	  - action: notify
//	    mqtt: { broker: tcp://10.0.3.5:1883, topic: "plant/helpers/{{helper}}/{{action}}" }
//	  - command: { run: [/usr/local/bin/on-reaction] }   # no action: every other action
type helperConfig struct {
	// Name is what the gateway calls the helper (helpers[].name).
	Name string `yaml:"name"`
	// Node is the URL of the IRI-compatible API of a node (default http://127.0.0.1:14265).
	Node string `yaml:"node"`
	// TokenFile holds the node's API token, needed from another host.
	TokenFile string `yaml:"token_file"`
	// MWM is the proof-of-work difficulty of answers (default 9, as the gateway's node.mwm).
	MWM int `yaml:"mwm"`
	// StateDir holds helper.db (the answer channel's state) and the seed.
	StateDir string `yaml:"state_dir"`
	// SeedFile holds the helper's seed (default <state_dir>/seed, created 0600 at first start).
	SeedFile string `yaml:"seed_file"`
	// GatewayRoot is the root of the gateway's restricted channel to this helper.
	GatewayRoot string `yaml:"gateway_root"`
	// SideKeyFile holds the side key shared with the gateway.
	SideKeyFile string `yaml:"side_key_file"`
	// Poll is how often the node is asked for new reactions (default 1s).
	Poll config.Duration `yaml:"poll"`
	// LogLevel is debug, info (default), warn or error.
	LogLevel config.LogLevel `yaml:"log_level"`
	// Handlers are tried in order; the first whose action matches runs.
	Handlers []helperHandler `yaml:"handlers"`

	file string   // the file it was loaded from
	root *astFile // its syntax tree, for the line numbers of Validate
	dir  string   // its directory: relative paths are relative to it
}

// astFile is the parsed YAML of a helper config, to find where a field is.
type astFile struct{ f *ast.File }

// where returns the line and column of the field at path
// ("handlers[0].modbus.unit"), or of its closest parent present in the file.
func (a *astFile) where(path string) (line, col int) {
	if a == nil {
		return 0, 0
	}
	for p := path; p != ""; p = parentField(p) {
		yp, err := yaml.PathString("$." + p)
		if err != nil {
			continue
		}
		n, err := yp.FilterFile(a.f)
		if err != nil || n == nil {
			continue
		}
		if tk := n.GetToken(); tk != nil && tk.Position != nil {
			return tk.Position.Line, tk.Position.Column
		}
	}
	return 0, 0
}

// parentField drops the last element of a field path.
func parentField(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// helperHandler is one entry of handlers: an action to match and exactly
// one of command, mqtt, modbus.
type helperHandler struct {
	// Action is the reaction's action this handler takes; empty takes every action.
	Action  string         `yaml:"action"`
	Command *commandAction `yaml:"command"`
	MQTT    *mqttAction    `yaml:"mqtt"`
	Modbus  *modbusAction  `yaml:"modbus"`
}

// commandAction runs a program with the reaction JSON on stdin and
// TANGLEGATE_* environment variables; its stdout (first line) is the detail
// of the answer, a non-zero exit a failure.
type commandAction struct {
	Run     []string        `yaml:"run"`
	Timeout config.Duration `yaml:"timeout"` // default 30s
}

// mqttAction publishes the reaction to a broker. Topic and Payload may use
// {{helper}}, {{rule}}, {{action}}, {{reaction}}, {{event}}, {{severity}} and
// {{json}} (the reaction as JSON, the default payload).
type mqttAction struct {
	Broker       string          `yaml:"broker"` // tcp://, mqtt://, tls://, ssl:// or mqtts://
	Topic        string          `yaml:"topic"`
	Payload      string          `yaml:"payload"`
	QoS          int             `yaml:"qos"`
	Retain       bool            `yaml:"retain"`
	Username     string          `yaml:"username"`
	PasswordFile string          `yaml:"password_file"`
	Timeout      config.Duration `yaml:"timeout"` // default 10s
}

// modbusAction writes one holding register (or registers) or coil. The value
// is the reaction's parameter Param when it is a number, else Value.
type modbusAction struct {
	Address  string          `yaml:"address"`
	Unit     int             `yaml:"unit"`
	Register config.Register `yaml:"register"`
	Type     string          `yaml:"type"`
	Order    string          `yaml:"order"`
	Scale    float64         `yaml:"scale"`
	Param    string          `yaml:"param"`
	Value    *float64        `yaml:"value"`
	Timeout  config.Duration `yaml:"timeout"`
}

const defaultHelperConfig = "/etc/tanglegate/helper.yaml"

// loadHelperConfig reads helper.yaml strictly (unknown keys are errors),
// applies defaults and validates it; every problem is a *config.FieldError
// with file:line:col.
func loadHelperConfig(path string) (*helperConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read helper config: %w", err)
	}
	cfg := &helperConfig{file: path}
	if err := yaml.UnmarshalWithOptions(data, cfg, yaml.Strict()); err != nil {
		return nil, yamlFieldError(path, err)
	}
	if f, err := parser.ParseBytes(data, 0); err == nil {
		cfg.root = &astFile{f}
	}
	if cfg.dir, err = filepath.Abs(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("read helper config: %w", err)
	}
	cfg.defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// yamlFieldError turns a goccy/go-yaml error into a FieldError at its token.
func yamlFieldError(file string, err error) error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		fe := &config.FieldError{File: file, Msg: ye.GetMessage()}
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			fe.Line, fe.Column = tk.Position.Line, tk.Position.Column
		}
		return fe
	}
	return &config.FieldError{File: file, Msg: err.Error()}
}

func (c *helperConfig) abs(p string) string {
	if p == "" || filepath.IsAbs(p) || c.dir == "" {
		return p
	}
	return filepath.Join(c.dir, p)
}

func (c *helperConfig) defaults() {
	if c.Node == "" {
		c.Node = mam.DefaultNodeURL
	}
	if c.MWM == 0 {
		c.MWM = 9
	}
	if c.Poll == 0 {
		c.Poll = config.Duration(time.Second)
	}
	if c.LogLevel == "" {
		c.LogLevel = config.LogInfo
	}
	c.StateDir = c.abs(c.StateDir)
	if c.SeedFile == "" && c.StateDir != "" {
		c.SeedFile = filepath.Join(c.StateDir, "seed")
	}
	c.SeedFile, c.SideKeyFile, c.TokenFile = c.abs(c.SeedFile), c.abs(c.SideKeyFile), c.abs(c.TokenFile)
	for _, h := range c.Handlers {
		if h.Command != nil && h.Command.Timeout == 0 {
			h.Command.Timeout = config.Duration(30 * time.Second)
		}
		if h.MQTT != nil {
			h.MQTT.PasswordFile = c.abs(h.MQTT.PasswordFile)
			if h.MQTT.Timeout == 0 {
				h.MQTT.Timeout = config.Duration(10 * time.Second)
			}
		}
	}
}

// Validate reports every problem at once, each with its field path (and
// line:col when the config came from a file).
func (c *helperConfig) Validate() error {
	var errs []*config.FieldError
	add := func(path, format string, args ...any) { errs = append(errs, config.Errorf(path, format, args...)) }
	if c.Name == "" {
		add("name", "is required (the helper's name in the gateway's helpers list)")
	}
	if !strings.HasPrefix(c.Node, "http://") && !strings.HasPrefix(c.Node, "https://") {
		add("node", "%q is not an http:// or https:// URL", c.Node)
	}
	if c.MWM < 1 || c.MWM > 27 {
		add("mwm", "must be between 1 and 27, got %d", c.MWM)
	}
	if c.StateDir == "" {
		add("state_dir", "is required (the helper keeps its answer channel and seed there)")
	}
	if len(c.GatewayRoot) != trinary.HashTrytes || trinary.ValidTrytes(c.GatewayRoot) != nil {
		add("gateway_root", "want the 81-tryte root of the gateway's channel to this helper (tanglegate helper gateway-root on the gateway), got %d characters", len(c.GatewayRoot))
	}
	if c.SideKeyFile == "" {
		add("side_key_file", "is required (the side key shared with the gateway)")
	}
	if c.Poll < 0 {
		add("poll", "must not be negative")
	}
	if !slices.Contains([]config.LogLevel{config.LogDebug, config.LogInfo, config.LogWarn, config.LogError}, c.LogLevel) {
		add("log_level", "unknown level %q (want debug, info, warn or error)", c.LogLevel)
	}
	if len(c.Handlers) == 0 {
		add("handlers", "give at least one handler (command, mqtt or modbus)")
	}
	for i, h := range c.Handlers {
		p := fmt.Sprintf("handlers[%d]", i)
		var set []string
		if h.Command != nil {
			set = append(set, "command")
			if len(h.Command.Run) == 0 || h.Command.Run[0] == "" {
				add(p+".command.run", "give the program and its arguments, e.g. [/usr/local/bin/cool, --max]")
			}
			if h.Command.Timeout < 0 {
				add(p+".command.timeout", "must not be negative")
			}
		}
		if m := h.MQTT; m != nil {
			set = append(set, "mqtt")
			if !hasAnyPrefix(m.Broker, "tcp://", "mqtt://", "tls://", "ssl://", "mqtts://") {
				add(p+".mqtt.broker", "%q is not a tcp://, mqtt://, tls://, ssl:// or mqtts:// URL", m.Broker)
			}
			if m.Topic == "" || strings.ContainsAny(m.Topic, "+#") {
				add(p+".mqtt.topic", "give a topic without wildcards, got %q", m.Topic)
			}
			if m.QoS < 0 || m.QoS > 2 {
				add(p+".mqtt.qos", "must be 0, 1 or 2, got %d", m.QoS)
			}
		}
		if m := h.Modbus; m != nil {
			set = append(set, "modbus")
			if m.Register.Table != config.Holding && m.Register.Table != config.Coil {
				add(p+".modbus.register", "%s cannot be written (want a holding register or a coil)", m.Register)
			}
			if m.Param == "" && m.Value == nil {
				add(p+".modbus", "give param (a number in the reaction's params), value, or both")
			}
			sec := m.section()
			for _, fe := range config.FieldErrors(errors.Join(sec.Validate(p + ".modbus")...)) {
				if strings.HasSuffix(fe.Path, ".writable") {
					continue // said above, as a register that cannot be written
				}
				// The section's point is ours: report its fields at the handler.
				fe.Path = strings.Replace(fe.Path, p+".modbus.points[0].", p+".modbus.", 1)
				errs = append(errs, fe)
			}
		}
		switch len(set) {
		case 0:
			add(p, "give one of command, mqtt or modbus")
		case 1:
		default:
			add(p+"."+set[1], "a handler does one thing; this one already has %s", set[0])
		}
	}
	if len(errs) == 0 {
		return nil
	}
	for _, fe := range errs {
		fe.File = c.file
		fe.Line, fe.Column = c.root.where(fe.Path)
	}
	slices.SortStableFunc(errs, func(a, b *config.FieldError) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	out := make([]error, len(errs))
	for i, fe := range errs {
		out[i] = fe
	}
	return errors.Join(out...)
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// section is the modbus device section the write goes through: one writable point.
func (m *modbusAction) section() config.Modbus {
	return config.Modbus{
		Address: m.Address, Unit: m.Unit, Timeout: m.Timeout,
		Points: []config.ModbusPoint{{Name: "target", Register: m.Register, Type: m.Type, Order: m.Order, Scale: m.Scale, Writable: true}},
	}
}

// newHelperCmd is `tanglegate helper`: the helper agent and its root subcommands.
func newHelperCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "helper",
		Short: "Run a helper agent: follow the gateway's reactions and answer them",
		Long: `Helper follows the gateway's restricted MAM channel to this helper through a
node, runs the first handler whose action matches each reaction (a command, an
MQTT publish or a Modbus write) and answers acknowledged, then done or failed,
on its own restricted channel, which the gateway follows.

'tanglegate helper root' prints the root of that answer channel, for the
gateway's helpers[].channel.root; 'tanglegate helper gateway-root' (on the
gateway) prints the root of the gateway's channel, for gateway_root here.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadHelperConfig(path)
			if err != nil {
				printProblems(cmd.ErrOrStderr(), err)
				return silentExit{code: 1}
			}
			return runHelper(cmd.Context(), cfg, newLogger(cmd.ErrOrStderr(), cfg.LogLevel.Level()))
		},
	}
	cmd.Flags().StringVar(&path, "config", defaultHelperConfig, "helper configuration file")
	cmd.AddCommand(newHelperRootCmd(), newHelperGatewayRootCmd())
	return cmd
}

func newHelperRootCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "root",
		Short: "Print the root of the helper's answer channel (for the gateway's helpers[].channel.root)",
		Long: `Root prints the root of the helper's answer channel. It creates the helper's
seed (mode 0600) if this is the first start. Paste it into the gateway's
configuration as helpers[].channel.root.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadHelperConfig(path)
			if err != nil {
				printProblems(cmd.ErrOrStderr(), err)
				return silentExit{code: 1}
			}
			seed, side, err := helperSecrets(cfg)
			if err != nil {
				return err
			}
			root, err := helper.AnswerRoot(seed, side)
			if err != nil {
				return fmt.Errorf("answer channel root: %w", err)
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), root)
			return err
		},
	}
	cmd.Flags().StringVar(&path, "config", defaultHelperConfig, "helper configuration file")
	return cmd
}

func newHelperGatewayRootCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "gateway-root NAME",
		Short: "On the gateway: print the root of its channel to helper NAME (the helper's gateway_root)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(path)
			if err != nil {
				printProblems(cmd.ErrOrStderr(), err)
				return silentExit{code: 1}
			}
			var h *config.Helper
			for i := range cfg.Helpers {
				if cfg.Helpers[i].Name == args[0] {
					h = &cfg.Helpers[i]
				}
			}
			if h == nil {
				return fmt.Errorf("no helper %q in %s", args[0], path)
			}
			seed, _, err := identity.LoadOrCreateSeed(cfg.Identity.SeedFile)
			if err != nil {
				return err
			}
			key, err := helperSideKey(h.Channel.SideKeyFile)
			if err != nil {
				return fmt.Errorf("helper %s: %w", h.Name, err)
			}
			root, err := gatewayHelperRoot(seed, h.Name, key)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), root)
			return err
		},
	}
	cmd.Flags().StringVar(&path, "config", defaultConfigPath, "gateway configuration file")
	return cmd
}

// gatewayHelperRoot is the root of the first tree of the gateway's channel to
// a helper, as reactions.ensureChannel creates it.
func gatewayHelperRoot(gatewaySeed, helperName, sideKey string) (string, error) {
	seed, err := identity.DeviceSeed(gatewaySeed, identity.Key{Adapter: "helper", Address: helperName})
	if err != nil {
		return "", err
	}
	c, err := mam.NewChannel(seed, mam.Restricted, sideKey, 1)
	if err != nil {
		return "", fmt.Errorf("channel to helper %s: %w", helperName, err)
	}
	if c, err = c.WithTreeSize(8); err != nil {
		return "", fmt.Errorf("channel to helper %s: %w", helperName, err)
	}
	return c.Root()
}

// helperSecrets loads (or at first start creates) the helper's seed and reads its side key.
func helperSecrets(cfg *helperConfig) (seed, sideKey string, err error) {
	seed, _, err = identity.LoadOrCreateSeed(cfg.SeedFile)
	if err != nil {
		return "", "", err
	}
	sideKey, err = readSideKey(cfg.SideKeyFile)
	if err != nil {
		return "", "", err
	}
	if sideKey == "" {
		return "", "", fmt.Errorf("side key file %s is empty", cfg.SideKeyFile)
	}
	return seed, sideKey, nil
}

// runHelper runs the helper agent until ctx ends.
func runHelper(ctx context.Context, cfg *helperConfig, log *slog.Logger) error {
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return fmt.Errorf("create state directory: %w", err)
	}
	seed, side, err := helperSecrets(cfg)
	if err != nil {
		return err
	}
	db, err := bolt.Open(filepath.Join(cfg.StateDir, "helper.db"), 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return fmt.Errorf("open helper database: %w", err)
	}
	defer db.Close()
	channels, err := mam.NewStore(db)
	if err != nil {
		return err
	}
	node := &mam.HTTPNode{URL: cfg.Node, MWM: cfg.MWM}
	if cfg.TokenFile != "" {
		tok, err := os.ReadFile(cfg.TokenFile)
		if err != nil {
			return fmt.Errorf("read node token: %w", err)
		}
		node.Client = &http.Client{Transport: bearer{token: strings.TrimSpace(string(tok))}}
	}
	handlers := &helperHandlers{cfg: cfg, pool: modbus.NewPool(), log: log}
	a, err := helper.New(helper.Options{Name: cfg.Name, GatewayRoot: cfg.GatewayRoot, SideKey: side, Poll: cfg.Poll.D(), Position: helper.BoltPosition{DB: db}},
		seed, node, node, channels, handlers, log.With("component", "helper"))
	if err != nil {
		return err
	}
	root, err := a.Root()
	if err != nil {
		return err
	}
	log.Info("helper started", "helper", cfg.Name, "node", cfg.Node, "answer_root", root, "handlers", len(cfg.Handlers))
	err = a.Run(ctx)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// bearer adds the node's API token to every request.
type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// helperHandlers picks the handler of a reaction's action and runs it.
type helperHandlers struct {
	cfg  *helperConfig
	pool *modbus.Pool
	log  *slog.Logger
}

// Handle implements helper.Handler.
func (hs *helperHandlers) Handle(ctx context.Context, r rules.Reaction) (string, error) {
	for _, h := range hs.cfg.Handlers {
		if h.Action != "" && h.Action != r.Action {
			continue
		}
		switch {
		case h.Command != nil:
			return hs.command(ctx, h.Command, r)
		case h.MQTT != nil:
			return hs.mqtt(ctx, h.MQTT, r)
		case h.Modbus != nil:
			return hs.modbus(ctx, h.Modbus, r)
		}
	}
	return "", fmt.Errorf("no handler for action %q", r.Action)
}

func (hs *helperHandlers) command(ctx context.Context, c *commandAction, r rules.Reaction) (string, error) {
	in, err := json.Marshal(r)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, c.Timeout.D())
	defer cancel()
	cmd := exec.CommandContext(ctx, c.Run[0], c.Run[1:]...)
	cmd.Dir = hs.cfg.dir
	cmd.Stdin = bytes.NewReader(in)
	cmd.Env = append(os.Environ(), reactionEnv(hs.cfg.Name, r)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &limited{w: &stdout, n: 4096}, &limited{w: &stderr, n: 4096}
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		if msg := headLine(stderr.String()); msg != "" {
			return "", fmt.Errorf("%s: %w: %s", filepath.Base(c.Run[0]), err, msg)
		}
		return "", fmt.Errorf("%s: %w", filepath.Base(c.Run[0]), err)
	}
	return headLine(stdout.String()), nil
}

// reactionEnv is what a command learns from its environment.
func reactionEnv(helperName string, r rules.Reaction) []string {
	env := []string{
		"TANGLEGATE_HELPER=" + helperName, "TANGLEGATE_REACTION=" + r.Reaction, "TANGLEGATE_RULE=" + r.Rule,
		"TANGLEGATE_EVENT=" + string(r.Event), "TANGLEGATE_SEVERITY=" + string(r.Severity),
		"TANGLEGATE_ACTION=" + r.Action, "TANGLEGATE_GATEWAY=" + r.Gateway,
	}
	for k, v := range r.Params {
		env = append(env, "TANGLEGATE_PARAM_"+strings.ToUpper(envName(k))+"="+fmt.Sprint(v))
	}
	return env
}

func envName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, s)
}

func headLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// limited keeps the first n bytes written and discards the rest.
type limited struct {
	w *bytes.Buffer
	n int
}

func (l *limited) Write(p []byte) (int, error) {
	if room := l.n - l.w.Len(); room > 0 {
		l.w.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (hs *helperHandlers) mqtt(ctx context.Context, m *mqttAction, r rules.Reaction) (string, error) {
	js, err := json.Marshal(r)
	if err != nil {
		return "", err
	}
	expand := strings.NewReplacer("{{helper}}", hs.cfg.Name, "{{rule}}", r.Rule, "{{action}}", r.Action,
		"{{reaction}}", r.Reaction, "{{event}}", string(r.Event), "{{severity}}", string(r.Severity), "{{json}}", string(js)).Replace
	topic, payload := expand(m.Topic), string(js)
	if m.Payload != "" {
		payload = expand(m.Payload)
	}
	broker := m.Broker
	for from, to := range map[string]string{"mqtt://": "tcp://", "mqtts://": "ssl://"} {
		if rest, ok := strings.CutPrefix(broker, from); ok {
			broker = to + rest
		}
	}
	opts := paho.NewClientOptions().AddBroker(broker).SetClientID("tanglegate-helper-" + hs.cfg.Name).
		SetAutoReconnect(false).SetConnectTimeout(m.Timeout.D()).SetCleanSession(true)
	if strings.HasPrefix(broker, "ssl://") || strings.HasPrefix(broker, "tls://") {
		opts.SetTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12})
	}
	if m.Username != "" {
		opts.SetUsername(m.Username)
		if m.PasswordFile != "" {
			pw, err := os.ReadFile(m.PasswordFile)
			if err != nil {
				return "", fmt.Errorf("read mqtt password_file: %w", err)
			}
			opts.SetPassword(strings.TrimSpace(string(pw)))
		}
	}
	c := paho.NewClient(opts)
	if err := waitToken(ctx, c.Connect(), m.Timeout.D()); err != nil {
		return "", fmt.Errorf("connect to %s: %w", m.Broker, err)
	}
	defer c.Disconnect(250)
	if err := waitToken(ctx, c.Publish(topic, byte(m.QoS), m.Retain, payload), m.Timeout.D()); err != nil {
		return "", fmt.Errorf("publish to %s: %w", topic, err)
	}
	return "published to " + topic, nil
}

func waitToken(ctx context.Context, t paho.Token, timeout time.Duration) error {
	select {
	case <-t.Done():
		return t.Error()
	case <-time.After(timeout):
		return errors.New("timed out")
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (hs *helperHandlers) modbus(ctx context.Context, m *modbusAction, r rules.Reaction) (string, error) {
	v, ok := r.Params[m.Param].(float64)
	if m.Param == "" || !ok {
		if m.Value == nil {
			return "", fmt.Errorf("reaction has no number parameter %q and the handler no value", m.Param)
		}
		v = *m.Value
	}
	a, err := modbus.New(hs.cfg.Name, m.section(), hs.pool, nil, hs.log)
	if err != nil {
		return "", err
	}
	if err := a.Write(ctx, "target", adapters.Number(v)); err != nil {
		return "", err
	}
	return fmt.Sprintf("wrote %v to %s on unit %d", v, m.Register, m.Unit), nil
}
