package capacity

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/kmsload/kmsload/plan"
	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/scenario"
)

// Defaults of Options.
const (
	// DefaultPrecision is the relative width of the final bracket.
	DefaultPrecision = 0.01
	// DefaultStep is the factor by which the rate grows or shrinks while
	// the answer is not bracketed.
	DefaultStep = 1.25
	// DefaultMaxRuns bounds the number of runs of a search.
	DefaultMaxRuns = 20
)

// ErrBadOptions is wrapped by Search and ParseSLO for unusable input.
var ErrBadOptions = errors.New("capacity: invalid options")

// ErrNotFound is wrapped by Search when no probed rate kept the SLO.
var ErrNotFound = errors.New("capacity: no rate keeps the SLO")

// SLO is a list of conditions a workload must keep.
type SLO []report.Condition

// ParseSLO parses comma-separated threshold expressions, such as
// "p99<50ms,throttled_requests<0.1%".
func ParseSLO(s string) (SLO, error) {
	var out SLO
	for _, part := range strings.Split(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		c, err := report.ParseThreshold(part)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadOptions, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: empty SLO", ErrBadOptions)
	}
	return out, nil
}

// String joins the expressions with commas.
func (s SLO) String() string {
	parts := make([]string, len(s))
	for i, c := range s {
		parts[i] = strings.TrimSpace(c.Expr)
	}
	return strings.Join(parts, ",")
}

// Check evaluates the SLO on workload w of a run at scale and returns the
// expressions that failed, with their values.
func (s SLO) Check(w report.Workload, scale float64) []string {
	var failed []string
	for _, c := range s {
		v, ok, why := c.Measure(w, scale)
		switch {
		case !ok:
			failed = append(failed, fmt.Sprintf("%s (%s)", strings.TrimSpace(c.Expr), why))
		case !c.Holds(v):
			failed = append(failed, fmt.Sprintf("%s (measured %.4g%s)", strings.TrimSpace(c.Expr), v, c.Unit))
		}
	}
	return failed
}

// Runner runs the scenario with the searched workload at rate requests
// per second (real size) and returns the run's results.
type Runner func(ctx context.Context, rate float64) (*report.Results, error)

// Options configure a Search.
type Options struct {
	// Workload is the name of the workload whose rate is searched.
	Workload string
	// SLO is what the workload must keep.
	SLO SLO
	// Run runs one probe.
	Run Runner
	// Seed is the first rate probed (real size), e.g. from [Seed].
	Seed float64
	// Precision is the relative width at which the bracket is narrow
	// enough; 0 = DefaultPrecision.
	Precision float64
	// Step is the growth factor while bracketing; 0 = DefaultStep.
	Step float64
	// MaxRuns bounds the runs; 0 = DefaultMaxRuns.
	MaxRuns int
	// Logf, when set, receives one line per probe.
	Logf func(format string, args ...any)
}

// Probe is one run of a search.
type Probe struct {
	Rate   float64  `json:"rate_per_s"`
	Pass   bool     `json:"pass"`
	Failed []string `json:"failed,omitempty"`
	// Workload is the searched workload's results in the run.
	Workload report.Workload `json:"-"`
}

// Result is the outcome of a Search.
type Result struct {
	Workload string `json:"workload"`
	SLO      string `json:"slo"`
	// Rate is the highest probed rate that kept the SLO (real size);
	// Bound is the lowest that broke it (0 when none did within MaxRuns).
	Rate   float64 `json:"rate_per_s"`
	Bound  float64 `json:"bound_per_s,omitempty"`
	Seed   float64 `json:"seed_per_s"`
	Probes []Probe `json:"probes"`
}

// Search brackets and bisects the workload's rate as described in the
// package doc. It returns the result so far with ErrNotFound when no
// probed rate passed.
func Search(ctx context.Context, o Options) (*Result, error) {
	if o.Run == nil || o.Workload == "" || len(o.SLO) == 0 {
		return nil, fmt.Errorf("%w: a workload, an SLO and a runner are needed", ErrBadOptions)
	}
	if !(o.Seed > 0) || math.IsInf(o.Seed, 1) {
		return nil, fmt.Errorf("%w: seed rate %g is not positive", ErrBadOptions, o.Seed)
	}
	prec := o.Precision
	if prec <= 0 {
		prec = DefaultPrecision
	}
	step := o.Step
	if step <= 1 {
		step = DefaultStep
	}
	maxRuns := o.MaxRuns
	if maxRuns <= 0 {
		maxRuns = DefaultMaxRuns
	}
	res := &Result{Workload: o.Workload, SLO: o.SLO.String(), Seed: o.Seed}
	probe := func(rate float64) (bool, error) {
		r, err := o.Run(ctx, rate)
		if err != nil {
			return false, fmt.Errorf("capacity: run at %g/s: %w", rate, err)
		}
		var w *report.Workload
		for i := range r.Workloads {
			if r.Workloads[i].Name == o.Workload {
				w = &r.Workloads[i]
			}
		}
		if w == nil {
			return false, fmt.Errorf("capacity: run at %g/s: no results for workload %q", rate, o.Workload)
		}
		p := Probe{Rate: rate, Workload: *w}
		p.Failed = o.SLO.Check(*w, r.Scenario.Scale)
		p.Pass = len(p.Failed) == 0
		res.Probes = append(res.Probes, p)
		if o.Logf != nil {
			verdict := "keeps the SLO"
			if !p.Pass {
				verdict = "breaks " + strings.Join(p.Failed, ", ")
			}
			o.Logf("probe %d: %s at %.6g/s %s", len(res.Probes), o.Workload, rate, verdict)
		}
		return p.Pass, nil
	}
	lo, hi := 0.0, 0.0 // highest pass, lowest fail
	rate := o.Seed
	for lo == 0 || hi == 0 {
		if len(res.Probes) >= maxRuns {
			break
		}
		pass, err := probe(rate)
		if err != nil {
			return res, err
		}
		if pass {
			lo = rate
			if hi == 0 {
				rate *= step
			}
		} else {
			hi = rate
			if lo == 0 {
				rate /= step
			}
		}
		if lo > 0 && hi > 0 {
			break
		}
	}
	for lo > 0 && hi > 0 && (hi-lo)/lo > prec && len(res.Probes) < maxRuns {
		mid := (lo + hi) / 2
		pass, err := probe(mid)
		if err != nil {
			return res, err
		}
		if pass {
			lo = mid
		} else {
			hi = mid
		}
	}
	res.Rate, res.Bound = lo, hi
	if lo == 0 {
		return res, fmt.Errorf("%w: %s broke %s at every rate probed down to %.6g/s", ErrNotFound, o.Workload, o.SLO, hi)
	}
	return res, nil
}

