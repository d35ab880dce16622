package gossip

import (
	"encoding/binary"
	"fmt"

	"github.com/tanglegate/gateway/tangle/store"
)

// Feature bits of the handshake versions bitmask (spec 2.10).
const (
	featureSTING byte = 1 << 1
	featureExt   byte = 1 << 4
)

type handshake struct {
	Port        uint16
	TimeMs      uint64
	Coordinator store.Hash
	MWM         uint8
	Features    byte
}

func (h handshake) encode() []byte {
	b := make([]byte, handshakeMin)
	binary.BigEndian.PutUint16(b[0:], h.Port)
	binary.BigEndian.PutUint64(b[2:], h.TimeMs)
	copy(b[10:59], h.Coordinator[:])
	b[59] = h.MWM
	b[60] = h.Features
	return b
}

func decodeHandshake(b []byte) (handshake, error) {
	if len(b) < handshakeMin || len(b) > handshakeMax {
		return handshake{}, fmt.Errorf("%w: handshake: %d bytes, want %d..%d", ErrFrame, len(b), handshakeMin, handshakeMax)
	}
	var h handshake
	h.Port = binary.BigEndian.Uint16(b[0:])
	h.TimeMs = binary.BigEndian.Uint64(b[2:])
	copy(h.Coordinator[:], b[10:59])
	if !validT5B1(h.Coordinator[:]) {
		return handshake{}, fmt.Errorf("%w: handshake: coordinator address outside t5b1 range", ErrFrame)
	}
	h.MWM = b[59]
	h.Features = b[60]
	return h, nil
}
