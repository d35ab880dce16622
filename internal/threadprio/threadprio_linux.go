package threadprio

import (
	"fmt"

	"golang.org/x/sys/unix"
)

func setNice(nice int) error {
	if err := unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), nice); err != nil {
		return fmt.Errorf("set thread nice value %d: %w", nice, err)
	}
	return nil
}

func getNice() (int, error) {
	p, err := unix.Getpriority(unix.PRIO_PROCESS, unix.Gettid())
	if err != nil {
		return 0, fmt.Errorf("read thread nice value: %w", err)
	}
	return 20 - p, nil // the system call answers 20-nice, never negative
}
