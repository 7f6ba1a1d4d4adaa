package report

import (
	"fmt"
	"time"
)

// Schema names the version of the results.json format.
const Schema = "kmsload.result/v1"

// Results is one run, as written to results.json. Field names are stable;
// new fields may be added.
type Results struct {
	Schema    string       `json:"schema"`
	Scenario  ScenarioInfo `json:"scenario"`
	Target    TargetInfo   `json:"target"`
	StartedAt time.Time    `json:"started_at"`
	// DurationS is the measured window actually run, in seconds (shorter
	// than planned when Partial).
	DurationS float64 `json:"duration_s"`
	// Partial is true when the run was interrupted (Ctrl-C, error) and the
	// numbers cover only the part that ran.
	Partial bool `json:"partial"`
	// Simulated is true when the run was replayed in virtual time
	// (`kmsload simulate`, Target.Kind "simulated"): no request was sent.
	Simulated bool `json:"simulated,omitempty"`
	// StopReason says why a partial run stopped: "interrupted",
	// "max-requests", "max-cost-usd", "abort-on-throttle", "panic" or
	// "agent-lost" (a distributed run lost an agent; see Cluster);
	// StopDetail says it in words.
	StopReason string `json:"stop_reason,omitempty"`
	StopDetail string `json:"stop_detail,omitempty"`
	// RunID is the value of the kmsload:run-id tag on the keys the run
	// created (`kmsload cleanup --run-id`).
	RunID string `json:"run_id,omitempty"`
	// Spend counts the requests the run sent and their cost; present on
	// target aws and when a limit was set.
	Spend     *Spend     `json:"spend,omitempty"`
	Workloads []Workload `json:"workloads"`
	Buckets   []Bucket   `json:"buckets"`
	// Coupling is present when the run used --isolate.
	Coupling []Coupling `json:"coupling,omitempty"`
	Events   []Event    `json:"events,omitempty"`
	// Thresholds is filled by the thresholds evaluation (EvaluateThresholds).
	Thresholds []Threshold `json:"thresholds,omitempty"`
	// Verdict is the run's conclusion (Judge): pass or fail, why, and
	// every failure class each workload met.
	Verdict *Verdict `json:"verdict,omitempty"`
	// Isolated holds, with --isolate, each workload's results from its
	// run alone, keyed by workload name.
	Isolated map[string]Workload `json:"isolated,omitempty"`
	// Plan is the prediction made for the run; the buckets' predicted
	// fields are set with it.
	Plan *PlanSummary `json:"plan,omitempty"`
	// Cluster is present for a distributed run (agents, clock offsets,
	// lost agents); see cluster.go.
	Cluster *Cluster `json:"cluster,omitempty"`
}

// Spend is what a run sent and what it cost at list prices (no free tier).
type Spend struct {
	// Requests counts every request sent (attempts, provisioning and
	// clean-up included); CleanupRequests those of the clean-up, which
	// the caps never stop.
	Requests           int64 `json:"requests"`
	SymmetricRequests  int64 `json:"symmetric_requests"`
	AsymmetricRequests int64 `json:"asymmetric_requests"`
	CleanupRequests    int64 `json:"cleanup_requests"`
	// KeyHoursUSD is the key fee of the keys created (and material
	// rotated), prorated over the run's predicted hours; CostUSD adds
	// the requests.
	KeyHoursUSD float64 `json:"key_hours_usd"`
	CostUSD     float64 `json:"cost_usd"`
	// MaxRequests and MaxCostUSD are the caps (0 = none).
	MaxRequests int64   `json:"max_requests,omitempty"`
	MaxCostUSD  float64 `json:"max_cost_usd,omitempty"`
}

// ScenarioInfo identifies the scenario a run replayed.
type ScenarioInfo struct {
	Name        string  `json:"name"`
	File        string  `json:"file,omitempty"`
	SHA256      string  `json:"sha256,omitempty"`
	Description string  `json:"description,omitempty"`
	Scale       float64 `json:"scale"`
	Seed        int64   `json:"seed"`
	// JitterSeed is the seed of the SDK's backoff jitter when the draws
	// were fixed per request: run --jitter-seed (0 there = the SDK's own
	// random jitter), and every simulation (its jitter seed, which may
	// be 0).
	JitterSeed int64 `json:"jitter_seed,omitempty"`
	// WindowPhase is the rule the measured windows started by against
	// the quota's one-second windows (quota.WindowPhase): "random" or an
	// offset such as "250ms". WindowPhaseS is where the (combined)
	// window did start, in seconds after a quota window's boundary, when
	// kmsload's quota model applied it (absent when the target's own
	// windows did: their phase is unknown).
	WindowPhase  string   `json:"window_phase,omitempty"`
	WindowPhaseS *float64 `json:"window_phase_s,omitempty"`
}

