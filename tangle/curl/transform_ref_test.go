package curl

import (
	"math/rand/v2"
	"testing"
)

// referenceTransform is the textbook Curl-P round loop (spec §2), kept to
// check the bit-plane Transform on states and round counts the vectors miss.
func referenceTransform(state *[StateTrits]int8, rounds int) {
	for r := 0; r < rounds; r++ {
		old := *state
		p := 0
		for i := 0; i < StateTrits; i++ {
			q := p + 364
			if p >= 365 {
				q = p - 365
			}
			state[i] = truth[int(old[p])+int(old[q])<<2+5]
			p = q
		}
	}
}

func TestTransformMatchesReference(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(11, 13))
	for _, rounds := range []int{0, 1, 2, 3, 4, 5, 6, 27, 80, 81} {
		for range 20 {
			var a [StateTrits]int8
			for i := range a {
				a[i] = int8(r.IntN(3)) - 1
			}
			b := a
			Transform(&a, rounds)
			referenceTransform(&b, rounds)
			if a != b {
				t.Fatalf("%d rounds: Transform differs from the reference", rounds)
			}
		}
	}
}
