package quota

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// WindowPhase is where a measured window starts relative to the
// one-second windows of the fixed-window quota: Offset after a window
// boundary (Fixed), or at a random instant of a second (the zero value).
// Run, simulate
// and plan share this one rule (--window-phase): a run on kmsload's quota
// model waits for the instant Next gives, a simulation starts its virtual
// clock there (a random phase is drawn from its seed), and a plan counts
// its windows from there (a random phase is averaged over the second).
// Where the phase falls decides how a second's excess splits over two
// quota windows: up to 2 points of throttled share at 125% load.
type WindowPhase struct {
	Fixed bool
	// Offset is in [0, 1s) when Fixed.
	Offset time.Duration
}

// PhaseRandom is the name of the random phase.
const PhaseRandom = "random"

// ParseWindowPhase reads a phase: "random" (also ""), "aligned" (0), or an
// offset into the second as a duration ("250ms") or a fraction of a
// second ("0.25").
func ParseWindowPhase(s string) (WindowPhase, error) {
	t := strings.TrimSpace(s)
	switch t {
	case "", PhaseRandom:
		return WindowPhase{}, nil
	case "aligned":
		return WindowPhase{Fixed: true}, nil
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		f, ferr := strconv.ParseFloat(t, 64)
		if ferr != nil || math.IsNaN(f) {
			return WindowPhase{}, fmt.Errorf("window phase %q: want random, aligned, a duration under 1s (250ms) or a fraction of a second (0.25)", s)
		}
		d = time.Duration(f * float64(time.Second))
	}
	if d < 0 || d >= time.Second {
		return WindowPhase{}, fmt.Errorf("window phase %q: the offset must be at least 0 and under 1s", s)
	}
	return WindowPhase{Fixed: true, Offset: d}, nil
}

// String returns "random" or the offset ("250ms", "0s").
func (p WindowPhase) String() string {
	if !p.Fixed {
		return PhaseRandom
	}
	return p.Offset.String()
}

// Next returns the first instant at or after t that lies Offset after a
// whole second of t's clock, or t when the phase is random.
func (p WindowPhase) Next(t time.Time) time.Time {
	if !p.Fixed {
		return t
	}
	at := t.Truncate(time.Second).Add(p.Offset)
	if at.Before(t) {
		at = at.Add(time.Second)
	}
	return at
}

// Draw returns the offset of the phase: Offset, or for a random phase one
// drawn from seed (the same seed, the same offset), in whole microseconds.
func (p WindowPhase) Draw(seed int64) time.Duration {
	if p.Fixed {
		return p.Offset
	}
	x := uint64(seed) + 0x9e3779b97f4a7c15 // splitmix64
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	x ^= x >> 31
	return time.Duration(x%1_000_000) * time.Microsecond
}

// OffsetOf returns how far into its second t lies: the phase a window
// that starts at t has against whole-second quota windows of t's clock.
func OffsetOf(t time.Time) time.Duration { return t.Sub(t.Truncate(time.Second)) }
