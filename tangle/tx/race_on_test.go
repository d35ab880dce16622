//go:build race

package tx_test

// raceEnabled is true under -race, where instrumentation makes the trit-array
// Curl about 50x slower; the cross-check then samples fewer transactions.
const raceEnabled = true
