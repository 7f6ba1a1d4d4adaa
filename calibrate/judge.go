package calibrate

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/kmsload/kmsload/internal/textout"
	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/scenario"
)

// tally is one bucket's minute: recorded attempts and throttled calls,
// simulated attempts and throttled attempts.
type tally struct {
	recAtt, recThr, simAtt, simThr float64
}

// accumulator sums workloads into buckets and minutes.
type accumulator struct {
	start     time.Time
	minutes   map[string]map[int]*tally
	workloads map[string][]string
}

func newAccumulator(start time.Time) *accumulator {
	return &accumulator{start: start, minutes: map[string]map[int]*tally{}, workloads: map[string][]string{}}
}

func (a *accumulator) at(bucket string, minute int) *tally {
	m := a.minutes[bucket]
	if m == nil {
		m = map[int]*tally{}
		a.minutes[bucket] = m
	}
	t := m[minute]
	if t == nil {
		t = &tally{}
		m[minute] = t
	}
	return t
}

// add adds one workload: its recorded attempts and throttled calls per
// second, and the simulation's seconds.
func (a *accumulator) add(bucket, name string, attempts, throttled *scenario.Series, sim []report.Second) {
	a.workloads[bucket] = append(a.workloads[bucket], name)
	for i, n := range attempts.Counts {
		if n > 0 {
			a.at(bucket, i/60).recAtt += float64(n)
		}
	}
	if throttled != nil {
		for i, n := range throttled.Counts {
			if n > 0 {
				a.at(bucket, i/60).recThr += float64(n)
			}
		}
	}
	for _, s := range sim {
		if s.Attempts > 0 {
			t := a.at(bucket, s.T/60)
			t.simAtt += float64(s.Attempts)
			t.simThr += float64(s.ThrottledAttempts)
		}
	}
}

func (a *accumulator) names() []string { return slices.Sorted(maps.Keys(a.minutes)) }

func share(thr, att float64) float64 {
	if att <= 0 {
		return 0
	}
	return math.Min(thr/att, 1)
}

// bucket is the check of one bucket.
func (a *accumulator) bucket(name string, quota, tol float64) Bucket {
	b := Bucket{Name: name, QuotaPerS: quota, Workloads: a.workloads[name]}
	var rec, sim tally
	mins := a.minutes[name]
	for _, i := range slices.Sorted(maps.Keys(mins)) {
		t := mins[i]
		m := Minute{Start: a.start.Add(time.Duration(i) * time.Minute), Attempts: t.recAtt,
			Recorded: share(t.recThr, t.recAtt), Simulated: share(t.simThr, t.simAtt)}
		b.Minutes = append(b.Minutes, m)
		rec.recAtt, rec.recThr = rec.recAtt+t.recAtt, rec.recThr+t.recThr
		sim.simAtt, sim.simThr = sim.simAtt+t.simAtt, sim.simThr+t.simThr
		switch e := m.ErrorPts(); {
		case e < -tol:
			b.Low++
		case e > tol:
			b.High++
		}
		if math.Abs(m.ErrorPts()) > math.Abs(b.MaxErrorPts) {
			b.MaxErrorPts, b.MaxErrorAt = m.ErrorPts(), m.Start
		}
	}
	b.Attempts = rec.recAtt
	b.Recorded, b.Simulated = share(rec.recThr, rec.recAtt), share(sim.simThr, sim.simAtt)
	b.Statement = b.statement(tol)
	return b
}

// statement says whether and where the model disagrees with the
// recording in b.
func (b Bucket) statement(tol float64) string {
	at := b.MaxErrorAt.UTC().Format("15:04")
	n := len(b.Minutes)
	switch {
	case b.Recorded == 0 && b.Simulated == 0:
		return fmt.Sprintf("no throttling recorded or modelled: the traffic stayed below the model's quota of %s/s, which says nothing of the quota's value", perS(b.QuotaPerS))
	case b.Low == 0 && b.High == 0 && b.MaxErrorPts == 0:
		return fmt.Sprintf("agrees: the same share in every minute; recorded and model %.1f%% of attempts throttled", 100*b.Recorded)
	case b.Low == 0 && b.High == 0:
		return fmt.Sprintf("agrees: within %.0f points in every minute (largest error %s points at %s); recorded %.1f%%, model %.1f%% of attempts throttled",
			tol, Points(b.MaxErrorPts), at, 100*b.Recorded, 100*b.Simulated)
	case b.Low >= b.High:
		return fmt.Sprintf("disagrees in %d of %d minutes: the model throttles less than AWS did, by up to %.1f points (%s). AWS's quota for this bucket may be below the model's %s/s, or traffic the trail does not hold (another Region's trail, calls not logged) shared it",
			b.Low+b.High, n, -b.MaxErrorPts, at, perS(b.QuotaPerS))
	default:
		return fmt.Sprintf("disagrees in %d of %d minutes: the model throttles more than AWS did, by up to %.1f points (%s). The account's quota may have been raised above the model's %s/s: give the raised value in a quota file (quotas.mode)",
			b.Low+b.High, n, b.MaxErrorPts, at, perS(b.QuotaPerS))
	}
}

func perS(v float64) string { return textout.Thousands(v) }

// judge sets the report's verdict.
func (r *Report) judge() {
	var disagree []string
	r.Agrees = true
	for _, b := range r.Buckets {
		if b.Recorded > 0 || b.Simulated > 0 {
			r.Conclusive = true
		}
		if b.Low+b.High > 0 {
			r.Agrees = false
			disagree = append(disagree, b.Name)
		}
	}
	switch {
	case !r.Conclusive:
		r.Verdict = "INCONCLUSIVE: the recording holds no throttling and the model predicts none, so it cannot tell whether the model's quotas are AWS's (only that this traffic stays below them)"
	case r.Agrees:
		r.Verdict = fmt.Sprintf("AGREES: in every bucket and minute the model throttles the recorded attempts within %.0f points of what AWS did", r.Tolerance)
	default:
		r.Verdict = fmt.Sprintf("DISAGREES in %s: see each bucket's statement", strings.Join(disagree, ", "))
	}
}