// WithRate returns a copy of s in which workload name's intended rate is
// rate requests per second (real size): a constant or Poisson workload
// gets that rate, a phases workload has every phase multiplied so that
// its mean over the scenario's duration is rate.
func WithRate(s *scenario.Scenario, name string, rate float64) (*scenario.Scenario, error) {
	c := *s
	c.Workloads = append([]scenario.Workload(nil), s.Workloads...)
	for i := range c.Workloads {
		w := &c.Workloads[i]
		if w.Name != name {
			continue
		}
		if w.Arrival == scenario.ArrivalTrace {
			return &c, scaleSeries(w, rate, s.Duration)
		}
		if w.Arrival != scenario.ArrivalPhases {
			w.Rate = scenario.Rate(rate)
			return &c, nil
		}
		mean := phasesMean(w.Phases, s.Duration)
		if !(mean > 0) {
			return nil, fmt.Errorf("%w: workload %q has no arrivals to scale", ErrBadOptions, name)
		}
		f := rate / mean
		phases := append([]scenario.Phase(nil), w.Phases...)
		for j := range phases {
			phases[j].To = scenario.Rate(float64(phases[j].To) * f)
			if phases[j].From != nil {
				v := scenario.Rate(float64(*phases[j].From) * f)
				phases[j].From = &v
			}
		}
		w.Phases = phases
		return &c, nil
	}
	return nil, fmt.Errorf("%w: no workload %q", ErrBadOptions, name)
}

// scaleSeries gives trace workload w a copy of its series with every
// count multiplied so that its mean over d is rate.
func scaleSeries(w *scenario.Workload, rate float64, d time.Duration) error {
	if w.Series == nil || d <= 0 {
		return fmt.Errorf("%w: workload %q has no arrivals to scale", ErrBadOptions, w.Name)
	}
	steps := min(len(w.Series.Counts), int(d/w.Series.Step))
	var n float64
	for _, c := range w.Series.Counts[:steps] {
		n += float64(c)
	}
	if !(n > 0) {
		return fmt.Errorf("%w: workload %q has no arrivals to scale", ErrBadOptions, w.Name)
	}
	f := rate * d.Seconds() / n
	s := &scenario.Series{Name: w.Series.Name, Step: w.Series.Step, Counts: make([]float32, len(w.Series.Counts))}
	for i, c := range w.Series.Counts {
		s.Counts[i] = float32(float64(c) * f)
	}
	w.Series = s
	return nil
}

// phasesMean is the mean rate of phases over d (nothing after the last).
func phasesMean(phases []scenario.Phase, d time.Duration) float64 {
	var n, t, prev float64
	end := d.Seconds()
	for _, ph := range phases {
		from := prev
		if ph.From != nil {
			from = float64(*ph.From)
		}
		to := float64(ph.To)
		dur := ph.Duration.Seconds()
		if t+dur > end {
			part := end - t
			if part > 0 {
				n += from*part + (to-from)*part*part/(2*dur)
			}
			t = end
			break
		}
		n += (from + to) / 2 * dur
		t += dur
		prev = to
	}
	if end <= 0 {
		return 0
	}
	return n / end
}

// Seed returns the first rate to probe for workload name: its rate plus
// the headroom (quota - busiest second) of the tightest bucket it is
// charged to, from p, at real size (p's scale undone). It returns the
// workload's own rate when p does not know it.
func Seed(p *plan.Plan, name string) float64 {
	for _, w := range p.Workloads {
		if w.Name != name {
			continue
		}
		headroom := math.Inf(1)
		for _, bn := range w.Buckets {
			for _, b := range p.Buckets {
				if b.Name == bn {
					headroom = math.Min(headroom, b.QuotaPerS-b.PeakPerS)
				}
			}
		}
		scale := p.Scale
		if !(scale > 0) {
			scale = 1
		}
		rate := w.RatePerS
		if !math.IsInf(headroom, 1) {
			rate = math.Max(w.RatePerS+headroom, w.RatePerS/2)
		}
		if !(rate > 0) {
			rate = w.RatePerS
		}
		return rate / scale
	}
	return 0
}
