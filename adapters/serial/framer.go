package serial

import "bytes"

// DefaultMaxFrame is the longest frame accepted when the config leaves it out.
const DefaultMaxFrame = 4096

// Framer splits a byte stream into frames. It is not safe for concurrent use.
type Framer struct {
	delim []byte // frames end with delim (not included), or
	fixed int    // frames are fixed bytes long
	max   int
	buf   []byte
	skip  bool // discarding an over-long frame until the next delimiter
}

// NewLineFramer returns a framer for frames ending with delim.
func NewLineFramer(delim string, maxFrame int) *Framer {
	if maxFrame <= 0 {
		maxFrame = DefaultMaxFrame
	}
	return &Framer{delim: []byte(delim), max: maxFrame}
}

// NewFixedFramer returns a framer for frames of n bytes.
func NewFixedFramer(n int) *Framer { return &Framer{fixed: n, max: n} }

// Feed appends p and calls frame for every complete frame (the slice is only
// valid during the call) and garbage with the number of bytes dropped from an
// over-long frame.
func (f *Framer) Feed(p []byte, frame func([]byte), garbage func(n int)) {
	f.buf = append(f.buf, p...)
	if f.fixed > 0 {
		i := 0
		for ; len(f.buf)-i >= f.fixed; i += f.fixed {
			frame(f.buf[i : i+f.fixed])
		}
		f.buf = append(f.buf[:0], f.buf[i:]...)
		return
	}
	start := 0
	for {
		j := bytes.Index(f.buf[start:], f.delim)
		if j < 0 {
			break
		}
		if f.skip {
			garbage(j + len(f.delim))
			f.skip = false
		} else {
			frame(f.buf[start : start+j])
		}
		start += j + len(f.delim)
	}
	rest := f.buf[start:]
	// Keep the last len(delim)-1 bytes: they may start a delimiter.
	if over := len(rest) - f.max; over > 0 {
		keep := min(len(rest), len(f.delim)-1)
		garbage(len(rest) - keep)
		rest = rest[len(rest)-keep:]
		f.skip = true
	}
	f.buf = append(f.buf[:0], rest...)
}
