package mam

import "github.com/tanglegate/gateway/tangle/curl"

const (
	hashTrits  = curl.HashTrits // 243
	stateTrits = curl.StateTrits
	rounds     = curl.Rounds27 // every MAM hash but the channel address
)

// hash is one 243-trit Curl-P value.
type hash = [hashTrits]int8

// sponge is the Curl-P-27 duplex MAM uses for masking: absorbing overwrites
// only the trits it is given (no padding), then transforms.
type sponge struct {
	s [stateTrits]int8
}

// absorb absorbs t in chunks of up to 243 trits.
func (sp *sponge) absorb(t []int8) {
	for len(t) > 0 {
		n := copy(sp.s[:hashTrits], t)
		curl.Transform(&sp.s, rounds)
		t = t[n:]
	}
}

// mask encrypts plain into dst (same length) with the plaintext-feedback
// duplex: keystream = rate, ciphertext = plain + key, then absorb plain.
func (sp *sponge) mask(dst, plain []int8) {
	for len(plain) > 0 {
		n := min(len(plain), hashTrits)
		for i := 0; i < n; i++ {
			dst[i] = addTrit(plain[i], sp.s[i])
		}
		copy(sp.s[:n], plain[:n])
		curl.Transform(&sp.s, rounds)
		dst, plain = dst[n:], plain[n:]
	}
}

// unmask decrypts cipher into dst (same length; dst may alias cipher).
func (sp *sponge) unmask(dst, cipher []int8) {
	for len(cipher) > 0 {
		n := min(len(cipher), hashTrits)
		for i := 0; i < n; i++ {
			dst[i] = addTrit(cipher[i], -sp.s[i])
		}
		copy(sp.s[:n], dst[:n])
		curl.Transform(&sp.s, rounds)
		dst, cipher = dst[n:], cipher[n:]
	}
}

// addTrit is balanced addition modulo 3.
func addTrit(a, b int8) int8 {
	s := a + b
	switch s {
	case 2:
		return -1
	case -2:
		return 1
	}
	return s
}

// hashOf returns the Curl-P-27 hash of in with a fresh sponge.
func hashOf(in []int8) hash {
	var sp sponge
	sp.absorb(in)
	var h hash
	copy(h[:], sp.s[:hashTrits])
	return h
}
