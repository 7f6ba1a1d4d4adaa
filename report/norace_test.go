//go:build !race

package report_test

// raceEnabled is true in a -race build, whose instrumentation allocates
// on its own: allocation counts are not the code's there.
const raceEnabled = false
