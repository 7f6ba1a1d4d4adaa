package plan

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/scenario"
)

// Retry-quota constants of aws-sdk-go-v2's standard retryer (aws/retry,
// v1.48.0), used by the retry estimate.
const (
	// DefaultMaxAttempts is the SDK's attempt count when a workload sets
	// none.
	DefaultMaxAttempts = 3
	// RetryQuotaTokens is the SDK's default capacity of a client's retry
	// token bucket at real size; a workload's client may set another
	// (retry_bucket), and a plan at a scale scales it
	// (scenario.EffectiveClient.ScaledTokens).
	RetryQuotaTokens = scenario.SDKRetryBucket
	// ThrottleRetryCost is the tokens a retry after a throttle takes.
	ThrottleRetryCost = 5
	// NoRetryIncrement is the tokens a request that succeeds on its first
	// attempt adds.
	NoRetryIncrement = 1
)

// Retry models named in Bucket.RetryModel.
const (
	// RetryModelNone: every workload in the bucket has retries off; the
	// attempt figures are the first-attempt figures.
	RetryModelNone = "none"
	// RetryModelStandard: some workload retries; the attempt figures are
	// the retry estimate (see the package doc).
	RetryModelStandard = "sdk-standard-estimate"
	// RetryModelAdaptive: some workload retries in adaptive mode, which
	// the plan estimates as standard mode: the SDK's client-side rate
	// limiter, which holds attempts back once throttled, is not modelled,
	// so the attempt figures overstate attempts and throttling (kmsload
	// simulate models adaptive mode).
	RetryModelAdaptive = "adaptive-not-modelled"
)

// ErrInvalid is wrapped by Predict's errors about its inputs.
var ErrInvalid = errors.New("plan: invalid input")

// Options configure Predict. The zero value plans at the scenario's scale
// and duration, with AWS's default quotas and each workload's retry mode.
type Options struct {
	// Scale multiplies workload rates and quotas together; 0 = the
	// scenario's (1 when unset). Cost is always at real size.
	Scale float64
	// Duration is the measured window; 0 = the scenario's.
	Duration time.Duration
	// Quota holds the quota values and algorithm. Its Scale is replaced
	// by the plan's scale. A zero Config (no Algorithm) means
	// quota.DefaultConfig().
	Quota quota.Config
	// Retry, when not "", overrides every workload's retry mode
	// (sdk-standard, none or adaptive), as `kmsload run --retry` does.
	Retry string
	// SDKEnv is what the SDK's environment and shared config set
	// (AWS_RETRY_MODE, AWS_MAX_ATTEMPTS, retry_mode, max_attempts), for
	// what neither Retry nor the scenario sets, as in a run
	// (scenario.Scenario.ResolveClient).
	SDKEnv scenario.ClientEnv
	// WindowPhase is where the measured window starts against the fixed
	// one-second quota windows, as the run's or simulation's
	// (quota.WindowPhase): a fixed offset, or random (the zero value), for
	// which the prediction averages over the possible starts.
	WindowPhase quota.WindowPhase
	// Pricing holds the prices; a zero Pricing means DefaultPricing().
	Pricing Pricing
}

// Plan is the prediction for one scenario at one scale.
type Plan struct {
	Scenario string  `json:"scenario"`
	Scale    float64 `json:"scale"`
	// DurationS is the measured window the prediction covers, in seconds.
	DurationS float64 `json:"duration_s"`
	// QuotaModel is the quota algorithm: fixed-window or token-bucket.
	QuotaModel string `json:"quota_model"`
	// WindowPhase is Options.WindowPhase: "random" or an offset.
	WindowPhase string `json:"window_phase"`
	// Buckets are the quota buckets with demand, sorted by name.
	Buckets []Bucket `json:"buckets"`
	// Workloads in scenario order.
	Workloads []Workload `json:"workloads"`
	// Saturation names the bucket that saturates first; nil when no
	// bucket has demand.
	Saturation *Saturation `json:"saturation,omitempty"`
	// Cost is the monthly bill at real size.
	Cost Cost `json:"cost"`
}

