package plan

import (
	"errors"
	"fmt"
	"math"
	"slices"
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

// stepsPerSecond is the integration step; a multiple of windowStarts so
// that every start offset falls on a step. Runs up to a minute get 96
// steps a second; longer runs fewer (down to windowStarts), so that the
// per-step arrays stay near maxSteps rather than growing with the run.
func stepsPerSecond(d float64) int {
	sps := windowStarts * int(maxSteps/(windowStarts*d))
	return min(96, max(windowStarts, sps))
}

// maxSteps is the number of integration steps a run of a minute or more
// aims at: a minute at 96 steps a second.
const maxSteps = 96 * 60

// windowStarts is how many run starts within a second are averaged when
// windows are not aligned.
const windowStarts = 8

// client is one workload's requests in one Region: one SDK client, one
// set of bucket charges.
type client struct {
	w       int // workload index
	region  string
	charges []quota.Charge
	bucket  []int     // index in buckets of each charge
	steps   []float64 // first attempts per step
	poisson bool
	retry   string
	maxAtt  int
	tokens  int // retry token bucket at the plan's scale; scenario.RetryBucketNone: none
}

type bucketAcc struct {
	key     quota.BucketKey
	quota   float64
	steps   []float64 // weighted first-attempt demand per step
	vars    []float64 // Poisson variance per step
	clients []int
	wls     map[string]bool
	keys    map[string]bool
}

// Predict returns the plan of s under opts. s must be a validated
// scenario (scenario.Load or Parse); scenarios built in code may leave
// Regions, specs and retry modes empty, which take the defaults.
func Predict(s *scenario.Scenario, opts Options) (*Plan, error) {
	if s == nil {
		return nil, fmt.Errorf("%w: no scenario", ErrInvalid)
	}
	scale := firstNonZero(opts.Scale, s.Scale, 1)
	if !(scale > 0) || math.IsInf(scale, 0) {
		return nil, fmt.Errorf("%w: scale %g is not positive", ErrInvalid, scale)
	}
	dur := firstNonZero(opts.Duration, s.Duration)
	if dur <= 0 {
		return nil, fmt.Errorf("%w: no duration", ErrInvalid)
	}
	if _, ok := scenario.ParseRetryMode(opts.Retry); opts.Retry != "" && !ok {
		return nil, fmt.Errorf("%w: unknown retry mode %q", ErrInvalid, opts.Retry)
	}
	// Every workload's SDK client, resolved as a run resolves it.
	ecs := make([]scenario.EffectiveClient, len(s.Workloads))
	for i, w := range s.Workloads {
		ec, err := s.ResolveClient(w, scenario.ClientOverride{Retry: opts.Retry}, opts.SDKEnv)
		if err != nil {
			return nil, fmt.Errorf("%w: workload %s: %w", ErrInvalid, w.Name, err)
		}
		ecs[i] = ec
	}
	cfg := opts.Quota
	if cfg.Algorithm == "" {
		cfg = quota.DefaultConfig()
	}
	cfg.Scale = scale
	model, err := quota.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	pricing := opts.Pricing
	if pricing == (Pricing{}) {
		pricing = DefaultPricing()
	}

	p := &Plan{Scenario: s.Name, Scale: scale, DurationS: dur.Seconds(),
		QuotaModel: string(cfg.Algorithm), WindowPhase: opts.WindowPhase.String()}
	profiles := make([]profile, len(s.Workloads))
	for i, w := range s.Workloads {
		pr, err := newProfile(s, w, dur)
		if err != nil {
			return nil, err
		}
		profiles[i] = pr
	}

	sps := stepsPerSecond(dur.Seconds())
	nsteps := int(math.Ceil(dur.Seconds() * float64(sps)))
	dts := make([]float64, nsteps) // step lengths: the last may be short
	for i := range dts {
		dts[i] = math.Min(float64(i+1)/float64(sps), dur.Seconds()) - float64(i)/float64(sps)
	}

	// Demand per client per step.
	var clients []*client
	var buckets []*bucketAcc
	bucketIdx := map[quota.BucketKey]int{}
	clientIdx := map[[2]string]int{}
	for wi, w := range s.Workloads {
		pr := profiles[wi]
		ec := ecs[wi]
		mode, maxAtt, tokens := ec.Retry, ec.Attempts(), ec.ScaledTokens(scale)
		for i := range nsteps {
			l := dts[i]
			t := float64(i)/float64(sps) + l/2
			rate := pr.rate(t) * scale
			calls := pr.calls(rate) * l
			region := pr.regionAt(t)
			ck := [2]string{w.Name, region}
			ci, ok := clientIdx[ck]
			if !ok {
				c := &client{w: wi, region: region, steps: make([]float64, nsteps),
					poisson: w.Arrival == scenario.ArrivalPoisson && w.DataKeyCache == nil,
					retry:   mode, maxAtt: maxAtt, tokens: tokens}
				c.charges = model.Buckets(quota.Request{
					Account: pr.caller.ID, Region: region, Operation: w.Operation,
					KeySpec: pr.key.Spec, CustomKeyStore: pr.key.CustomKeyStore,
				})
				for _, ch := range c.charges {
					bi, ok := bucketIdx[ch.Key]
					if !ok {
						bi = len(buckets)
						bucketIdx[ch.Key] = bi
						buckets = append(buckets, &bucketAcc{key: ch.Key, quota: cfg.Limit(ch.Key),
							steps: make([]float64, nsteps), vars: make([]float64, nsteps),
							wls: map[string]bool{}, keys: map[string]bool{}})
					}
					c.bucket = append(c.bucket, bi)
					b := buckets[bi]
					b.clients = append(b.clients, len(clients))
					b.wls[w.Name] = true
					if w.Key != "" {
						b.keys[w.Key] = true
					}
				}
				ci = len(clients)
				clientIdx[ck] = ci
				clients = append(clients, c)
			}
			clients[ci].steps[i] += calls
		}
	}
	for _, c := range clients {
		for j, bi := range c.bucket {
			b, wt := buckets[bi], c.charges[j].Weight
			for i, n := range c.steps {
				b.steps[i] += wt * n
				if c.poisson {
					b.vars[i] += wt * wt * n
				}
			}
		}
	}

	// Throttling, averaged over the window starts.
	starts := []int{int(math.Round(opts.WindowPhase.Offset.Seconds()*float64(sps))) % sps}
	if !opts.WindowPhase.Fixed && cfg.Algorithm == quota.FixedWindow {
		starts = starts[:0]
		for j := range windowStarts {
			starts = append(starts, j*sps/windowStarts)
		}
	}
	type acc struct{ first, firstThr, att, attThr float64 }
	bAcc := make([]acc, len(buckets))
	cAcc := make([]acc, len(clients))
	peak := make([]float64, len(buckets))
	for _, off := range starts {
		win := windows(nsteps, sps, off, cfg.Algorithm)
		nw := win[len(win)-1] + 1 // nsteps >= 1: the duration is positive
		// First attempts per bucket per window, and the share throttled.
		share := make([][]float64, len(buckets))
		for bi, b := range buckets {
			mu, v := make([]float64, nw), make([]float64, nw)
			for i, n := range b.steps {
				mu[win[i]] += n
				v[win[i]] += b.vars[i]
			}
			thr := throttled(cfg, b.quota, b.steps, mu, v, dts, win)
			share[bi] = make([]float64, nw)
			for k := range nw {
				bAcc[bi].first += mu[k]
				bAcc[bi].firstThr += thr[k]
				if mu[k] > 0 {
					share[bi][k] = thr[k] / mu[k]
				}
				if off == 0 && cfg.Algorithm == quota.FixedWindow {
					peak[bi] = math.Max(peak[bi], mu[k])
				}
			}
		}
		// Per client: the larger share of its buckets.
		firstW := make([][]float64, len(clients))
		for ci, c := range clients {
			firstW[ci] = make([]float64, nw)
			for i, n := range c.steps {
				firstW[ci][win[i]] += n
			}
			for k, n := range firstW[ci] {
				var s float64
				for _, bi := range c.bucket {
					s = math.Max(s, share[bi][k])
				}
				cAcc[ci].first += n
				cAcc[ci].firstThr += n * s
			}
		}
		// Retry estimate on the same windows.
		att, attThr, bAtt, bAttThr := retryEstimate(cfg, buckets, clients, firstW, nw, dts)
		for ci := range clients {
			cAcc[ci].att += att[ci]
			cAcc[ci].attThr += attThr[ci]
		}
		for bi := range buckets {
			bAcc[bi].att += bAtt[bi]
			bAcc[bi].attThr += bAttThr[bi]
		}
	}
	if cfg.Algorithm != quota.FixedWindow {
		// Peak over whole seconds from the run start.
		win := windows(nsteps, sps, 0, quota.FixedWindow)
		for bi, b := range buckets {
			per := map[int]float64{}
			for i, n := range b.steps {
				per[win[i]] += n
			}
			for _, v := range per {
				peak[bi] = math.Max(peak[bi], v)
			}
		}
	}
	// The last window may be partial: its peak counts per second of it.
	if frac := dur.Seconds() - math.Floor(dur.Seconds()); frac > 0 {
		lastFrom := int(math.Floor(dur.Seconds())) * sps
		for bi, b := range buckets {
			var n float64
			for i := lastFrom; i < nsteps; i++ {
				n += b.steps[i]
			}
			peak[bi] = math.Max(peak[bi], n/frac)
		}
	}

	nStarts := float64(len(starts))
	d := dur.Seconds()
	accountName := map[string]string{}
	for name, a := range s.Accounts {
		accountName[a.ID] = name
	}
	for bi, b := range buckets {
		a := bAcc[bi]
		out := Bucket{
			Name: b.key.String(), Account: b.key.Account, AccountName: accountName[b.key.Account],
			Region: b.key.Region, Class: string(b.key.Class),
			QuotaPerS:  b.quota,
			DemandPerS: a.first / nStarts / d,
			PeakPerS:   peak[bi],
			Workloads:  sortedSet(b.wls), Keys: sortedSet(b.keys),
			ThrottledShare: ratio(a.firstThr, a.first),
			RetryModel:     RetryModelNone,
		}
		out.HeadroomPerS = out.QuotaPerS - out.DemandPerS
		out.Utilisation = ratio(out.DemandPerS, out.QuotaPerS)
		if out.PeakPerS > 0 {
			out.GrowthFactor = out.QuotaPerS / out.PeakPerS
		}
		out.AttemptsPerS, out.AttemptThrottledShare = out.DemandPerS, out.ThrottledShare
		for _, ci := range b.clients {
			switch clients[ci].retry {
			case scenario.RetryNone:
				continue
			case scenario.RetryAdaptive:
				out.RetryModel = RetryModelAdaptive
			default:
				if out.RetryModel != RetryModelAdaptive {
					out.RetryModel = RetryModelStandard
				}
			}
			out.AttemptsPerS = a.att / nStarts / d
			out.AttemptThrottledShare = ratio(a.attThr, a.att)
		}
		p.Buckets = append(p.Buckets, out)
	}
	sort.Slice(p.Buckets, func(i, j int) bool { return p.Buckets[i].Name < p.Buckets[j].Name })

	for wi, w := range s.Workloads {
		pr := profiles[wi]
		out := Workload{Name: w.Name, Retry: ecs[wi].Retry, RatePerS: pr.meanRate(scale, sps)}
		var a acc
		retries := false
		for ci, c := range clients {
			if c.w != wi {
				continue
			}
			out.MaxAttempts = c.maxAtt
			retries = c.retry != scenario.RetryNone
			a.first += cAcc[ci].first
			a.firstThr += cAcc[ci].firstThr
			a.att += cAcc[ci].att
			a.attThr += cAcc[ci].attThr
			for _, ch := range c.charges {
				if n := ch.Key.String(); !slices.Contains(out.Buckets, n) {
					out.Buckets = append(out.Buckets, n)
				}
			}
		}
		first := model.Buckets(quota.Request{Account: pr.caller.ID, Region: pr.regionAt(0),
			Operation: w.Operation, KeySpec: pr.key.Spec, CustomKeyStore: pr.key.CustomKeyStore})
		out.Bucket = first[0].Key.String()
		out.CallsPerS = a.first / nStarts / d
		out.ThrottledShare = ratio(a.firstThr, a.first)
		out.AttemptsPerS, out.AttemptThrottledShare = out.CallsPerS, out.ThrottledShare
		if retries {
			out.AttemptsPerS = a.att / nStarts / d
			out.AttemptThrottledShare = ratio(a.attThr, a.att)
		}
		p.Workloads = append(p.Workloads, out)
	}

	for _, b := range p.Buckets {
		if b.PeakPerS <= 0 {
			continue
		}
		if p.Saturation == nil || b.GrowthFactor < p.Saturation.GrowthFactor {
			label := b.Name
			if b.AccountName != "" {
				label = b.AccountName + "/" + b.Region + "/" + b.Class
			}
			p.Saturation = &Saturation{Bucket: b.Name, Label: label, GrowthFactor: b.GrowthFactor,
				PeakPerS: b.PeakPerS, QuotaPerS: b.QuotaPerS}
		}
	}

	p.Cost = monthlyCost(s, profiles, dur, pricing, model)
	return p, nil
}

// windows maps each step to its quota window: whole seconds of wall-clock
// time when the run starts off steps into a second (fixed window), or the
// step itself (token bucket, simulated per step).
func windows(nsteps, sps, off int, alg quota.Algorithm) []int {
	win := make([]int, nsteps)
	for i := range win {
		if alg == quota.FixedWindow {
			win[i] = (i + off) / sps
		} else {
			win[i] = i
		}
	}
	if nsteps > 0 && alg == quota.FixedWindow {
		first := win[0]
		for i := range win {
			win[i] -= first
		}
	}
	return win
}

// throttled returns the expected number of requests throttled in each
// window. Fixed window: E[max(0, N - Q)] with N normal (mean mu, variance
// v), which is max(0, mu - Q) when v is 0. Token bucket: a fluid bucket
// refilling at Q per second, holding BurstSeconds x Q and starting full;
// its windows are the steps (dts holds each step's length in seconds).
func throttled(cfg quota.Config, q float64, steps, mu, v, dts []float64, win []int) []float64 {
	out := make([]float64, len(mu))
	if cfg.Algorithm == quota.FixedWindow {
		for k := range mu {
			out[k] = expectedExcess(mu[k], math.Sqrt(v[k]), q)
		}
		return out
	}
	capacity := math.Max(cfg.BurstSeconds*q, 1)
	level := capacity
	for i, n := range steps {
		avail := level + q*dts[i]
		allowed := math.Min(n, avail)
		level = math.Min(capacity, avail-allowed)
		out[win[i]] += n - allowed
	}
	return out
}

// expectedExcess is E[max(0, X - q)] for X normal with mean mu and
// standard deviation sd: (mu-q)·Φ(z) + sd·φ(z), z = (mu-q)/sd.
func expectedExcess(mu, sd, q float64) float64 {
	if sd <= 0 {
		return math.Max(0, mu-q)
	}
	z := (mu - q) / sd
	cdf := 0.5 * math.Erfc(-z/math.Sqrt2)
	pdf := math.Exp(-z*z/2) / math.Sqrt(2*math.Pi)
	// The excess cannot exceed the demand itself.
	return math.Min(mu, math.Max(0, (mu-q)*cdf+sd*pdf))
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

// firstNonZero returns the first of vs that is not the zero value.
func firstNonZero[T comparable](vs ...T) T {
	var zero T
	for _, v := range vs {
		if v != zero {
			return v
		}
	}
	return zero
}
