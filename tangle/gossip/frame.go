package gossip

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/tanglegate/gateway/tangle/store"
)

// Message types (spec 2.2, Hornet numbering). Type 2 (legacy
// TransactionAndRequest) is never sent and is refused.
const (
	TypeHandshake        byte = 1
	TypeMilestoneRequest byte = 3
	TypeTransaction      byte = 4
	TypeTxRequest        byte = 5
	TypeHeartbeat        byte = 6
	// TypeConeRequest (Tanglegate extension, only to peers that negotiated
	// the extensions feature bit) asks for the past cone a milestone
	// confirmed: uint32 BE milestone index. The reply is a Transaction
	// message for every transaction of that cone, parents before the
	// transactions approving them, the milestone tail last.
	TypeConeRequest byte = 7
	// TypeConeEnd (Tanglegate extension) ends the reply to a cone request:
	// uint32 BE milestone index, uint32 BE transactions sent (0: the cone
	// cannot be served).
	TypeConeEnd byte = 8
)

// Frame sizes.
const (
	// HeaderLen is the TLV header: type, then a big-endian uint16 length.
	HeaderLen = 3
	// MaxFrame is the largest frame any type may carry (a full transaction).
	MaxFrame = store.TxBytes
	// MinTxPayload is the non-signature part every transaction frame carries.
	MinTxPayload = store.TxBytes - sigBytes
	handshakeMin = 61
	handshakeMax = 92
	sigBytes     = 1312
)

// limits gives each type's minimum and maximum payload length.
var limits = map[byte][2]int{
	TypeHandshake:        {handshakeMin, handshakeMax},
	TypeMilestoneRequest: {4, 4},
	TypeTransaction:      {MinTxPayload, store.TxBytes},
	TypeTxRequest:        {store.HashBytes, store.HashBytes},
	TypeHeartbeat:        {8, 8},
	TypeConeRequest:      {4, 4},
	TypeConeEnd:          {8, 8},
}

// ErrFrame is wrapped by every framing error; a peer that causes one is
// disconnected and backed off.
var ErrFrame = errors.New("gossip: malformed frame")

// Frame is one decoded message.
type Frame struct {
	Type    byte
	Payload []byte
}

// checkHeader validates a TLV header and returns the payload length.
func checkHeader(h []byte) (byte, int, error) {
	typ, n := h[0], int(binary.BigEndian.Uint16(h[1:3]))
	lim, ok := limits[typ]
	if !ok {
		return 0, 0, fmt.Errorf("%w: type: unknown message type %d", ErrFrame, typ)
	}
	if n < lim[0] || n > lim[1] {
		return 0, 0, fmt.Errorf("%w: length: %d bytes for type %d, want %d..%d", ErrFrame, n, typ, lim[0], lim[1])
	}
	return typ, n, nil
}

// ReadFrame reads one frame from r into buf (at least HeaderLen+MaxFrame
// bytes) and returns it; the payload aliases buf.
func ReadFrame(r io.Reader, buf []byte) (Frame, error) {
	if _, err := io.ReadFull(r, buf[:HeaderLen]); err != nil {
		return Frame{}, err
	}
	typ, n, err := checkHeader(buf[:HeaderLen])
	if err != nil {
		return Frame{}, err
	}
	if _, err := io.ReadFull(r, buf[HeaderLen:HeaderLen+n]); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		// not ErrFrame: a connection that ends or is closed (by us, as the
		// duplicate of another) mid-frame is no protocol violation
		return Frame{}, fmt.Errorf("read frame payload of %d bytes: %w", n, err)
	}
	f := Frame{Type: typ, Payload: buf[HeaderLen : HeaderLen+n]}
	return f, f.validate()
}

// DecodeFrames splits b into frames; it is the fuzzed entry point.
func DecodeFrames(b []byte) ([]Frame, error) {
	var out []Frame
	for len(b) > 0 {
		if len(b) < HeaderLen {
			return out, fmt.Errorf("%w: header: %d bytes left, want %d", ErrFrame, len(b), HeaderLen)
		}
		typ, n, err := checkHeader(b)
		if err != nil {
			return out, err
		}
		if len(b) < HeaderLen+n {
			return out, fmt.Errorf("%w: payload: %d bytes left, want %d", ErrFrame, len(b)-HeaderLen, n)
		}
		f := Frame{Type: typ, Payload: b[HeaderLen : HeaderLen+n]}
		if err := f.validate(); err != nil {
			return out, err
		}
		out = append(out, f)
		b = b[HeaderLen+n:]
	}
	return out, nil
}

// validate checks the payload content beyond its length.
func (f Frame) validate() error {
	switch f.Type {
	case TypeTransaction:
		if _, err := ExpandTx(f.Payload); err != nil {
			return err
		}
	case TypeTxRequest:
		if v := int8(f.Payload[store.HashBytes-1]); !validT5B1(f.Payload) || v < -13 || v > 13 {
			return fmt.Errorf("%w: hash: bytes outside t5b1 range", ErrFrame)
		}
	case TypeHandshake:
		if _, err := decodeHandshake(f.Payload); err != nil {
			return err
		}
	}
	return nil
}

// AppendFrame appends the encoding of one frame to dst.
func AppendFrame(dst []byte, typ byte, payload []byte) []byte {
	dst = append(dst, typ, byte(len(payload)>>8), byte(len(payload)))
	return append(dst, payload...)
}

// CompressTx truncates the trailing zero bytes of the signature region of
// t5b1 transaction bytes (spec 2.4).
func CompressTx(raw []byte) []byte {
	n := sigBytes
	for n > 0 && raw[n-1] == 0 {
		n--
	}
	out := make([]byte, 0, n+MinTxPayload)
	out = append(out, raw[:n]...)
	return append(out, raw[sigBytes:]...)
}

// ExpandTx reverses [CompressTx] and checks the bytes are valid t5b1.
func ExpandTx(p []byte) ([]byte, error) {
	if len(p) < MinTxPayload || len(p) > store.TxBytes {
		return nil, fmt.Errorf("%w: transaction: %d bytes, want %d..%d", ErrFrame, len(p), MinTxPayload, store.TxBytes)
	}
	if !validT5B1(p) {
		return nil, fmt.Errorf("%w: transaction: bytes outside t5b1 range", ErrFrame)
	}
	sig := len(p) - MinTxPayload
	raw := make([]byte, store.TxBytes)
	copy(raw, p[:sig])
	copy(raw[sigBytes:], p[sig:])
	if v := int8(raw[store.TxBytes-1]); v < -40 || v > 40 { // the last byte holds 4 trits
		return nil, fmt.Errorf("%w: transaction: last byte %d holds more than 4 trits", ErrFrame, int8(raw[store.TxBytes-1]))
	}
	return raw, nil
}

func validT5B1(b []byte) bool {
	for _, c := range b {
		if v := int8(c); v < -121 || v > 121 {
			return false
		}
	}
	return true
}