// Bucket is one quota bucket's predicted load. Rates are at the plan's
// scale, per second, time-weighted over the window.
type Bucket struct {
	// Name is quota.BucketKey.String(): "account-id/region/class", with
	// "-" for the account of a custom key store's bucket.
	Name string `json:"name"`
	// Account is the caller account id ("" for a key store's bucket);
	// AccountName its scenario name.
	Account     string `json:"account"`
	AccountName string `json:"account_name,omitempty"`
	Region      string `json:"region"`
	Class       string `json:"class"`
	// QuotaPerS is the scaled quota.
	QuotaPerS float64 `json:"quota_per_s"`
	// DemandPerS is the predicted first-attempt demand (weighted, for a
	// key store's bucket), mean over the window.
	DemandPerS float64 `json:"demand_per_s"`
	// PeakPerS is the demand of the busiest one-second window.
	PeakPerS float64 `json:"peak_per_s"`
	// HeadroomPerS is QuotaPerS - DemandPerS (negative when over quota).
	HeadroomPerS float64 `json:"headroom_per_s"`
	// Utilisation is DemandPerS / QuotaPerS.
	Utilisation float64 `json:"utilisation"`
	// GrowthFactor is QuotaPerS / PeakPerS: the factor by which every
	// rate can grow before the busiest window meets the quota (below 1:
	// already over it).
	GrowthFactor float64 `json:"growth_factor"`
	// ThrottledShare is the predicted share of first attempts throttled
	// by this bucket: the throttled-attempt share with retries off.
	ThrottledShare float64 `json:"throttled_share"`
	// AttemptsPerS and AttemptThrottledShare include retries, as
	// RetryModel says.
	AttemptsPerS          float64 `json:"attempts_per_s"`
	AttemptThrottledShare float64 `json:"attempt_throttled_share"`
	RetryModel            string  `json:"retry_model"`
	// Workloads and Keys charged to the bucket, sorted.
	Workloads []string `json:"workloads"`
	Keys      []string `json:"keys"`
}

// Workload is one workload's predicted load, at the plan's scale.
type Workload struct {
	Name string `json:"name"`
	// Bucket is the bucket the workload is charged to at the start of the
	// window (its class or API bucket), as in a run's results.
	Bucket string `json:"bucket"`
	// Buckets lists every bucket it is charged to over the window.
	Buckets []string `json:"buckets"`
	// RatePerS is the mean intended arrival rate; CallsPerS the mean rate
	// of first attempts that reach KMS (after the data-key cache).
	RatePerS  float64 `json:"rate_per_s"`
	CallsPerS float64 `json:"calls_per_s"`
	// ThrottledShare is the predicted share of its first attempts
	// throttled (by any of its buckets).
	ThrottledShare float64 `json:"throttled_share"`
	// AttemptsPerS and AttemptThrottledShare include its retries.
	AttemptsPerS          float64 `json:"attempts_per_s"`
	AttemptThrottledShare float64 `json:"attempt_throttled_share"`
	// Retry is the workload's retry mode; MaxAttempts its attempt bound.
	Retry       string `json:"retry"`
	MaxAttempts int    `json:"max_attempts"`
}

// Saturation names the bucket with the smallest growth factor.
type Saturation struct {
	Bucket string `json:"bucket"`
	// Label names the bucket with the scenario's account name, e.g.
	// "prod/us-east-1/symmetric".
	Label        string  `json:"label"`
	GrowthFactor float64 `json:"growth_factor"`
	PeakPerS     float64 `json:"peak_per_s"`
	QuotaPerS    float64 `json:"quota_per_s"`
}

// String says when the bucket saturates, e.g. "prod/us-east-1/symmetric
// saturates at 1.4x today's load".
func (s *Saturation) String() string {
	if s == nil {
		return "no bucket has demand"
	}
	msg := fmt.Sprintf("%s saturates at %.2fx today's load (busiest second %.1f/s, quota %.1f/s)",
		s.Label, s.GrowthFactor, s.PeakPerS, s.QuotaPerS)
	if s.GrowthFactor < 1 {
		msg += ": it is over its quota already"
	}
	return msg
}

func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
