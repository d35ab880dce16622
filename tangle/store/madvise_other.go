//go:build !linux

package store

import bolt "go.etcd.io/bbolt"

// dropMapped is a no-op where MADV_DONTNEED is not used.
func dropMapped(*bolt.DB) {}
