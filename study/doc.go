// Package study compares measured runs of several key layouts: for each
// layout, the coupling, throttled share and p99 of every workload, the
// blast radius of losing one key, the monthly cost, and a verdict on the
// claim the scenario states.
//
// [Summarize] turns one run (a scenario, its results with --isolate, and
// its predicted monthly cost) into a [Layout]. [WriteText] prints a
// comparison table of layouts; [WriteMarkdown] writes the same as a
// document with, per layout, the claim, the measured table, the verdict
// and what the numbers mean for capacity planning. Nothing here runs a
// scenario: the caller does (kmsload study).
//
// Numbers are those of the run, at the run's scale, except the monthly
// cost (real size) and the capacity-planning figures, which are divided by
// the scale to read at real size.
package study
