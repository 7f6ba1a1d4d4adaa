//go:build !race

package h1

// handOverIterations is how many times TestClientHandOverToCancelledWaiters
// races its waiters (the old hand-over failed within about 1,200).
const handOverIterations = 20000
