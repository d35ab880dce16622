//go:build !race

package tx_test

const raceEnabled = false
