package mam

import "github.com/tanglegate/gateway/tangle/curl"

const (
	nonceTrits   = 81
	searchLanes  = 64
	counterStart = 54 // trits 54..80 of the nonce are the batch counter
)

// lanePrefix[l] is written into nonce trits 0..3 by search lane l: the
// base-3 digits of l, little-endian, digit 2 written as -1.
var lanePrefix = func() (p [searchLanes][4]int8) {
	for l := range p {
		x := l
		for j := 0; j < 4; j++ {
			d := x % 3
			x /= 3
			if d == 2 {
				d = -1
			}
			p[l][j] = int8(d)
		}
	}
	return p
}()

// securityOf returns the security level encoded by the signed hash hm
// (c_s = 0 and c_j != 0 for j < s, with c_j the running trit sums over
// 81-trit thirds), or 0 when no level matches.
func securityOf(hm []int8) int {
	sum := 0
	for s := 1; s <= 3; s++ {
		for _, t := range hm[(s-1)*81 : s*81] {
			sum += int(t)
		}
		if sum == 0 {
			return s
		}
	}
	return 0
}

// findNonce searches a nonce for the sponge state st (after stream A) so
// that the hash after absorbing it encodes security. It follows mam.js's
// search order so payloads are byte-identical: batches of 64 lanes, a
// balanced counter in trits 54..80 incremented before every batch, the
// lowest matching lane wins and a batch won by lane 0 is discarded.
func findNonce(st *[stateTrits]int8, security int) [nonceTrits]int8 {
	var base [nonceTrits]int8
	copy(base[:], st[:nonceTrits])
	var work [stateTrits]int8
	for {
		addInt(base[counterStart:], 1)
		for lane := 0; lane < searchLanes; lane++ {
			work = *st
			copy(work[:nonceTrits], base[:])
			copy(work[:4], lanePrefix[lane][:])
			curl.Transform(&work, rounds)
			if securityOf(work[:hashTrits]) != security {
				continue
			}
			if lane == 0 {
				break // mam.js uses 0 as "not found": the whole batch is skipped
			}
			var n [nonceTrits]int8
			copy(n[:], base[:])
			copy(n[:4], lanePrefix[lane][:])
			return n
		}
	}
}
