package plan

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/scenario"
)

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
	pd, err := newPrediction(s, opts)
	if err != nil {
		return nil, err
	}
	pd.addDemand()
	pd.addThrottling(opts.WindowPhase)
	pd.addWholeSecondPeaks()
	pd.addPartialSecondPeak()
	p := &Plan{Scenario: s.Name, Scale: pd.scale, DurationS: pd.dur.Seconds(),
		QuotaModel: string(pd.cfg.Algorithm), WindowPhase: opts.WindowPhase.String()}
	p.Buckets = pd.bucketResults()
	p.Workloads = pd.workloadResults()
	p.Saturation = saturation(p.Buckets)
	p.Cost = monthlyCost(s, pd.profiles, pd.dur, pd.pricing, pd.model)
	return p, nil
}

// prediction is one Predict call: its resolved inputs, the first-attempt
// demand of every client and bucket per integration step, and the
// throttling tallies summed over the window starts.
type prediction struct {
	s        *scenario.Scenario
	scale    float64
	dur      time.Duration
	cfg      quota.Config // the quota configuration at the plan's scale
	model    *quota.Model
	pricing  Pricing
	ecs      []scenario.EffectiveClient // per workload
	profiles []profile                  // per workload
	sps      int                        // integration steps per second
	nsteps   int
	dts      []float64 // step lengths in seconds: the last may be short
	clients  []*client
	buckets  []*bucketAcc
	starts   []int     // the run starts averaged, in steps into a second
	bAcc     []tally   // per bucket, summed over the starts
	cAcc     []tally   // per client, summed over the starts
	peak     []float64 // per bucket: first attempts in its busiest second
}

// tally sums first attempts, throttled first attempts, attempts and
// throttled attempts.
type tally struct{ first, firstThr, att, attThr float64 }