// WindowPhaseText describes the window phase of s for reports: the rule
// and where the window started, e.g. "random (started 0.437 s into a
// quota second)"; "" when the results do not say.
func WindowPhaseText(s ScenarioInfo) string {
	if s.WindowPhase == "" {
		return ""
	}
	if s.WindowPhaseS == nil {
		return s.WindowPhase + " (the target's quota windows: phase unknown)"
	}
	return fmt.Sprintf("%s (started %.3f s into a quota second)", s.WindowPhase, *s.WindowPhaseS)
}

// TargetInfo says what the run was sent to and how quotas were applied.
type TargetInfo struct {
	// Kind is embedded, endpoint or aws.
	Kind     string `json:"kind"`
	Endpoint string `json:"endpoint,omitempty"`
	// QuotaModel is "fixed-window", "token-bucket", "off", or "target"
	// (quotas are whatever the target enforces).
	QuotaModel string `json:"quota_model"`
	// QuotasAppliedBy is "kmsload" when kmsload's quota model throttled,
	// or "target".
	QuotasAppliedBy string `json:"quotas_applied_by,omitempty"`
	// Versions of kmsload, Go and the AWS SDK.
	Versions map[string]string `json:"versions,omitempty"`
	// MaxConns is the cap on connections per endpoint host (0: none or
	// unknown); PeakConns the most connections open at once during the run.
	MaxConns  int `json:"max_conns,omitempty"`
	PeakConns int `json:"peak_conns,omitempty"`
	// HTTPClient is the client that carried the requests: "std" (net/http)
	// or "fast" (kmsload's own HTTP/1.1 client; kmsload run --http-client);
	// "" when unknown (a caller's client, a simulation, a merged run).
	HTTPClient string `json:"http_client,omitempty"`
}

// Percentiles are latency percentiles in milliseconds.
type Percentiles struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
}

// Workload is one workload's totals over the measured window.
type Workload struct {
	Name      string `json:"name"`
	Operation string `json:"operation"`
	Key       string `json:"key,omitempty"`
	// Caller is the scenario account name; CallerAccount its id.
	Caller        string `json:"caller"`
	CallerAccount string `json:"caller_account"`
	// Team is who owns the workload, as the scenario says ("" = not said).
	Team   string `json:"team,omitempty"`
	Region string `json:"region"`
	// Bucket is the quota bucket the workload's requests are charged to
	// (the caller's), e.g. "111111111111/us-east-1/symmetric".
	Bucket string `json:"bucket"`
	// BucketAttempts splits the attempts by quota bucket when some were
	// charged to another bucket than Bucket (traffic moved to another
	// Region); absent when every attempt went to Bucket.
	BucketAttempts map[string]BucketAttempts `json:"bucket_attempts,omitempty"`
	TargetPerS     float64                   `json:"target_per_s"`
	// Requests is the number of requests that were sent (arrivals that
	// found room in flight and missed the data-key cache).
	Requests          int64 `json:"requests"`
	OK                int64 `json:"ok"`
	ThrottledRequests int64 `json:"throttled_requests"`
	Attempts          int64 `json:"attempts"`
	ThrottledAttempts int64 `json:"throttled_attempts"`
	// Errors counts failed requests by final error code
	// (ThrottlingException, QuotaExceededError, DisabledException, ...).
	Errors  map[string]int64 `json:"errors"`
	Dropped int64            `json:"dropped"`
	// CacheHits are arrivals served by the modelled data-key cache: no
	// KMS call was made.
	CacheHits   int64   `json:"cache_hits"`
	SentPerS    float64 `json:"sent_per_s"`
	GoodputPerS float64 `json:"goodput_per_s"`
	// LatencyMs is measured from each request's intended send time
	// (coordinated-omission corrected), to its final outcome.
	LatencyMs Percentiles `json:"latency_ms"`
	// ServiceMs is measured per attempt, from the actual send.
	ServiceMs Percentiles `json:"service_ms"`
	// Histogram is the latency histogram (microseconds), HDR V2
	// compressed, base64.
	Histogram string   `json:"histogram"`
	Series    []Second `json:"series"`
	// FailedBySecond splits each second's Failed by error code, sorted by
	// second then code; seconds without failures are absent.
	FailedBySecond []SecondCode `json:"failed_by_second,omitempty"`
	// Client is the SDK client the workload sent through, with each
	// retry setting and where it came from.
	Client *ClientInfo `json:"client,omitempty"`
	// RetryQuotaExhausted is set when the SDK's retry quota ran dry for
	// this workload: requests failed with QuotaExceededError.
	RetryQuotaExhausted *QuotaExhaustion `json:"retry_quota_exhausted,omitempty"`
}

