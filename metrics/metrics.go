package metrics

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kmsload/kmsload/record"
)

// Metric names. Histograms add the usual _bucket, _sum and _count series.
const (
	Sent           = "kmsload_sent_total"
	Requests       = "kmsload_requests_total"
	Attempts       = "kmsload_attempts_total"
	Errors         = "kmsload_errors_total"
	Dropped        = "kmsload_dropped_total"
	CacheHits      = "kmsload_cache_hits_total"
	RequestLatency = "kmsload_request_latency_seconds"
	AttemptService = "kmsload_attempt_service_seconds"
	BucketQuota    = "kmsload_bucket_quota_per_second"
	RunInfo        = "kmsload_run_info"
)

// Label names.
const (
	LabelWindow   = "window"   // "combined" or "isolated:NAME"
	LabelWorkload = "workload" // the scenario's workload name
	LabelOutcome  = "outcome"  // "ok", "throttled" or "failed"
	LabelBucket   = "bucket"   // quota bucket: caller account/Region/class
	LabelCode     = "code"     // final error code, as in results.json's errors
)

// Values of the window and phase labels.
const (
	// WindowCombined is the window with every workload.
	WindowCombined = "combined"
	// PhaseStarting is the run's phase before its first window.
	PhaseStarting = "starting"
	// PhaseDone is the run's phase once every window has drained: every
	// counter is final.
	PhaseDone = "done"
)

const isolatedPrefix = "isolated:"

// Names lists the metric names the package defines, in the order of the
// package documentation. Histograms are named without their _bucket, _sum
// and _count suffixes.
func Names() []string {
	return []string{Sent, Requests, Attempts, Errors, Dropped, CacheHits, RequestLatency, AttemptService, BucketQuota, RunInfo}
}

// IsolatedWindow returns the window name of workload measured alone.
func IsolatedWindow(workload string) string { return isolatedPrefix + workload }

// latencyBuckets are the histograms' upper bounds in seconds: from 0.5 ms
// (an emulator answer) to a minute (retries after throttles, a stalled
// target).
var latencyBuckets = []float64{
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
}

// outcomes are the outcome label values, indexed by record.Outcome.
var outcomes = [...]string{record.OK: record.OK.String(), record.Throttled: record.Throttled.String(), record.Failed: record.Failed.String()}

// Metrics holds a run's metrics in a registry of its own. Build it with New;
// it is safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	sent, requests, attempts, errors *prometheus.CounterVec
	dropped, cacheHits               *prometheus.CounterVec
	latency, service                 *prometheus.HistogramVec
	quota, info                      *prometheus.GaugeVec

	mu               sync.Mutex // guards the run info below
	scenario, target string
	phase            string
}

// New returns Metrics with every metric registered, the run info at phase
// "starting" and no per-workload series yet.
func New() *Metrics {
	wl := []string{LabelWindow, LabelWorkload}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	histogram := func(name, help string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: latencyBuckets}, wl)
	}
	m := &Metrics{
		reg:      prometheus.NewRegistry(),
		sent:     counter(Sent, "Requests sent (results.json: requests).", wl...),
		requests: counter(Requests, "Finished requests by final outcome: ok, throttled (failed with a throttle), failed (any other error).", LabelWindow, LabelWorkload, LabelOutcome),
		attempts: counter(Attempts, "Attempts (each try of a request, retries included) by quota bucket and outcome.", LabelWindow, LabelWorkload, LabelBucket, LabelOutcome),
		errors:   counter(Errors, "Requests that finally failed or were throttled, by error code.", LabelWindow, LabelWorkload, LabelCode),
		dropped:  counter(Dropped, "Arrivals dropped because the workload's in-flight bound was full.", wl...),
		cacheHits: counter(CacheHits,
			"Arrivals served by the data-key cache without a KMS call.", wl...),
		latency: histogram(RequestLatency, "Latency of finished requests from their intended send time (coordinated omission corrected), any outcome."),
		service: histogram(AttemptService, "Service time of each attempt, from its actual send to its answer."),
		quota: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: BucketQuota,
			Help: "Quota of the bucket (caller account/Region/class) per second, as configured for the run."}, []string{LabelBucket}),
		info: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: RunInfo,
			Help: "Always 1: the run's scenario, target and phase (starting, the current window, done)."}, []string{"scenario", "target", "phase"}),
		phase: PhaseStarting,
	}
	m.reg.MustRegister(m.sent, m.requests, m.attempts, m.errors, m.dropped, m.cacheHits,
		m.latency, m.service, m.quota, m.info,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.setInfo()
	return m
}

