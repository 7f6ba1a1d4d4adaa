package traffic

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/kmsload/kmsload/scenario"
)

// Arrival is an arrival process: it fixes the intended send time of every
// request of a workload. Next returns the intended offset of arrival n
// (counting from 0) from the start of the measured window, or ok false when
// the process has no arrival n. Offsets are absolute, never gaps, so
// rounding error does not accumulate over a run, and they do not decrease
// as n grows.
//
// Next is a function of n alone: it holds no clock and sleeps never. The
// scheduler decides when time moves on.
type Arrival interface {
	Next(n int64) (at time.Duration, ok bool)
}

var (
	_ Arrival = Constant{}
	_ Arrival = (*Poisson)(nil)
	_ Arrival = (*Phases)(nil)
)

// ErrBadArrival is wrapped by errors from [NewPhases] and [NewArrival] for an
// arrival process that cannot be built.
var ErrBadArrival = errors.New("traffic: invalid arrival process")

// maxSeconds is the largest offset an arrival process returns; later
// arrivals are reported as absent instead of overflowing time.Duration.
const maxSeconds = float64(math.MaxInt64/int64(time.Second)) - 1

// seconds converts s seconds to a Duration rounded to the nanosecond.
func seconds(s float64) time.Duration {
	return time.Duration(math.Round(s * float64(time.Second)))
}

// Constant is a constant arrival rate in requests per second: arrival n is
// intended at n/Rate seconds. A Rate that is zero, negative or not finite
// means no arrivals.
type Constant struct {
	Rate float64
}

// Next returns n/Rate seconds.
func (c Constant) Next(n int64) (time.Duration, bool) {
	if n < 0 || !(c.Rate > 0) || math.IsInf(c.Rate, 1) {
		return 0, false
	}
	s := float64(n) / c.Rate
	if s > maxSeconds {
		return 0, false
	}
	return seconds(s), true
}

// String describes the process, e.g. "constant 2000/s".
func (c Constant) String() string { return fmt.Sprintf("constant %g/s", c.Rate) }

// Poisson is a Poisson arrival process: the gaps between arrivals are
// exponentially distributed with mean 1/rate, drawn from a math/rand/v2 PCG
// source seeded with seed, so the same seed gives the same schedule. The
// first arrival is one gap after the window starts.
//
// A Poisson value generates its schedule in order and remembers where it
// is: calling Next with n = 0, 1, 2, ... costs one draw per call; asking
// for an earlier arrival regenerates from the start. It is not safe for
// concurrent use.
type Poisson struct {
	rate  float64
	seed  int64
	rng   *rand.Rand
	count int64   // arrivals generated so far
	t     float64 // offset of arrival count-1, in seconds
}

// NewPoisson returns a Poisson process of rate requests per second. A rate
// that is zero, negative or not finite means no arrivals.
func NewPoisson(rate float64, seed int64) *Poisson {
	p := &Poisson{rate: rate, seed: seed}
	p.reset()
	return p
}

func (p *Poisson) reset() {
	s := uint64(p.seed)
	p.rng = rand.New(rand.NewPCG(s, s^0x9e3779b97f4a7c15))
	p.count, p.t = 0, 0
}

// Next returns the offset of arrival n.
func (p *Poisson) Next(n int64) (time.Duration, bool) {
	if n < 0 || !(p.rate > 0) || math.IsInf(p.rate, 1) {
		return 0, false
	}
	if n < p.count-1 {
		p.reset()
	}
	for p.count <= n {
		p.t += p.rng.ExpFloat64() / p.rate
		p.count++
		if p.t > maxSeconds {
			p.count = math.MaxInt64
			return 0, false
		}
	}
	return seconds(p.t), true
}

// String describes the process, e.g. "poisson 100/s seed 7".
func (p *Poisson) String() string { return fmt.Sprintf("poisson %g/s seed %d", p.rate, p.seed) }

// Phase is one segment of a [Phases] process: over Duration the rate moves
// linearly from From to To requests per second (From == To holds a rate; a
// step is a phase whose From differs from the previous phase's To).
type Phase struct {
	Duration time.Duration
	From, To float64
}

// Phases is a piecewise arrival process: holds, steps and linear ramps.
// Arrival n is intended at the instant t where the integral of the rate
// from the window start, Λ(t), reaches n; within a phase of length d going
// from rate f to rate g, Λ grows by f·τ + (g−f)·τ²/(2d) after τ, so
//
//	τ = 2c / (f + sqrt(f² + 2c·(g−f)/d))
//
// for the c arrivals still due in the phase (a form that is exact for
// holds, ramps up from zero and ramps down). Arrival 0 is at the start of
// the first phase with a positive rate. There are no arrivals after the
// last phase.
type Phases struct {
	phases []Phase
	start  []float64 // start of each phase, seconds
	cum    []float64 // Λ at the start of each phase; len(phases)+1 entries
}

