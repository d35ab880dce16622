package recent

import "testing"

func TestMapRemembersBetweenOneAndTwoGenerations(t *testing.T) {
	for _, tc := range []struct {
		name   string
		others int // keys added after k
		want   bool
	}{
		{"just added", 0, true},
		{"a generation later", 3, true},
		{"the last moment of the old generation", 7, true},
		{"two generations later", 8, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := New[int, string](4)
			if !m.Add(0, "k") {
				t.Fatal("a new key was not new")
			}
			if m.Add(0, "again") {
				t.Fatal("a remembered key was new again")
			}
			for i := 1; i <= tc.others; i++ {
				m.Add(i, "x")
			}
			v, ok := m.Get(0)
			if ok != tc.want || ok && v != "k" {
				t.Errorf("Get = %q, %v; want remembered %v with its first value", v, ok, tc.want)
			}
		})
	}
}

func TestMapForget(t *testing.T) {
	m := New[int, struct{}](2)
	m.Add(1, struct{}{})
	m.Add(2, struct{}{})
	m.Add(3, struct{}{}) // 1 and 2 are in the old generation now
	m.Forget(1)
	m.Forget(3)
	if _, ok := m.Get(1); ok {
		t.Error("forgotten key of the old generation still remembered")
	}
	if _, ok := m.Get(3); ok {
		t.Error("forgotten key of the current generation still remembered")
	}
	if !m.Add(1, struct{}{}) {
		t.Error("a forgotten key was not new")
	}
	if _, ok := m.Get(2); !ok {
		t.Error("a key not forgotten was lost")
	}
}
