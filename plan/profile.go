package plan

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/kmsload/kmsload/scenario"
)

// segment is one phase of a phases arrival: the rate moves linearly from
// from to to over [start, end) seconds (unscaled rates).
type segment struct {
	start, end, from, to float64
}

// shift moves a workload's requests to region from at seconds on.
type shift struct {
	at     float64
	region string
}

// profile is one resolved workload's intended rate and Region over the
// window.
type profile struct {
	rw     scenario.ResolvedWorkload
	caller scenario.Account
	key    scenario.Key // resolved (scenario.Resolve); zero for GenerateRandom
	phases bool
	rateS  float64 // constant and poisson: unscaled rate
	segs   []segment
	trace  *scenario.Series // trace: the recorded counts
	region string           // Region at the start of the window
	shifts []shift          // sorted by time
	cache  *scenario.DataKeyCache
	dur    float64
}

func newProfile(s *scenario.Scenario, rw scenario.ResolvedWorkload, dur time.Duration) (profile, error) {
	w := rw.Spec
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: workload %q: %s", ErrInvalid, w.Name, fmt.Sprintf(format, a...))
	}
	p := profile{rw: rw, dur: dur.Seconds(), cache: w.DataKeyCache, caller: rw.Caller, key: rw.Key, region: rw.Region()}
	switch w.Arrival {
	case "", scenario.ArrivalConstant, scenario.ArrivalPoisson:
		p.rateS = w.Rate.PerSecond()
		if !(p.rateS >= 0) || math.IsInf(p.rateS, 0) {
			return p, bad("rate %v is not a finite rate", w.Rate)
		}
	case scenario.ArrivalPhases:
		p.phases = true
		var t, prev float64
		for i, ph := range w.Phases {
			if ph.Duration <= 0 {
				return p, bad("phase %d: duration %v is not positive", i+1, ph.Duration)
			}
			from := prev
			if ph.From != nil {
				from = ph.From.PerSecond()
			}
			to := ph.To.PerSecond()
			d := ph.Duration.Seconds()
			p.segs = append(p.segs, segment{start: t, end: t + d, from: from, to: to})
			t += d
			prev = to
		}
	case scenario.ArrivalTrace:
		if w.Series == nil {
			return p, bad("arrival trace without a series")
		}
		p.trace = w.Series
	default:
		return p, bad("unknown arrival %q", w.Arrival)
	}
	if c := w.DataKeyCache; c != nil && c.MaxAge <= 0 && c.MaxUses <= 0 {
		return p, bad("data_key_cache bounds neither age nor uses")
	}
	for _, ev := range s.Events {
		if ev.Action == scenario.ActionShiftTraffic && ev.Workload == w.Name && ev.At < dur {
			p.shifts = append(p.shifts, shift{at: ev.At.Seconds(), region: ev.ToRegion})
		}
	}
	sort.SliceStable(p.shifts, func(i, j int) bool { return p.shifts[i].at < p.shifts[j].at })
	return p, nil
}

// rate is the unscaled intended arrival rate at t seconds into the window.
// A phases workload sends nothing after its last phase, a trace workload
// nothing after its recording.
func (p profile) rate(t float64) float64 {
	if p.trace != nil {
		step := p.trace.Step.Seconds()
		if i := int(t / step); t >= 0 && i < len(p.trace.Counts) {
			return float64(p.trace.Counts[i]) / step
		}
		return 0
	}
	if !p.phases {
		return p.rateS
	}
	for _, s := range p.segs {
		if t >= s.start && t < s.end {
			return s.from + (s.to-s.from)*(t-s.start)/(s.end-s.start)
		}
	}
	return 0
}

// calls is the rate of requests that reach KMS when arrivals come at rate:
// min(rate, max(rate/max_uses, 1/max_age)) with a data-key cache (a term
// whose bound is unset is 0), rate otherwise.
func (p profile) calls(rate float64) float64 {
	c := p.cache
	if c == nil || rate <= 0 {
		return math.Max(rate, 0)
	}
	var byUses, byAge float64
	if c.MaxUses > 0 {
		byUses = rate / float64(c.MaxUses)
	}
	if c.MaxAge > 0 {
		byAge = 1 / c.MaxAge.Seconds()
	}
	return math.Min(rate, math.Max(byUses, byAge))
}

// regionAt is the Region requests go to at t seconds into the window.
func (p profile) regionAt(t float64) string {
	r := p.region
	for _, s := range p.shifts {
		if s.at > t {
			break
		}
		r = s.region
	}
	return r
}

// mean integrates f(t) over the window with sps midpoint steps per
// second and returns its time-weighted mean.
func (p profile) mean(sps int, f func(t, dt float64) float64) float64 {
	if p.dur <= 0 {
		return 0
	}
	n := int(math.Ceil(p.dur * float64(sps)))
	var sum float64
	for i := range n {
		a := float64(i) / float64(sps)
		b := math.Min(float64(i+1)/float64(sps), p.dur)
		sum += f(a+(b-a)/2, b-a)
	}
	return sum / p.dur
}

// meanRate is the mean intended arrival rate at scale.
func (p profile) meanRate(scale float64, sps int) float64 {
	return p.mean(sps, func(t, dt float64) float64 { return p.rate(t) * scale * dt })
}

// meanCalls is the mean rate of calls reaching KMS at scale.
func (p profile) meanCalls(scale float64, sps int) float64 {
	return p.mean(sps, func(t, dt float64) float64 { return p.calls(p.rate(t)*scale) * dt })
}
