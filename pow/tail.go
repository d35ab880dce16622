package pow

import "slices"

// maxTailRounds bounds how many final rounds are computed sparsely.
const maxTailRounds = 12

// tailStep is one output of a sparse round: out = F(src[a], src[b]).
type tailStep struct{ out, a, b uint16 }

// tailPlan lists, for the last rounds of the transform, only the outputs the
// weight check needs: the last round needs mwm outputs, the one before it the
// inputs of those, and so on while that is cheaper than a full round.
type tailPlan struct {
	mwm    int                    // trailing trits the weight check reads
	rounds int                    // how many final rounds are sparse
	start  [maxTailRounds + 1]int // steps[start[r]:start[r+1]] is sparse round r
	steps  []tailStep             // all steps, first sparse round first
}

// sparseLimit: a sparse step costs about twice a dense one (index loads), so
// a round is computed sparsely only when it needs fewer than this many outputs.
const sparseLimit = stateTrits * 2 / 5

// schedule returns p(0..729), the read order of a round.
func schedule() (p [stateTrits + 1]int) {
	for k := 1; k <= stateTrits; k++ {
		if p[k-1] < 365 {
			p[k] = p[k-1] + 364
		} else {
			p[k] = p[k-1] - 365
		}
	}
	return p
}

// newTailPlan returns the plan for checking mwm trailing trits.
func newTailPlan(mwm int) *tailPlan {
	p := schedule()
	need := map[int]bool{}
	for i := hashTrits - mwm; i < hashTrits; i++ {
		need[i] = true
	}
	var rounds [][]tailStep // last round first
	for len(rounds) < maxTailRounds && len(need) > 0 && len(need) < sparseLimit {
		var steps []tailStep
		next := map[int]bool{}
		for i := range need {
			steps = append(steps, tailStep{uint16(i), uint16(p[i]), uint16(p[i+1])})
			next[p[i]], next[p[i+1]] = true, true
		}
		slices.SortFunc(steps, func(x, y tailStep) int { return int(x.out) - int(y.out) })
		rounds = append(rounds, steps)
		need = next
	}
	t := &tailPlan{mwm: mwm, rounds: len(rounds)}
	for r := len(rounds) - 1; r >= 0; r-- {
		t.start[len(rounds)-1-r] = len(t.steps)
		t.steps = append(t.steps, rounds[r]...)
	}
	t.start[len(rounds)] = len(t.steps)
	return t
}
