// Package recent remembers recently added keys in bounded memory, in two
// generations of at most size entries each: when the current generation is
// full it becomes the old one and the previous old one is dropped. A key
// is remembered for at least size and at most 2*size later additions.
// Gossip uses it to drop copies of transactions it has seen, the node's tip
// pool to refuse tails approved a moment ago.
package recent

// Map is a bounded map of recent keys. It is not safe for concurrent use:
// its owner locks.
type Map[K comparable, V any] struct {
	size     int
	cur, old map[K]V
}

// New returns an empty Map with generations of size entries.
func New[K comparable, V any](size int) *Map[K, V] {
	return &Map[K, V]{size: size, cur: make(map[K]V), old: make(map[K]V)}
}

// Add records k with v unless k is remembered already, and reports whether
// it was new.
func (m *Map[K, V]) Add(k K, v V) bool {
	if _, ok := m.Get(k); ok {
		return false
	}
	if len(m.cur) >= m.size {
		m.old, m.cur = m.cur, make(map[K]V, m.size)
	}
	m.cur[k] = v
	return true
}

// Get returns the value of k and whether k is remembered.
func (m *Map[K, V]) Get(k K) (V, bool) {
	if v, ok := m.cur[k]; ok {
		return v, true
	}
	v, ok := m.old[k]
	return v, ok
}

// Forget drops k.
func (m *Map[K, V]) Forget(k K) {
	delete(m.cur, k)
	delete(m.old, k)
}
