package identity

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/tanglegate/gateway/mam"
	"github.com/tanglegate/gateway/tangle/kerl"
	"github.com/tanglegate/gateway/tangle/sign"
	"github.com/tanglegate/gateway/tangle/trinary"
)

// Key identifies a device on its bus: adapter ("modbus", "opcua", "serial",
// "mqtt", "sim"), bus address (a URL, port or topic) and unit (Modbus unit
// ID, may be empty).
type Key struct {
	Adapter string `json:"adapter"`
	Address string `json:"address"`
	Unit    string `json:"unit,omitempty"`
}

// String is the canonical form that the derivation hashes.
func (k Key) String() string { return k.Adapter + "|" + k.Address + "|" + k.Unit }

// Channel settings of identity channels: public, security 1, trees of 8
// messages (a power of two, as @iota/mam.js requires).
const (
	Security = 1
	TreeSize = 8
)

// DeviceSeed derives the seed of a device from the gateway seed and the
// device key: Kerl(gateway seed ‖ key as ASCII trytes, padded to 81-tryte
// blocks). It is pure and stable.
func DeviceSeed(gatewaySeed string, k Key) (string, error) {
	seed, err := sign.SeedTrits(gatewaySeed)
	if err != nil {
		return "", fmt.Errorf("identity: gateway seed: %w", err)
	}
	kt, err := mam.EncodeJSON(k.String()) // a JSON string: ASCII-safe for any key
	if err != nil {
		return "", fmt.Errorf("identity: device key: %w", err)
	}
	n := (len(kt) + trinary.HashTrytes - 1) / trinary.HashTrytes * trinary.HashTrytes
	keyTrits, err := trinary.TrytesToTrits(trinary.Pad(kt, n))
	if err != nil {
		return "", fmt.Errorf("identity: device key: %w", err)
	}
	h := kerl.New()
	if err := h.Absorb(seed); err != nil {
		return "", fmt.Errorf("identity: derive: %w", err)
	}
	if err := h.Absorb(keyTrits); err != nil {
		return "", fmt.Errorf("identity: derive: %w", err)
	}
	out := make([]int8, kerl.HashTrits)
	if err := h.Squeeze(out); err != nil {
		return "", fmt.Errorf("identity: derive: %w", err)
	}
	return trinary.MustTrytes(out), nil
}

// NewChannel returns the initial state of a device's identity channel.
func NewChannel(deviceSeed string) (mam.Channel, error) {
	c, err := mam.NewChannel(deviceSeed, mam.Public, "", Security)
	if err != nil {
		return mam.Channel{}, fmt.Errorf("identity: channel: %w", err)
	}
	return c.WithTreeSize(TreeSize)
}

// ID returns the identity of a device: the root of its channel's first tree.
func ID(deviceSeed string) (string, error) {
	c, err := NewChannel(deviceSeed)
	if err != nil {
		return "", err
	}
	return c.Root()
}

// Point describes one point of a device in its identity document.
type Point struct {
	Name     string `json:"name"`
	Type     string `json:"type,omitempty"`
	Unit     string `json:"unit,omitempty"`
	Writable bool   `json:"writable,omitempty"`
}

// Document is the identity document, the first message on a device's
// channel (and re-published when the device's description changes).
type Document struct {
	Schema  string    `json:"schema"` // "tanglegate/identity/v1"
	ID      string    `json:"id"`
	Device  string    `json:"device"`  // name in the gateway config
	Gateway string    `json:"gateway"` // gateway name
	Bus     Key       `json:"bus"`
	Vendor  string    `json:"vendor,omitempty"`
	Model   string    `json:"model,omitempty"`
	Points  []Point   `json:"points"`
	Created time.Time `json:"created"`
	// Telemetry is the root of the device's telemetry channel, when it has one.
	Telemetry string `json:"telemetry,omitempty"`
}

// DocumentSchema and UpdateSchema name the message formats.
const (
	DocumentSchema = "tanglegate/identity/v1"
	UpdateSchema   = "tanglegate/state/v1"
)

// Summary is what a state update says about one point's recent values.
type Summary struct {
	Last  float64 `json:"last"`
	Min   float64 `json:"min"`
	Max   float64 `json:"max"`
	Count int     `json:"n"`
}

// Update is a state update appended to the device's channel on change.
type Update struct {
	Schema   string             `json:"schema"` // "tanglegate/state/v1"
	ID       string             `json:"id"`
	State    string             `json:"state"` // online, degraded, offline
	Firmware string             `json:"firmware,omitempty"`
	Error    string             `json:"error,omitempty"`
	Values   map[string]Summary `json:"values,omitempty"`
	At       time.Time          `json:"at"`
}

// Encode marshals a document or update to message trytes ([mam.EncodeJSON]).
func Encode(v any) (string, error) { return mam.EncodeJSON(v) }

// Decode turns message trytes back into JSON and reads its schema.
func Decode(message string) (schema string, raw []byte, err error) {
	raw, err = mam.DecodeJSON(message)
	if err != nil {
		return "", nil, fmt.Errorf("identity: %w", err)
	}
	var head struct {
		Schema string `json:"schema"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return "", nil, fmt.Errorf("identity: decode: %w", err)
	}
	return head.Schema, raw, nil
}
