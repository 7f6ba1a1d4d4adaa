// Package report holds kmsload's results model (results.json) and what a
// run's results mean: Buckets aggregates workloads per quota bucket
// (caller account x Region x class), ComputeCoupling compares each workload
// run alone with all together and AssessCoupling says whether that can be
// told from noise, BlastRadius finds the workloads a lifecycle event broke,
// Judge gives the verdict, EvaluateThresholds checks the scenario's
// thresholds, Compare judges two runs, and WriteJSON and ReadJSON store and
// load results.json.
//
// Package record fills the model from a run's observations; package
// render writes it for people (summary.txt, report.html, Markdown, JUnit).
// This package draws nothing and does not depend on a plotting library.
package report
