// Package metrics exposes a kmsload run as Prometheus metrics while it runs,
// so that a dashboard (docs/grafana-dashboard.json) can watch a long run.
//
// A Metrics holds the run's counters, histograms and gauges in a
// prometheus.Registry of its own (never the global one) and serves them
// through Handler. The driver tells it of each measured window through
// Window, whose record.Observer sees every observation the window's
// record.Recorder records: arrivals sent, dropped and served from the
// data-key cache, each attempt, each finished request. The counters count
// exactly what the recorder counts, so once a window has drained they equal
// that window's totals in results.json.
//
// Every per-workload series carries a window label: "combined" for the run
// with all workloads, "isolated:NAME" for workload NAME measured alone
// (--isolate). Series are never reset, so each window's final values stay
// readable after it ended.
//
// The metrics (see docs/metrics.md):
//
//	kmsload_sent_total{window,workload}                    requests sent (results: requests)
//	kmsload_requests_total{window,workload,outcome}        finished requests: ok, throttled, failed
//	kmsload_attempts_total{window,workload,bucket,outcome} attempts: ok, throttled, failed
//	kmsload_errors_total{window,workload,code}             failed and throttled requests by final error code
//	kmsload_dropped_total{window,workload}                 arrivals dropped at the in-flight bound
//	kmsload_cache_hits_total{window,workload}              arrivals served by the data-key cache
//	kmsload_request_latency_seconds{window,workload}       histogram: latency from the intended send time
//	kmsload_attempt_service_seconds{window,workload}       histogram: service time of each attempt
//	kmsload_bucket_quota_per_second{bucket}                gauge: the bucket's quota
//	kmsload_run_info{scenario,target,phase}                gauge, 1: the current phase
//
// plus the Go runtime's and the process's own metrics (go_*, process_*),
// which show whether kmsload itself is short of CPU or memory.
package metrics
