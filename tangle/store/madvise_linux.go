package store

import (
	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// dropMapped tells the kernel that the memory map of the database file is
// not needed for now (MADV_DONTNEED). For a shared file mapping this only
// unmaps the pages from this process: they stay in the page cache and are
// faulted back in on the next read, so the data is never affected. It keeps
// the file-backed part of RSS to what was touched since the last merge. It
// runs inside a read transaction, which holds bbolt's mmap lock, so the map
// cannot move meanwhile.
func dropMapped(db *bolt.DB) {
	_ = db.View(func(tx *bolt.Tx) error {
		addr, size := db.Info().Data, uintptr(tx.Size())
		if addr == 0 || size == 0 {
			return nil
		}
		_, _, _ = unix.Syscall(unix.SYS_MADVISE, addr, size, unix.MADV_DONTNEED)
		return nil
	})
}
