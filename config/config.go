package config

import (
	"log/slog"
	"strings"
	"time"
)

// Config is the whole of /etc/tanglegate/gateway.yaml. Start from [Default]
// and read a file with [Load]; both give a Config that passed [Config.Validate].
//
// Relative paths in the file are relative to the file's directory: [Load]
// makes the paths of this package's own fields absolute and records the
// directory in Dir, so that bus sections can do the same with [Config.Abs].
type Config struct {
	Gateway Gateway `yaml:"gateway"`
	Node    Node    `yaml:"node"`
	PoW     PoW     `yaml:"pow"`
	// Devices are the field devices; names are unique identifiers (see [CheckIdent]).
	Devices []Device `yaml:"devices"`
	// Identity configures the tangle identities of the devices.
	Identity Identity `yaml:"identity"`
	// Telemetry lists MAM channels that carry readings of some devices.
	Telemetry []Telemetry `yaml:"telemetry"`
	// Helpers are the devices that react to rule firings over restricted MAM channels.
	Helpers []Helper `yaml:"helpers"`
	// Rules is a glob of rule files (default /etc/tanglegate/rules.d/*.yaml).
	Rules string `yaml:"rules"`
	// Metrics is the listen address of /metrics and /healthz (default
	// 127.0.0.1:9311); empty turns the listener off.
	Metrics string `yaml:"metrics"`
	// MQTT is an optional northbound broker: readings and the `mqtt:` actions
	// of rules are published there. Nil when absent.
	MQTT *Northbound `yaml:"mqtt,omitempty"`

	// Dir is the directory of the file the config was loaded from ("" for
	// [Default] and [Parse]); relative paths are resolved against it.
	Dir string `yaml:"-"`
}

// Gateway names the gateway and says where it keeps its state.
type Gateway struct {
	// Name identifies the gateway in identity documents, logs and metrics
	// (default "tanglegate"). Letters, digits, '.', '_' and '-'.
	Name string `yaml:"name"`
	// StateDir holds gateway.db, the seed (mode 0600), tls/ and snapshots
	// (default /var/lib/tanglegate).
	StateDir string `yaml:"state_dir"`
	// LogLevel is debug, info (default), warn or error.
	LogLevel LogLevel `yaml:"log_level"`
}

// LogLevel is a slog level written as debug, info, warn or error.
type LogLevel string

// Log levels.
const (
	LogDebug LogLevel = "debug"
	LogInfo  LogLevel = "info"
	LogWarn  LogLevel = "warn"
	LogError LogLevel = "error"
)

var logLevels = []string{"debug", "info", "warn", "error"}

// Level returns the slog level (info for an unknown value).
func (l LogLevel) Level() slog.Level {
	switch l {
	case LogDebug:
		return slog.LevelDebug
	case LogWarn:
		return slog.LevelWarn
	case LogError:
		return slog.LevelError
	}
	return slog.LevelInfo
}

// Node configures the local tangle node.
type Node struct {
	// API is the listen address of the IRI-compatible HTTP API (default
	// 127.0.0.1:14265). Clients from other hosts must send the API token.
	API string `yaml:"api"`
	// APITokenFile holds the API token (default <state_dir>/api-token,
	// generated at first start).
	APITokenFile string `yaml:"api_token_file"`
	// Peering is the listen address for peer gateways, TLS 1.3 with mutual
	// authentication (default 0.0.0.0:15600); empty turns listening off.
	Peering string `yaml:"peering"`
	// Peers are the other gateways to connect to.
	Peers []Peer `yaml:"peers"`
	// MWM is the minimum weight magnitude of proof-of-work, 1 to 27 (default 9).
	MWM int `yaml:"mwm"`
	// Coordinator says who issues milestones (default: this gateway).
	Coordinator Coordinator `yaml:"coordinator"`
	// Snapshots prune old transactions (ignored on a permanode).
	Snapshots Snapshots `yaml:"snapshots"`
	// Permanode keeps every transaction forever (default false).
	Permanode bool `yaml:"permanode"`
}

// Peer is another gateway, pinned by the fingerprint of its TLS certificate.
type Peer struct {
	// Address is host:port of the peer's peering listener.
	Address string `yaml:"address"`
	// Fingerprint is "sha256:" and 64 hex digits, as `tanglegate node id`
	// prints on the peer.
	Fingerprint string `yaml:"fingerprint"`
}

