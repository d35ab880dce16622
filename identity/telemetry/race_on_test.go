//go:build race

package telemetry

// raceEnabled shortens the back-pressure test under the race detector.
const raceEnabled = true