// NewPhases checks the phases and returns the process. Every Duration must
// be positive and every rate finite and not negative.
func NewPhases(phases []Phase) (*Phases, error) {
	if len(phases) == 0 {
		return nil, fmt.Errorf("%w: no phases", ErrBadArrival)
	}
	p := &Phases{
		phases: append([]Phase(nil), phases...),
		start:  make([]float64, len(phases)+1),
		cum:    make([]float64, len(phases)+1),
	}
	for i, ph := range phases {
		if ph.Duration <= 0 {
			return nil, fmt.Errorf("%w: phase %d: duration %v is not positive", ErrBadArrival, i+1, ph.Duration)
		}
		for _, r := range []float64{ph.From, ph.To} {
			if !(r >= 0) || math.IsInf(r, 1) {
				return nil, fmt.Errorf("%w: phase %d: rate %g is negative or not finite", ErrBadArrival, i+1, r)
			}
		}
		d := ph.Duration.Seconds()
		p.start[i+1] = p.start[i] + d
		p.cum[i+1] = p.cum[i] + (ph.From+ph.To)/2*d
	}
	return p, nil
}

// Next returns the offset of arrival n.
func (p *Phases) Next(n int64) (time.Duration, bool) {
	if n < 0 {
		return 0, false
	}
	c := float64(n)
	k := len(p.phases)
	i := sort.Search(k, func(i int) bool { return p.cum[i+1] > c })
	if i == k {
		return 0, false
	}
	ph := p.phases[i]
	d := ph.Duration.Seconds()
	f, g := ph.From, ph.To
	rem := c - p.cum[i]
	var tau float64
	if rem > 0 {
		disc := f*f + 2*rem*(g-f)/d
		if disc < 0 {
			disc = 0
		}
		den := f + math.Sqrt(disc)
		if den <= 0 {
			return 0, false
		}
		tau = 2 * rem / den
	}
	if tau > d {
		tau = d
	}
	return seconds(p.start[i] + tau), true
}

// Duration is the total length of the phases.
func (p *Phases) Duration() time.Duration { return seconds(p.start[len(p.phases)]) }

// Count returns Λ(t), the number of arrivals the process intends in [0, t]
// as a real number (its integer part plus one is the count of arrivals at
// offsets up to t, when arrival 0 is at 0).
func (p *Phases) Count(t time.Duration) float64 {
	s := t.Seconds()
	if s <= 0 {
		return 0
	}
	for i, ph := range p.phases {
		end := p.start[i+1]
		if s < end {
			tau := s - p.start[i]
			d := ph.Duration.Seconds()
			return p.cum[i] + ph.From*tau + (ph.To-ph.From)*tau*tau/(2*d)
		}
	}
	return p.cum[len(p.phases)]
}

// Peak returns the highest rate of any phase.
func (p *Phases) Peak() float64 {
	var m float64
	for _, ph := range p.phases {
		m = math.Max(m, math.Max(ph.From, ph.To))
	}
	return m
}

// String describes the process, e.g. "phases [ramp 0/s->100/s for 10s, hold 100/s for 20s]".
func (p *Phases) String() string {
	parts := make([]string, len(p.phases))
	for i, ph := range p.phases {
		if ph.From == ph.To {
			parts[i] = fmt.Sprintf("hold %g/s for %v", ph.To, ph.Duration)
		} else {
			parts[i] = fmt.Sprintf("ramp %g/s->%g/s for %v", ph.From, ph.To, ph.Duration)
		}
	}
	return "phases [" + strings.Join(parts, ", ") + "]"
}