// Coordinator configures milestones. On the coordinator gateway Issue is
// true; every other gateway gives the coordinator's Address.
type Coordinator struct {
	// Address is the coordinator's 81-tryte address (90 with checksum).
	// Required unless Issue is true; when both are given they must agree.
	Address string `yaml:"address"`
	// Interval between milestones issued by this gateway (default 10s).
	Interval Duration `yaml:"interval"`
	// Issue makes this gateway the coordinator. It defaults to true when the
	// file gives no Address, so that a lone gateway works without setup, and
	// to false when it does.
	Issue bool `yaml:"issue"`
	// Depth of the coordinator's Merkle tree of signing keys, 4 to 20
	// (default 12): the network can issue 2^depth milestones (4096, about
	// 11 h at a 10s interval), and the coordinator derives 2^depth keys at
	// first start (about 20 s on a Raspberry Pi 4 at depth 12; each level
	// more doubles it). Every gateway of the network must use the same depth
	// and security, since they are part of how milestones are checked.
	Depth int `yaml:"depth"`
	// Security is the WOTS security level of milestone signatures, 1 to 3
	// (default 1). Like Depth, all gateways of a network must agree.
	Security int `yaml:"security"`
	// SeedFile holds the coordinator's own seed, 81 trytes (default
	// <state_dir>/coordinator.seed, generated with mode 0600 at first start
	// on the coordinator; unused elsewhere). Its Merkle tree root is the
	// coordinator address the other gateways configure.
	SeedFile string `yaml:"seed_file"`
}

// Snapshots configures local snapshots, counted in milestones.
type Snapshots struct {
	// Every is the number of milestones between snapshots (default 100).
	Every int `yaml:"every"`
	// Keep is the number of milestones kept below a snapshot (default 50).
	Keep int `yaml:"keep"`
}

// PoW configures the proof-of-work search.
type PoW struct {
	// Implementation is auto (default: the fastest the CPU supports), go,
	// avx2, avx512 or neon.
	Implementation string `yaml:"implementation"`
	// Threads is the number of workers; 0 (default) uses every core.
	Threads int `yaml:"threads"`
}

// PoW implementations.
var powImplementations = []string{"auto", "go", "avx2", "avx512", "neon"}

// Identity configures device identities (Identity of Things).
type Identity struct {
	// SeedFile holds the gateway seed, 81 trytes (default <state_dir>/seed,
	// generated from crypto/rand with mode 0600 at first start).
	SeedFile string `yaml:"seed_file"`
	// MinInterval is the shortest time between two state updates of one
	// device (default 1m); changes in between are summarised in the next.
	MinInterval Duration `yaml:"min_interval"`
	// Disabled turns off identity documents and state updates (default false).
	Disabled bool `yaml:"disabled"`
}

// Telemetry publishes readings of some devices on a MAM channel.
type Telemetry struct {
	// Devices are the names of the devices whose readings go on the channel.
	Devices []string `yaml:"devices"`
	// Mode is the MAM mode: public, restricted (default) or private.
	Mode string `yaml:"mode"`
	// SideKeyFile holds the side key of a restricted channel (required then).
	SideKeyFile string `yaml:"side_key_file"`
	// Every publishes a summary at this interval (0: only on change).
	Every Duration `yaml:"every"`
	// OnChange publishes when a value moves by more than the deadband.
	OnChange *OnChange `yaml:"on_change,omitempty"`
	// Name names the stream (its MAM channel is derived from the gateway seed
	// and this name); default the device names joined with "+".
	Name string `yaml:"name,omitempty"`
	// MaxMessageBytes closes a batch when its JSON would exceed this size,
	// 256 to 65536 (default 2048, about three transactions).
	MaxMessageBytes int `yaml:"max_message_bytes,omitempty"`
	// MaxLatency closes a batch this long after its first reading (default
	// every when set, else 10s).
	MaxLatency Duration `yaml:"max_latency,omitempty"`
	// MaxQueue is the number of batches kept waiting for proof-of-work before
	// new batches are coalesced into the last one, at least 2 (default 64).
	MaxQueue int `yaml:"max_queue,omitempty"`
	// Coalesce says what a coalesced point keeps: last (default), min, max or
	// mean (numbers only; other values keep the last).
	Coalesce string `yaml:"coalesce,omitempty"`
}

