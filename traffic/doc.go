// Package traffic holds the pure models of a workload's client side: when
// requests arrive (constant, Poisson, phases, shares of a split workload),
// the data-key cache, the SDK's backoff and its seeded jitter, and the
// Regions a workload's traffic moves through. No I/O, no AWS SDK; driver
// and sim both use it, so a simulation and a run arrive, cache and back off
// alike.
//
// An [Arrival] fixes the intended send time of every request of a workload
// as an absolute offset from the start of the measured window: [Constant],
// [Poisson] (seeded) and [Phases] (holds, steps and linear ramps), built
// from a scenario workload by [NewArrival], or by [NewSharedArrival] for
// one agent's [Share] of a run spread over several. Every model is a
// function of its arguments: none holds a clock, sleeps or starts a
// goroutine; time is the caller's.
package traffic
