//go:build !linux

package threadprio

func setNice(int) error { return nil }

func getNice() (int, error) { return 0, nil }
