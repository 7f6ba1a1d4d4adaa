//go:build race

package h1

// handOverIterations is how many times TestClientHandOverToCancelledWaiters
// races its waiters: a quarter as many in a -race build, whose
// instrumentation slows each round several times.
const handOverIterations = 5000
