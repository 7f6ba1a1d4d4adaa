package report

// Output is what a run or a simulation produces: its results and the
// interval logs of its workloads.
type Output struct {
	// Results is the run's result model (results.json).
	Results *Results
	// Hlog maps a workload name to its HdrHistogram interval log of the
	// combined run.
	Hlog map[string][]byte
}
