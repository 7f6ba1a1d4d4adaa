// Package capacity finds the highest rate of one workload of a scenario
// that keeps a service-level objective, with every other workload at its
// own rate: the question "how much can this workload grow before it is
// throttled or breaks its SLO?".
//
// [Search] probes rates through a [Runner], which runs the scenario with
// the workload at a given rate and returns the results: a measured run
// (the driver against any target) or a simulation (package sim, the fast
// mode). The search starts from a seed, normally `kmsload plan`'s
// prediction ([Seed]: the workload's rate plus the headroom of its
// tightest bucket), brackets the answer by growing or shrinking the rate
// by Options.Step, then bisects until the bracket is narrower than
// Options.Precision. The answer is the highest rate that passed.
//
// An [SLO] is a list of threshold expressions as in a scenario's
// thresholds (report.ParseThreshold), e.g. "p99<50ms,throttled_requests<0.1%";
// rates in them are at real size.
package capacity
