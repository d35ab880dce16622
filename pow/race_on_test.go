//go:build race

package pow

// raceEnabled is true when the race detector is on: heavy MWM 14 searches are
// then skipped (run them with a plain `go test -run MWM14 ./pow/`).
const raceEnabled = true