// Second is one second of a workload's time series.
type Second struct {
	T int `json:"t"`
	// Sent counts requests sent (by intended time) in this second.
	Sent int64 `json:"sent"`
	// OK, Throttled and Failed count requests that finished in this
	// second: succeeded, failed by throttling, failed otherwise.
	OK        int64 `json:"ok"`
	Throttled int64 `json:"throttled"`
	Failed    int64 `json:"failed"`
	// Attempts counts attempts sent in this second (by actual send time).
	Attempts int64 `json:"attempts"`
	// ThrottledAttempts counts attempts answered with a throttle, by the
	// second the attempt was sent.
	ThrottledAttempts int64 `json:"throttled_attempts"`
	Dropped           int64 `json:"dropped"`
	CacheHits         int64 `json:"cache_hits"`
	// P50Ms and P99Ms are the p50 and p99 latencies of the requests that
	// finished in this second (late completions count in the interval
	// that was open). Results written before p50_ms existed lack P50Ms:
	// it reads as 0 in every second.
	P50Ms float64 `json:"p50_ms"`
	P99Ms float64 `json:"p99_ms"`
}

// SecondCode counts one second's failed requests (Second.Failed) with one
// error code.
type SecondCode struct {
	T     int    `json:"t"`
	Code  string `json:"code"`
	Count int64  `json:"count"`
}

// Bucket is one quota bucket's load over the run, as seen by the client.
type Bucket struct {
	// Name is "account/region/class" (quota.BucketKey.String); a custom
	// key store's bucket, shared by every caller, is
	// "-/region/cks:<store id>" and has no Account.
	Name      string  `json:"name"`
	Account   string  `json:"account"`
	Region    string  `json:"region"`
	Class     string  `json:"class"`
	QuotaPerS float64 `json:"quota_per_s"`
	// DemandPerS is the attempts checked against the bucket per second of
	// the window; in a key store's bucket each weighs its operation's
	// store weight, the unit of QuotaPerS there.
	DemandPerS float64 `json:"demand_per_s"`
	// Allowed counts the attempts checked against the bucket that it did
	// not throttle; Throttled those it throttled. An attempt is checked
	// against its class bucket, then, unless that throttled it, against
	// its key's store bucket.
	Allowed   int64 `json:"allowed"`
	Throttled int64 `json:"throttled"`
	// Workloads charged to this bucket.
	Workloads []string `json:"workloads"`
	// Keys used by those workloads.
	Keys []string `json:"keys"`
	// PredictedDemandPerS and PredictedThrottledShare are `kmsload plan`'s
	// prediction for the run, comparable with DemandPerS (attempts/s) and
	// the throttled-attempt share; set when Results.Plan is (a zero value
	// is omitted from JSON).
	PredictedDemandPerS     float64 `json:"predicted_demand_per_s,omitempty"`
	PredictedThrottledShare float64 `json:"predicted_throttled_share,omitempty"`
}

// PlanSummary is `kmsload plan`'s prediction for the run's scenario,
// scale and quotas, made before the run.
type PlanSummary struct {
	// Model names how the prediction was made (quota algorithm, windows,
	// retry model).
	Model string `json:"model"`
	// FirstToSaturate is the bucket with the smallest growth factor, and
	// GrowthFactor that factor (quota / busiest second's demand).
	FirstToSaturate string  `json:"first_to_saturate,omitempty"`
	GrowthFactor    float64 `json:"growth_factor,omitempty"`
	// MonthlyCostUSD is the layout's monthly bill at real size.
	MonthlyCostUSD float64 `json:"monthly_cost_usd"`
}

