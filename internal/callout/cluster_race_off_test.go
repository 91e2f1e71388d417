//go:build !race

package callout

// raceDetector is true in a -race build (see cluster_race_on_test.go).
const raceDetector = false
