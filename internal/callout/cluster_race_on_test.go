//go:build race

package callout

// raceDetector is true in a -race build, which runs the cluster about ten times slower: the
// rolling restart storm then uses fewer clients so decisions stay under the auth timeout.
const raceDetector = true