// NewArrival builds the arrival process of workload w with its rates
// multiplied by scale. seed is the scenario seed; each workload's Poisson
// source is seeded from it and the workload's name, so workloads differ
// from each other and every run with the same seed repeats.
func NewArrival(w scenario.Workload, scale float64, seed int64) (Arrival, error) {
	if !(scale > 0) {
		return nil, fmt.Errorf("%w: workload %q: scale %g is not positive", ErrBadArrival, w.Name, scale)
	}
	switch w.Arrival {
	case "", scenario.ArrivalConstant:
		return Constant{Rate: w.Rate.PerSecond() * scale}, nil
	case scenario.ArrivalPoisson:
		return NewPoisson(w.Rate.PerSecond()*scale, workloadSeed(seed, w.Name)), nil
	case scenario.ArrivalPhases:
		phases := make([]Phase, len(w.Phases))
		prev := 0.0
		for i, ph := range w.Phases {
			from := prev
			if ph.From != nil {
				from = ph.From.PerSecond()
			}
			phases[i] = Phase{Duration: ph.Duration, From: from * scale, To: ph.To.PerSecond() * scale}
			prev = ph.To.PerSecond()
		}
		p, err := NewPhases(phases)
		if err != nil {
			return nil, fmt.Errorf("workload %q: %w", w.Name, err)
		}
		return p, nil
	case scenario.ArrivalTrace:
		if w.Series == nil {
			return nil, fmt.Errorf("%w: workload %q: arrival trace without a series", ErrBadArrival, w.Name)
		}
		return NewTrace(w.Series, scale, workloadSeed(seed, w.Name)), nil
	default:
		return nil, fmt.Errorf("%w: workload %q: unknown arrival %q", ErrBadArrival, w.Name, w.Arrival)
	}
}

// workloadSeed mixes the scenario seed with a workload name.
func workloadSeed(seed int64, name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return seed ^ int64(h.Sum64())
}

// MeanRate returns the mean intended rate of a over the window d, and its
// peak rate, in
// requests per second. A process whose rate varies (phases) has mean 0
// over a window d that is not positive; a process NewArrival or
// NewSharedArrival did not build has mean and peak 0.
func MeanRate(a Arrival, d time.Duration) (mean, peak float64) {
	switch a := a.(type) {
	case Constant:
		return a.Rate, a.Rate
	case *Poisson:
		return a.rate, a.rate
	case *Phases:
		if d <= 0 {
			return 0, a.Peak()
		}
		return a.Count(d) / d.Seconds(), a.Peak()
	case *Trace:
		if d <= 0 {
			return 0, a.peak
		}
		return a.Count(d) / d.Seconds(), a.peak
	case strided:
		mean, peak := MeanRate(a.a, d)
		return mean / float64(a.count), peak / float64(a.count)
	}
	return 0, 0
}

// Share is one agent's part of every workload's arrivals in a run spread
// over Count agents (cluster/): agent Index (0 ≤ Index < Count) sends
// 1/Count of each workload's rate, so that the agents together send the
// workload's process. A deterministic process (constant, phases) is
// split by arrival number: the agent takes arrivals Index, Index+Count,
// Index+2·Count, ... of the whole schedule, so the merged schedule is the
// single-machine one, constant spacing included. A Poisson process of rate
// r becomes an independent Poisson process of rate r/Count per agent,
// seeded from the workload's seed and Index; the sum of independent
// Poisson processes is a Poisson process of rate r. The zero Share (and
// Count 1) is the whole process.
type Share struct {
	Index, Count int
}

// Whole reports whether s is the whole process.
func (s Share) Whole() bool { return s.Count <= 1 }

// Validate checks 0 ≤ Index < Count.
func (s Share) Validate() error {
	if s.Count < 0 || (s.Count > 1 && (s.Index < 0 || s.Index >= s.Count)) || (s.Count <= 1 && s.Index != 0) {
		return fmt.Errorf("%w: share %d of %d", ErrBadArrival, s.Index, s.Count)
	}
	return nil
}

// NewSharedArrival is NewArrival for agent share.Index of share.Count.
func NewSharedArrival(w scenario.Workload, scale float64, seed int64, share Share) (Arrival, error) {
	if err := share.Validate(); err != nil {
		return nil, err
	}
	a, err := NewArrival(w, scale, seed)
	if err != nil || share.Whole() {
		return a, err
	}
	if p, ok := a.(*Poisson); ok {
		s := workloadSeed(seed, w.Name) ^ int64(uint64(share.Index+1)*0x9e3779b97f4a7c15)
		return NewPoisson(p.rate/float64(share.Count), s), nil
	}
	return strided{a: a, index: int64(share.Index), count: int64(share.Count)}, nil
}

// strided takes arrivals index, index+count, ... of a.
type strided struct {
	a            Arrival
	index, count int64
}

// Next returns the offset of arrival n·count+index of the whole process.
func (s strided) Next(n int64) (time.Duration, bool) {
	if n < 0 || n > (math.MaxInt64-s.index)/s.count {
		return 0, false
	}
	return s.a.Next(n*s.count + s.index)
}

// String describes the share, e.g. "constant 300/s, arrivals 1 mod 3".
func (s strided) String() string {
	return fmt.Sprintf("%v, arrivals %d mod %d", s.a, s.index, s.count)
}
