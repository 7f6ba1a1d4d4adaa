package traffic

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/kmsload/kmsload/scenario"
)

var _ Arrival = (*Trace)(nil)

// Trace replays recorded per-step request counts (a scenario.Series),
// multiplied by a scale. Within each step the rate is constant, so the
// intended arrivals follow Λ(t), the running total of the scaled counts;
// arrival n is intended where Λ reaches n + u_n, with u_n drawn uniform
// in [0, 1) from a hash of the seed and n. At scale 1 a second that
// recorded c requests gets exactly c arrivals, the i-th at a random
// point of the i-th of c equal slots of the second; at other scales the
// running total is kept to within one arrival. Next is a function of n
// alone, so a trace can be shared between agents by arrival number.
type Trace struct {
	step float64   // seconds
	cum  []float64 // cum[i]: scaled arrivals before step i; len(counts)+1
	peak float64   // scaled, per second
	seed uint64
}

// NewTrace returns the replay of s at scale, seeded with seed.
func NewTrace(s *scenario.Series, scale float64, seed int64) *Trace {
	t := &Trace{step: s.Step.Seconds(), cum: make([]float64, len(s.Counts)+1), seed: uint64(seed)}
	if !(t.step > 0) {
		t.step = scenario.TraceStep.Seconds()
	}
	for i, c := range s.Counts {
		v := float64(c) * scale
		t.cum[i+1] = t.cum[i] + v
		t.peak = math.Max(t.peak, v/t.step)
	}
	return t
}

// Next returns the offset of arrival n.
func (t *Trace) Next(n int64) (time.Duration, bool) {
	target := float64(n) + t.jitter(n)
	last := len(t.cum) - 1
	if n < 0 || !(target < t.cum[last]) {
		return 0, false
	}
	// The step i with cum[i] <= target < cum[i+1].
	i := sort.Search(last, func(i int) bool { return t.cum[i+1] > target })
	frac := (target - t.cum[i]) / (t.cum[i+1] - t.cum[i])
	return seconds((float64(i) + frac) * t.step), true
}

// jitter is u_n: a uniform draw in [0, 1) from the seed and n
// (SplitMix64's finaliser).
func (t *Trace) jitter(n int64) float64 {
	z := t.seed + uint64(n)*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return float64(z>>11) / (1 << 53)
}

// Count is Λ(d): the scaled arrivals the trace intends in [0, d].
func (t *Trace) Count(d time.Duration) float64 {
	s := d.Seconds() / t.step
	last := len(t.cum) - 1
	switch {
	case s <= 0:
		return 0
	case s >= float64(last):
		return t.cum[last]
	}
	i := int(s)
	return t.cum[i] + (t.cum[i+1]-t.cum[i])*(s-float64(i))
}

// Duration is the length of the recording.
func (t *Trace) Duration() time.Duration { return seconds(float64(len(t.cum)-1) * t.step) }

// String describes the process, e.g. "trace of 3600 s, 120000 requests".
func (t *Trace) String() string {
	return fmt.Sprintf("trace of %v, %.0f requests", t.Duration(), t.cum[len(t.cum)-1])
}
