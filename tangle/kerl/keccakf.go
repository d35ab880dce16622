package kerl

import "math/bits"

// keccakF1600 is the Keccak-f[1600] permutation (24 rounds), straight-line
// per round with the state in locals. Generated from the reference
// round description (theta, rho+pi, chi, iota); keccakF1600Ref in
// keccak_test.go is the plain loop it is checked against.
func keccakF1600(a *[25]uint64) {
	a00, a01, a02, a03, a04, a05, a06, a07, a08, a09, a10, a11, a12 := a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12]
	a13, a14, a15, a16, a17, a18, a19, a20, a21, a22, a23, a24 := a[13], a[14], a[15], a[16], a[17], a[18], a[19], a[20], a[21], a[22], a[23], a[24]
	for round := 0; round < 24; round++ {
		c0 := a00 ^ a05 ^ a10 ^ a15 ^ a20
		c1 := a01 ^ a06 ^ a11 ^ a16 ^ a21
		c2 := a02 ^ a07 ^ a12 ^ a17 ^ a22
		c3 := a03 ^ a08 ^ a13 ^ a18 ^ a23
		c4 := a04 ^ a09 ^ a14 ^ a19 ^ a24
		d0 := c4 ^ bits.RotateLeft64(c1, 1)
		d1 := c0 ^ bits.RotateLeft64(c2, 1)
		d2 := c1 ^ bits.RotateLeft64(c3, 1)
		d3 := c2 ^ bits.RotateLeft64(c4, 1)
		d4 := c3 ^ bits.RotateLeft64(c0, 1)
		b00 := (a00 ^ d0)
		b01 := bits.RotateLeft64(a03^d3, 28)
		b02 := bits.RotateLeft64(a01^d1, 1)
		b03 := bits.RotateLeft64(a04^d4, 27)
		b04 := bits.RotateLeft64(a02^d2, 62)
		b10 := bits.RotateLeft64(a06^d1, 44)
		b11 := bits.RotateLeft64(a09^d4, 20)
		b12 := bits.RotateLeft64(a07^d2, 6)
		b13 := bits.RotateLeft64(a05^d0, 36)
		b14 := bits.RotateLeft64(a08^d3, 55)
		b20 := bits.RotateLeft64(a12^d2, 43)
		b21 := bits.RotateLeft64(a10^d0, 3)
		b22 := bits.RotateLeft64(a13^d3, 25)
		b23 := bits.RotateLeft64(a11^d1, 10)
		b24 := bits.RotateLeft64(a14^d4, 39)
		b30 := bits.RotateLeft64(a18^d3, 21)
		b31 := bits.RotateLeft64(a16^d1, 45)
		b32 := bits.RotateLeft64(a19^d4, 8)
		b33 := bits.RotateLeft64(a17^d2, 15)
		b34 := bits.RotateLeft64(a15^d0, 41)
		b40 := bits.RotateLeft64(a24^d4, 14)
		b41 := bits.RotateLeft64(a22^d2, 61)
		b42 := bits.RotateLeft64(a20^d0, 18)
		b43 := bits.RotateLeft64(a23^d3, 56)
		b44 := bits.RotateLeft64(a21^d1, 2)
		a00 = b00 ^ (^b10 & b20)
		a01 = b10 ^ (^b20 & b30)
		a02 = b20 ^ (^b30 & b40)
		a03 = b30 ^ (^b40 & b00)
		a04 = b40 ^ (^b00 & b10)
		a05 = b01 ^ (^b11 & b21)
		a06 = b11 ^ (^b21 & b31)
		a07 = b21 ^ (^b31 & b41)
		a08 = b31 ^ (^b41 & b01)
		a09 = b41 ^ (^b01 & b11)
		a10 = b02 ^ (^b12 & b22)
		a11 = b12 ^ (^b22 & b32)
		a12 = b22 ^ (^b32 & b42)
		a13 = b32 ^ (^b42 & b02)
		a14 = b42 ^ (^b02 & b12)
		a15 = b03 ^ (^b13 & b23)
		a16 = b13 ^ (^b23 & b33)
		a17 = b23 ^ (^b33 & b43)
		a18 = b33 ^ (^b43 & b03)
		a19 = b43 ^ (^b03 & b13)
		a20 = b04 ^ (^b14 & b24)
		a21 = b14 ^ (^b24 & b34)
		a22 = b24 ^ (^b34 & b44)
		a23 = b34 ^ (^b44 & b04)
		a24 = b44 ^ (^b04 & b14)
		a00 ^= roundConstants[round]
	}
	a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12] = a00, a01, a02, a03, a04, a05, a06, a07, a08, a09, a10, a11, a12
	a[13], a[14], a[15], a[16], a[17], a[18], a[19], a[20], a[21], a[22], a[23], a[24] = a13, a14, a15, a16, a17, a18, a19, a20, a21, a22, a23, a24
}
