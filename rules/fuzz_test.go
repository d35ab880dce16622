package rules

import (
	"os"
	"testing"
)

// FuzzParse: a rules file never makes the compiler panic; bad input is an error.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("testdata/pump.yaml"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("- rule: hot\n  when: pump1.temperature > 80\n  for: 30s\n  then: [{notify: cooling-unit}]\n"))
	f.Add([]byte("- rule: x\n  when: rate_of_change(pump1.vibration, 1m) > 2\n  then: [{write: pump1.cooling = 1}]\n"))
	f.Add([]byte("- rule: y\n  absent_for: {point: boiler.pressure, duration: 2m}\n  then: [{mqtt: {topic: a}}]\n"))
	f.Add([]byte("rule: not a list"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := Parse("fuzz.yaml", data, testEnv)
		if err != nil {
			return
		}
		v := NewValues(t0)
		for _, r := range rs {
			v.track(r)
			r.Eval(State{}, v, t0) // compiled rules evaluate without panicking
		}
	})
}
