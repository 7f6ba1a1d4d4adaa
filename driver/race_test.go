//go:build race

package driver_test

// raceEnabled is true in a -race build, whose instrumentation makes the
// emulator and the driver several times slower: rate accuracy is not the
// code's there.
const raceEnabled = true
