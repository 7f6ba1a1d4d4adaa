// Package report holds kmsload's result model (results.json) and turns a
// run's observations into it.
//
// A Recorder receives the driver's per-arrival, per-attempt and per-request
// observations and keeps, per workload, HDR histograms of latency (from the
// intended send time, so coordinated omission is corrected) and of service
// time per attempt, counters, a per-second series and an HdrHistogram
// interval log, with memory that does not grow with the number of requests.
// Finish turns them into Workload results.
//
// The rest of the package works on the result model only: Buckets
// aggregates workloads per quota bucket (caller account x Region x class),
// ComputeCoupling compares each workload run alone with all together,
// BlastRadius finds the workloads a lifecycle event broke, Judge and the
// verdict text say what the run means, EvaluateThresholds checks the
// scenario's thresholds, Compare judges two runs, and WriteJSON and ReadJSON
// store and load results.json. Package render writes them for people
// (summary.txt, report.html, Markdown, JUnit); this package draws nothing
// and does not depend on a plotting library.
package report