// Coupling compares a workload alone and with all others.
type Coupling struct {
	Workload string `json:"workload"`
	Bucket   string `json:"bucket"`
	// Goodput, throttled-attempt share and p99 alone and combined.
	IsolatedGoodputPerS    float64 `json:"isolated_goodput_per_s"`
	CombinedGoodputPerS    float64 `json:"combined_goodput_per_s"`
	IsolatedThrottledShare float64 `json:"isolated_throttled_share"`
	CombinedThrottledShare float64 `json:"combined_throttled_share"`
	IsolatedP99Ms          float64 `json:"isolated_p99_ms"`
	CombinedP99Ms          float64 `json:"combined_p99_ms"`
	// Coupling = 1 - combined goodput / isolated goodput.
	Coupling float64 `json:"coupling"`
	// Noise is the half-width of Coupling's 95% band from the
	// second-to-second variation of both windows' goodput (see
	// Results.AssessCoupling); 0 when it could not be estimated.
	Noise float64 `json:"noise,omitempty"`
	// Inconclusive says why Coupling cannot be told from noise, "" when
	// it can: windows shorter than CouplingMinSeconds, or a noise band
	// wider than CouplingMaxNoise.
	Inconclusive string `json:"inconclusive,omitempty"`
	// WorstMinute is the coupling of the whole minute of the window in
	// which the workload lost the largest share of its goodput alone,
	// from WorstMinuteStartS; set for windows of two minutes or more, where
	// a burst can hide in the whole window's average.
	WorstMinute       float64 `json:"worst_minute_coupling,omitempty"`
	WorstMinuteStartS int     `json:"worst_minute_start_s,omitempty"`
	// SharesBucketWith lists workloads charged to the same bucket.
	SharesBucketWith []string `json:"shares_bucket_with"`
	// SharesKeyWith lists workloads using the same key.
	SharesKeyWith []string `json:"shares_key_with"`
}

// Event is a lifecycle event as it happened, with its blast radius.
type Event struct {
	AtS    float64 `json:"at_s"`
	Action string  `json:"action"`
	Key    string  `json:"key,omitempty"`
	// Error is set when the event's own API call failed.
	Error string `json:"error,omitempty"`
	// Affected lists workloads whose requests failed (not by throttling)
	// after the event.
	Affected []Impact `json:"affected,omitempty"`
}

// Impact is one workload's failures after an event.
type Impact struct {
	Workload string           `json:"workload"`
	FromS    float64          `json:"from_s"`
	ToS      float64          `json:"to_s"`
	Failed   int64            `json:"failed"`
	Errors   map[string]int64 `json:"errors"`
}

// Threshold is one evaluated threshold expression. Value and Limit are in
// the unit the expression was written in (Unit: "ms", "s", "us", "%",
// "" for a fraction or a count, "/s"); see ParseThreshold.
type Threshold struct {
	Workload string  `json:"workload"`
	Expr     string  `json:"expr"`
	Value    float64 `json:"value"`
	Pass     bool    `json:"pass"`
	Metric   string  `json:"metric,omitempty"`
	// Code is the error code or failure class of an error:CODE threshold.
	Code  string  `json:"code,omitempty"`
	Op    string  `json:"op,omitempty"`
	Limit float64 `json:"limit"`
	Unit  string  `json:"unit,omitempty"`
	// Note explains a failure that has no measured value (no requests).
	Note string `json:"note,omitempty"`
}

// BucketAttempts counts a workload's attempts charged to one quota bucket.
type BucketAttempts struct {
	Attempts  int64 `json:"attempts"`
	Throttled int64 `json:"throttled"`
	// Weight is the quota the attempts asked of a custom key store's
	// bucket, where an operation may weigh more than 1 (GenerateDataKey
	// weighs 3 in a CloudHSM key store); 0 elsewhere, where it equals
	// Attempts.
	Weight float64 `json:"weight,omitempty"`
}

// Add returns the sum of b and o.
func (b BucketAttempts) Add(o BucketAttempts) BucketAttempts {
	return BucketAttempts{Attempts: b.Attempts + o.Attempts, Throttled: b.Throttled + o.Throttled, Weight: b.Weight + o.Weight}
}

// Sub returns b minus o.
func (b BucketAttempts) Sub(o BucketAttempts) BucketAttempts {
	return BucketAttempts{Attempts: b.Attempts - o.Attempts, Throttled: b.Throttled - o.Throttled, Weight: b.Weight - o.Weight}
}

// units is the demand of b on its bucket: Weight, or Attempts when the
// attempts weigh 1.
func (b BucketAttempts) units() float64 {
	if b.Weight > 0 {
		return b.Weight
	}
	return float64(b.Attempts)
}

// Assemble completes r once its windows are measured (Workloads,
// Isolated when workloads ran alone, Events and DurationS set): each
// event's blast radius, the quota buckets with their quota per second
// from quotaPerS, and, when r.Isolated is set, the coupling and whether it
// can be told from noise. A run, a simulation and a cluster's merge all
// finish their results with it.
func (r *Results) Assemble(quotaPerS func(bucket string) float64) {
	for i := range r.Events {
		r.Events[i].Affected = BlastRadius(r.Events[i].AtS, r.Workloads)
	}
	r.Buckets = Buckets(r.Workloads, r.DurationS, quotaPerS)
	if r.Isolated != nil {
		r.Coupling = ComputeCoupling(r.Isolated, r.Workloads)
		r.AssessCoupling()
	}
}
