// Package record is the hot path of measurement: a Recorder receives a
// run's per-arrival, per-attempt and per-request observations (from the
// driver, the simulation or a cluster agent) and keeps, per workload, HDR
// histograms of latency (from the intended send time, so coordinated
// omission is corrected) and of service time per attempt, counters, a
// per-second series and an HdrHistogram interval log, with memory that
// does not grow with the number of requests. Finish turns them into the
// results model's workloads (package report).
//
// A Snapshotter observes a Recorder and hands over what changed since its
// last snapshot, for live metrics and for the exact merge of a
// distributed run's agents (Merge).
package record