// Gatherer returns the registry, for tests and for pushing elsewhere.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// Handler serves the metrics in any format Prometheus asks for.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// SetRun sets the scenario and target labels of the run info.
func (m *Metrics) SetRun(scenario, target string) {
	m.mu.Lock()
	m.scenario, m.target = scenario, target
	m.mu.Unlock()
	m.setInfo()
}

// SetPhase sets the phase label of the run info: Window sets it to the
// window's name; PhaseDone says the run has ended and every counter is
// final.
func (m *Metrics) SetPhase(phase string) {
	m.mu.Lock()
	m.phase = phase
	m.mu.Unlock()
	m.setInfo()
}

// setInfo replaces the run info series with the current labels.
func (m *Metrics) setInfo() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.info.Reset()
	m.info.WithLabelValues(m.scenario, m.target, m.phase).Set(1)
}

// Window starts the series of a measured window named name ("combined" or
// IsolatedWindow(workload)) with the given workloads, sets the run's phase
// to name, sets each workload's bucket quota (when BucketQuotaPerS > 0),
// and returns the observer to give the window's record.Recorder: its
// workload indexes are indexes into workloads. Every series of the window
// exists from now on, at 0 until something is recorded. Its signature is
// that of driver.Options.Observer.
//
// Attempts are labelled with the workload's Bucket, the bucket results.json
// charges them to. Using the same window name twice adds to the same
// series.
func (m *Metrics) Window(name string, workloads []record.WorkloadInfo) record.Observer {
	o := &observer{ws: make([]*workloadSeries, len(workloads))}
	for i, info := range workloads {
		s := &workloadSeries{
			sent:      m.sent.WithLabelValues(name, info.Name),
			dropped:   m.dropped.WithLabelValues(name, info.Name),
			cacheHits: m.cacheHits.WithLabelValues(name, info.Name),
			latency:   m.latency.WithLabelValues(name, info.Name),
			service:   m.service.WithLabelValues(name, info.Name),
			errors:    m.errors.MustCurryWith(prometheus.Labels{LabelWindow: name, LabelWorkload: info.Name}),
		}
		for oc, label := range outcomes {
			s.requests[oc] = m.requests.WithLabelValues(name, info.Name, label)
			s.attempts[oc] = m.attempts.WithLabelValues(name, info.Name, info.Bucket, label)
		}
		if info.BucketQuotaPerS > 0 {
			m.quota.WithLabelValues(info.Bucket).Set(info.BucketQuotaPerS)
		}
		o.ws[i] = s
	}
	m.SetPhase(name)
	return o
}

// workloadSeries are one workload's series in one window, looked up once
// so that observing is a few atomic adds.
type workloadSeries struct {
	sent, dropped, cacheHits prometheus.Counter
	requests, attempts       [len(outcomes)]prometheus.Counter
	latency, service         prometheus.Observer
	errors                   *prometheus.CounterVec // curried: code only
	errorsByCode             sync.Map               // code -> prometheus.Counter
}

// errorCounter returns the counter of code, creating it on first use.
func (s *workloadSeries) errorCounter(code string) prometheus.Counter {
	if c, ok := s.errorsByCode.Load(code); ok {
		return c.(prometheus.Counter)
	}
	c, _ := s.errorsByCode.LoadOrStore(code, s.errors.WithLabelValues(code))
	return c.(prometheus.Counter)
}

// observer is the record.Observer of one window.
type observer struct {
	ws []*workloadSeries
}

var _ record.Observer = (*observer)(nil)

// outcomeIndex maps o to an index of outcomes; unknown outcomes count as
// failed, as the recorder counts them.
func outcomeIndex(o record.Outcome) int {
	if int(o) < len(outcomes) {
		return int(o)
	}
	return int(record.Failed)
}

func seconds(d time.Duration) float64 {
	if d < 0 {
		return 0
	}
	return d.Seconds()
}

func (o *observer) Sent(w int, _ time.Time)     { o.ws[w].sent.Inc() }
func (o *observer) Dropped(w int, _ time.Time)  { o.ws[w].dropped.Inc() }
func (o *observer) CacheHit(w int, _ time.Time) { o.ws[w].cacheHits.Inc() }

func (o *observer) Attempt(w int, _ time.Time, service time.Duration, oc record.Outcome, _ string) {
	s := o.ws[w]
	s.attempts[outcomeIndex(oc)].Inc()
	s.service.Observe(seconds(service))
}

func (o *observer) Done(w int, intended, done time.Time, _ int, oc record.Outcome, code string) {
	s := o.ws[w]
	i := outcomeIndex(oc)
	s.requests[i].Inc()
	s.latency.Observe(seconds(done.Sub(intended)))
	if i != int(record.OK) {
		s.errorCounter(code).Inc()
	}
}
