package node

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// lowerThreadPriority sets the nice value of the calling OS thread (Linux
// schedules threads one by one; the caller has locked its goroutine to the
// thread). Raising a nice value needs no privilege.
func lowerThreadPriority(nice int) error {
	if err := unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), nice); err != nil {
		return fmt.Errorf("set thread nice value %d: %w", nice, err)
	}
	return nil
}

// threadNice returns the nice value of the calling OS thread.
func threadNice() (int, error) {
	// the raw system call returns 20-nice (never negative)
	p, err := unix.Getpriority(unix.PRIO_PROCESS, unix.Gettid())
	if err != nil {
		return 0, fmt.Errorf("read thread nice value: %w", err)
	}
	return 20 - p, nil
}
