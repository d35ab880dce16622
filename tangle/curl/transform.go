package curl

// truth is F(a, b) indexed by a + 4*b + 5 (entries 3 and 7 are unused).
var truth = [11]int8{1, 0, -1, 2, 1, -1, 0, 2, -1, 1, 0}

// Transform applies rounds rounds of the Curl-P permutation to state.
//
// new[i] = F(old[p(i)], old[p(i+1)]) with p(0) = 0 and p(k+1) = p(k)+364 if
// p(k) < 365, else p(k)-365. The loop walks p with two running indexes and
// never allocates.
func Transform(state *[StateTrits]int8, rounds int) {
	var scratch [StateTrits]int8
	a, b := state, &scratch
	for r := 0; r < rounds; r++ {
		// copy of the old state is a; write into b.
		p := 0
		x := a[0]
		for i := 0; i < StateTrits; i++ {
			if p < 365 {
				p += 364
			} else {
				p -= 365
			}
			y := a[p]
			b[i] = truth[int(x)+int(y)<<2+5]
			x = y
		}
		a, b = b, a
	}
	if rounds%2 == 1 {
		*state = *a
	}
}
