//go:build !linux

package node

// lowerThreadPriority does nothing where threads have no nice value of
// their own.
func lowerThreadPriority(nice int) error { return nil }

// threadNice returns 0.
func threadNice() (int, error) { return 0, nil }