// newPrediction checks s and opts and resolves what the prediction needs:
// the scale and duration, every workload's SDK client (resolved as a run
// resolves it) and profile, the quota model and prices, and the
// integration steps.
func newPrediction(s *scenario.Scenario, opts Options) (*prediction, error) {
	if s == nil {
		return nil, fmt.Errorf("%w: no scenario", ErrInvalid)
	}
	res, err := scenario.Resolve(s, scenario.Overrides{Duration: opts.Duration, Scale: opts.Scale,
		Client: scenario.ClientOverride{Retry: opts.Retry}, SDKEnv: opts.SDKEnv})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	scale, dur := res.Scale, res.Duration
	ecs := make([]scenario.EffectiveClient, len(res.Workloads))
	for i, rw := range res.Workloads {
		ecs[i] = rw.Client
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
	profiles := make([]profile, len(s.Workloads))
	for i, rw := range res.Workloads {
		pr, err := newProfile(s, rw, dur)
		if err != nil {
			return nil, err
		}
		profiles[i] = pr
	}
	sps := stepsPerSecond(dur.Seconds())
	nsteps := int(math.Ceil(dur.Seconds() * float64(sps)))
	dts := make([]float64, nsteps)
	for i := range dts {
		dts[i] = math.Min(float64(i+1)/float64(sps), dur.Seconds()) - float64(i)/float64(sps)
	}
	return &prediction{s: s, scale: scale, dur: dur, cfg: cfg, model: model, pricing: pricing,
		ecs: ecs, profiles: profiles, sps: sps, nsteps: nsteps, dts: dts}, nil
}

// addDemand integrates every workload's calls to KMS over the steps, per
// client (workload and Region: a shift-traffic event starts a client),
// then adds them to the buckets each client is charged to.
func (pd *prediction) addDemand() {
	clientIdx := map[[2]string]int{}
	bucketIdx := map[quota.BucketKey]int{}
	for wi, w := range pd.s.Workloads {
		pr := pd.profiles[wi]
		for i := range pd.nsteps {
			l := pd.dts[i]
			t := float64(i)/float64(pd.sps) + l/2
			rate := pr.rate(t) * pd.scale
			calls := pr.calls(rate) * l
			region := pr.regionAt(t)
			ck := [2]string{w.Name, region}
			ci, ok := clientIdx[ck]
			if !ok {
				ci = pd.addClient(wi, region, bucketIdx)
				clientIdx[ck] = ci
			}
			pd.clients[ci].steps[i] += calls
		}
	}
	for _, c := range pd.clients {
		for j, bi := range c.bucket {
			b, wt := pd.buckets[bi], c.charges[j].Weight
			for i, n := range c.steps {
				b.steps[i] += wt * n
				if c.poisson {
					b.vars[i] += wt * wt * n
				}
			}
		}
	}
}

// addClient adds the client of workload wi in region, charged as the
// quota model charges its requests there, adds the buckets it is the
// first to be charged to (bucketIdx indexes them by key) and returns the
// client's index.
func (pd *prediction) addClient(wi int, region string, bucketIdx map[quota.BucketKey]int) int {
	w, pr, ec := pd.s.Workloads[wi], pd.profiles[wi], pd.ecs[wi]
	c := &client{w: wi, region: region, steps: make([]float64, pd.nsteps),
		poisson: w.Arrival == scenario.ArrivalPoisson && w.DataKeyCache == nil,
		retry:   ec.Retry, maxAtt: ec.Attempts(), tokens: ec.ScaledTokens(pd.scale)}
	c.charges = pd.model.Buckets(pr.rw.Request(region))
	for _, ch := range c.charges {
		bi, ok := bucketIdx[ch.Key]
		if !ok {
			bi = len(pd.buckets)
			bucketIdx[ch.Key] = bi
			pd.buckets = append(pd.buckets, &bucketAcc{key: ch.Key, quota: pd.cfg.Limit(ch.Key),
				steps: make([]float64, pd.nsteps), vars: make([]float64, pd.nsteps),
				wls: map[string]bool{}, keys: map[string]bool{}})
		}
		c.bucket = append(c.bucket, bi)
		b := pd.buckets[bi]
		b.clients = append(b.clients, len(pd.clients))
		b.wls[w.Name] = true
		if w.Key != "" {
			b.keys[w.Key] = true
		}
	}
	pd.clients = append(pd.clients, c)
	return len(pd.clients) - 1
}

// addThrottling predicts, for each run start averaged, the throttled
// first attempts of every bucket and client and the retry estimate, and
// sums them into the tallies. With fixed windows it also notes each
// bucket's busiest window of the start aligned with the second.
func (pd *prediction) addThrottling(phase quota.WindowPhase) {
	pd.starts = windowStartOffsets(phase, pd.cfg.Algorithm, pd.sps)
	pd.bAcc = make([]tally, len(pd.buckets))
	pd.cAcc = make([]tally, len(pd.clients))
	pd.peak = make([]float64, len(pd.buckets))
	for _, off := range pd.starts {
		win := windows(pd.nsteps, pd.sps, off, pd.cfg.Algorithm)
		nw := win[len(win)-1] + 1 // nsteps >= 1: the duration is positive
		share := pd.addBucketThrottling(win, nw, off)
		firstW := pd.addClientThrottling(win, nw, share)
		pd.addRetryEstimate(firstW, nw)
	}
}

// windowStartOffsets returns the run starts, in steps into a second, that
// the prediction averages over: the phase's offset or, for a random phase
// with fixed windows, windowStarts starts spread over the second.
func windowStartOffsets(phase quota.WindowPhase, alg quota.Algorithm, sps int) []int {
	starts := []int{int(math.Round(phase.Offset.Seconds()*float64(sps))) % sps}
	if !phase.Fixed && alg == quota.FixedWindow {
		starts = starts[:0]
		for j := range windowStarts {
			starts = append(starts, j*sps/windowStarts)
		}
	}
	return starts
}

// addBucketThrottling adds every bucket's first attempts and throttled
// first attempts in the windows win (nw of them, for the start off steps
// into a second) to its tally, and returns each bucket's share throttled
// per window.
func (pd *prediction) addBucketThrottling(win []int, nw, off int) [][]float64 {
	share := make([][]float64, len(pd.buckets))
	for bi, b := range pd.buckets {
		mu, v := make([]float64, nw), make([]float64, nw)
		for i, n := range b.steps {
			mu[win[i]] += n
			v[win[i]] += b.vars[i]
		}
		thr := throttled(pd.cfg, b.quota, b.steps, mu, v, pd.dts, win)
		share[bi] = make([]float64, nw)
		for k := range nw {
			pd.bAcc[bi].first += mu[k]
			pd.bAcc[bi].firstThr += thr[k]
			if mu[k] > 0 {
				share[bi][k] = thr[k] / mu[k]
			}
			if off == 0 && pd.cfg.Algorithm == quota.FixedWindow {
				pd.peak[bi] = math.Max(pd.peak[bi], mu[k])
			}
		}
	}
	return share
}

// addClientThrottling adds every client's first attempts in the windows
// win, and those throttled (the larger share of its buckets), to its
// tally, and returns its first attempts per window.
func (pd *prediction) addClientThrottling(win []int, nw int, share [][]float64) [][]float64 {
	firstW := make([][]float64, len(pd.clients))
	for ci, c := range pd.clients {
		firstW[ci] = make([]float64, nw)
		for i, n := range c.steps {
			firstW[ci][win[i]] += n
		}
		for k, n := range firstW[ci] {
			var s float64
			for _, bi := range c.bucket {
				s = math.Max(s, share[bi][k])
			}
			pd.cAcc[ci].first += n
			pd.cAcc[ci].firstThr += n * s
		}
	}
	return firstW
}

// addRetryEstimate adds the retry estimate on the same nw windows, from
// the clients' first attempts per window firstW, to the tallies.
func (pd *prediction) addRetryEstimate(firstW [][]float64, nw int) {
	att, attThr, bAtt, bAttThr := retryEstimate(pd.cfg, pd.buckets, pd.clients, firstW, nw, pd.dts)
	for ci := range pd.clients {
		pd.cAcc[ci].att += att[ci]
		pd.cAcc[ci].attThr += attThr[ci]
	}
	for bi := range pd.buckets {
		pd.bAcc[bi].att += bAtt[bi]
		pd.bAcc[bi].attThr += bAttThr[bi]
	}
}

// addWholeSecondPeaks notes, for the token bucket, each bucket's busiest
// whole second from the run start (fixed windows noted theirs in
// addThrottling).
func (pd *prediction) addWholeSecondPeaks() {
	if pd.cfg.Algorithm == quota.FixedWindow {
		return
	}
	win := windows(pd.nsteps, pd.sps, 0, quota.FixedWindow)
	for bi, b := range pd.buckets {
		per := map[int]float64{}
		for i, n := range b.steps {
			per[win[i]] += n
		}
		for _, v := range per {
			pd.peak[bi] = math.Max(pd.peak[bi], v)
		}
	}
}

// addPartialSecondPeak counts a partial last second of the window in the
// peaks per second of it.
func (pd *prediction) addPartialSecondPeak() {
	frac := pd.dur.Seconds() - math.Floor(pd.dur.Seconds())
	if frac <= 0 {
		return
	}
	lastFrom := int(math.Floor(pd.dur.Seconds())) * pd.sps
	for bi, b := range pd.buckets {
		var n float64
		for i := lastFrom; i < pd.nsteps; i++ {
			n += b.steps[i]
		}
		pd.peak[bi] = math.Max(pd.peak[bi], n/frac)
	}
}

// bucketResults returns the plan's buckets, sorted by name.
func (pd *prediction) bucketResults() []Bucket {
	accountName := map[string]string{}
	for name, a := range pd.s.Accounts {
		accountName[a.ID] = name
	}
	var out []Bucket
	for bi := range pd.buckets {
		out = append(out, pd.bucketResult(bi, accountName))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// bucketResult returns bucket bi's rates and shares, averaged over the
// window and the run starts; accountName maps account ids to their
// scenario names.
func (pd *prediction) bucketResult(bi int, accountName map[string]string) Bucket {
	nStarts := float64(len(pd.starts))
	d := pd.dur.Seconds()
	b, a := pd.buckets[bi], pd.bAcc[bi]
	out := Bucket{
		Name: b.key.String(), Account: b.key.Account, AccountName: accountName[b.key.Account],
		Region: b.key.Region, Class: string(b.key.Class),
		QuotaPerS:  b.quota,
		DemandPerS: a.first / nStarts / d,
		PeakPerS:   pd.peak[bi],
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
		switch pd.clients[ci].retry {
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
	return out
}

// workloadResults returns the plan's workloads, in scenario order.
func (pd *prediction) workloadResults() []Workload {
	var out []Workload
	for wi := range pd.s.Workloads {
		out = append(out, pd.workloadResult(wi))
	}
	return out
}

// workloadResult returns workload wi's rates and shares: the sums over its
// clients, averaged over the window and the run starts.
func (pd *prediction) workloadResult(wi int) Workload {
	nStarts := float64(len(pd.starts))
	d := pd.dur.Seconds()
	w, pr := pd.s.Workloads[wi], pd.profiles[wi]
	out := Workload{Name: w.Name, Retry: pd.ecs[wi].Retry, RatePerS: pr.meanRate(pd.scale, pd.sps)}
	var a tally
	retries := false
	for ci, c := range pd.clients {
		if c.w != wi {
			continue
		}
		out.MaxAttempts = c.maxAtt
		retries = c.retry != scenario.RetryNone
		a.first += pd.cAcc[ci].first
		a.firstThr += pd.cAcc[ci].firstThr
		a.att += pd.cAcc[ci].att
		a.attThr += pd.cAcc[ci].attThr
		for _, ch := range c.charges {
			if n := ch.Key.String(); !slices.Contains(out.Buckets, n) {
				out.Buckets = append(out.Buckets, n)
			}
		}
	}
	first := pd.model.Buckets(pr.rw.Request(pr.regionAt(0)))
	out.Bucket = first[0].Key.String()
	out.CallsPerS = a.first / nStarts / d
	out.ThrottledShare = ratio(a.firstThr, a.first)
	out.AttemptsPerS, out.AttemptThrottledShare = out.CallsPerS, out.ThrottledShare
	if retries {
		out.AttemptsPerS = a.att / nStarts / d
		out.AttemptThrottledShare = ratio(a.attThr, a.att)
	}
	return out
}

// saturation returns the bucket with demand and the smallest growth
// factor (the first of equals, in the order of buckets), or nil when no
// bucket has demand.
func saturation(buckets []Bucket) *Saturation {
	var sat *Saturation
	for _, b := range buckets {
		if b.PeakPerS <= 0 {
			continue
		}
		if sat == nil || b.GrowthFactor < sat.GrowthFactor {
			label := b.Name
			if b.AccountName != "" {
				label = b.AccountName + "/" + b.Region + "/" + b.Class
			}
			sat = &Saturation{Bucket: b.Name, Label: label, GrowthFactor: b.GrowthFactor,
				PeakPerS: b.PeakPerS, QuotaPerS: b.QuotaPerS}
		}
	}
	return sat
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