// Coalesce policies of telemetry streams.
var coalescePolicies = []string{"last", "min", "max", "mean"}

// Telemetry defaults.
const (
	DefaultTelemetryMessageBytes = 2048
	DefaultTelemetryMaxQueue     = 64
	DefaultTelemetryMaxLatency   = Duration(10 * time.Second)
)

// StreamName returns the stream's name: Name, or the devices joined with "+".
func (t *Telemetry) StreamName() string {
	if t.Name != "" {
		return t.Name
	}
	return strings.Join(t.Devices, "+")
}

// MAM modes.
var mamModes = []string{"public", "restricted", "private"}

// OnChange publishes a reading when it differs from the last published one
// by more than Deadband (0: any change).
type OnChange struct {
	Deadband float64 `yaml:"deadband"`
}

// Helper is a device that reacts to rule firings, addressed by rules with
// `notify: <name>`.
type Helper struct {
	// Name is what rules call the helper: letters, digits, '_' and '-'.
	Name string `yaml:"name"`
	// Channel is the restricted MAM channel the helper follows.
	Channel HelperChannel `yaml:"channel"`
}

// HelperChannel is the restricted MAM channel of a helper.
type HelperChannel struct {
	// Root is the 81-tryte root of the channel's first message.
	Root string `yaml:"root"`
	// SideKeyFile holds the side key shared with the helper at provisioning.
	SideKeyFile string `yaml:"side_key_file"`
}

// Northbound is the MQTT broker the gateway publishes to.
type Northbound struct {
	// Broker is tcp://host:port, mqtt://, tls://, ssl:// or mqtts://.
	Broker string `yaml:"broker"`
	// ClientID defaults to "tanglegate-<gateway name>".
	ClientID string `yaml:"client_id"`
	// Username and PasswordFile authenticate to the broker.
	Username     string `yaml:"username"`
	PasswordFile string `yaml:"password_file"`
	// CAFile verifies the broker (system roots when empty); CertFile and
	// KeyFile are a client certificate.
	CAFile   string `yaml:"ca_file"`
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// TopicPrefix starts every topic (default "tanglegate/<gateway name>").
	TopicPrefix string `yaml:"topic_prefix"`
	// QoS is 0, 1 (default) or 2.
	QoS int `yaml:"qos"`
	// Retain sets the MQTT retain flag on readings (default false).
	Retain bool `yaml:"retain"`
	// Readings publishes every reading to <topic_prefix>/<topic>
	// (default false: only rule actions publish).
	Readings bool `yaml:"readings"`
	// Topic is the template of reading topics under topic_prefix, with
	// {gateway}, {device} and {point} (default "{device}/{point}").
	Topic string `yaml:"topic,omitempty"`
	// MaxStored bounds the messages kept in the gateway database while the
	// broker is unreachable; beyond it the oldest are dropped and counted
	// (default 1000000).
	MaxStored int `yaml:"max_stored,omitempty"`
}

// Northbound defaults.
const (
	DefaultNorthboundTopic     = "{device}/{point}"
	DefaultNorthboundMaxStored = 1000000
)

// Default returns the configuration used for everything the file leaves out.
// It has no devices, helpers or telemetry. Paths under the state directory
// (API token, seed) follow a state_dir set in the file unless the file sets
// them too.
func Default() *Config {
	return &Config{
		Gateway: Gateway{
			Name:     "tanglegate",
			StateDir: "/var/lib/tanglegate",
			LogLevel: LogInfo,
		},
		Node: Node{
			API:          "127.0.0.1:14265",
			APITokenFile: "/var/lib/tanglegate/api-token",
			Peering:      "0.0.0.0:15600",
			MWM:          9,
			Coordinator: Coordinator{
				Interval: Duration(10 * time.Second),
				Issue:    true,
				Depth:    12,
				Security: 1,
				SeedFile: "/var/lib/tanglegate/coordinator.seed",
			},
			Snapshots: Snapshots{Every: 100, Keep: 50},
		},
		PoW:      PoW{Implementation: "auto"},
		Identity: Identity{SeedFile: "/var/lib/tanglegate/seed", MinInterval: Duration(time.Minute)},
		Rules:    "/etc/tanglegate/rules.d/*.yaml",
		Metrics:  "127.0.0.1:9311",
	}
}
