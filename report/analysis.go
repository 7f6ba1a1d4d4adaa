package report

import (
	"maps"
	"math"
	"slices"
	"sort"

	"github.com/kmsload/kmsload/failure"
	"github.com/kmsload/kmsload/quota"
)

// Buckets aggregates workloads by quota bucket (Workload.Bucket, or each
// bucket of Workload.BucketAttempts when the workload's traffic moved
// between buckets or its key is in a custom key store), sorted by bucket name. Workloads with an empty Bucket
// are left out.
//
// For each bucket: Allowed is the sum of attempts minus throttled attempts,
// Throttled the sum of throttled attempts, DemandPerS the attempts per
// second of durationS (0 when durationS <= 0), QuotaPerS is
// quotaPerS(name) (0 when quotaPerS is nil), and Workloads and Keys are
// sorted, without duplicates or empty keys. Account, Region and Class are
// read from the name (quota.ParseBucketKey; a custom key store's bucket
// has no account); a name that is not a bucket's leaves them empty.
func Buckets(ws []Workload, durationS float64, quotaPerS func(bucket string) float64) []Bucket {
	type agg struct {
		b     Bucket
		units float64 // attempts, weighed in a key store's bucket
		keys  map[string]bool
	}
	by := map[string]*agg{}
	var names []string
	add := func(w Workload, bucket string, attempts, throttled int64, units float64) {
		a := by[bucket]
		if a == nil {
			a = &agg{b: Bucket{Name: bucket, Workloads: []string{}, Keys: []string{}}, keys: map[string]bool{}}
			if k, ok := quota.ParseBucketKey(bucket); ok {
				a.b.Account, a.b.Region, a.b.Class = k.Account, k.Region, string(k.Class)
			}
			by[bucket] = a
			names = append(names, bucket)
		}
		a.units += units
		a.b.Allowed += attempts - throttled
		a.b.Throttled += throttled
		a.b.Workloads = append(a.b.Workloads, w.Name)
		if w.Key != "" && !a.keys[w.Key] {
			a.keys[w.Key] = true
			a.b.Keys = append(a.b.Keys, w.Key)
		}
	}
	for _, w := range ws {
		if len(w.BucketAttempts) > 0 {
			for _, name := range slices.Sorted(maps.Keys(w.BucketAttempts)) {
				b := w.BucketAttempts[name]
				add(w, name, b.Attempts, b.Throttled, b.units())
			}
			continue
		}
		if w.Bucket != "" {
			add(w, w.Bucket, w.Attempts, w.ThrottledAttempts, float64(w.Attempts))
		}
	}
	sort.Strings(names)
	out := make([]Bucket, 0, len(names))
	for _, n := range names {
		a := by[n]
		if durationS > 0 {
			a.b.DemandPerS = a.units / durationS
		}
		if quotaPerS != nil {
			a.b.QuotaPerS = quotaPerS(n)
		}
		sort.Strings(a.b.Workloads)
		a.b.Workloads = slices.Compact(a.b.Workloads)
		sort.Strings(a.b.Keys)
		out = append(out, a.b)
	}
	return out
}

// SetRates sets w's SentPerS and GoodputPerS for a measured window of
// durationS seconds, from its totals and its Series.
//
// SentPerS is the requests sent (by intended time, all inside the window)
// per second. GoodputPerS counts the successes that finished inside the
// window's whole seconds — OK plus data-key cache hits of Series[0] up to
// Series[floor(durationS)-1] — per one of those seconds: successes that
// finish during the drain, after arrivals stopped, used quota of seconds
// after the window and are left out of the rate (they stay in OK), so the
// goodputs of the workloads of one bucket add up to at most its quota.
// A window shorter than a second, or a series that does not cover the
// window, falls back to (OK + cache hits) / durationS. Both are 0 when
// durationS <= 0.
func (w *Workload) SetRates(durationS float64) {
	w.SentPerS, w.GoodputPerS = 0, 0
	if durationS <= 0 {
		return
	}
	w.SentPerS = float64(w.Requests) / durationS
	whole := wholeSeconds(durationS)
	if whole < 1 || len(w.Series) < whole {
		w.GoodputPerS = float64(w.OK+w.CacheHits) / durationS
		return
	}
	var ok int64
	for _, s := range w.Series[:whole] {
		ok += s.OK + s.CacheHits
	}
	w.GoodputPerS = float64(ok) / float64(whole)
}

// wholeSeconds is the number of whole seconds in a window of durationS
// seconds (a hair under a whole second counts as it).
func wholeSeconds(durationS float64) int { return int(math.Floor(durationS + 1e-9)) }

// ThrottledIn returns how many of w's attempts the bucket named bucket
// throttled: its share of BucketAttempts, or all of w's throttled
// attempts when bucket is w's own and w's attempts were not split.
func (w Workload) ThrottledIn(bucket string) int64 {
	if len(w.BucketAttempts) > 0 {
		return w.BucketAttempts[bucket].Throttled
	}
	if bucket == w.Bucket {
		return w.ThrottledAttempts
	}
	return 0
}

// ThrottledShare returns throttled attempts / attempts of w, 0 when it
// made no attempt.
func (w Workload) ThrottledShare() float64 {
	if w.Attempts <= 0 {
		return 0
	}
	return float64(w.ThrottledAttempts) / float64(w.Attempts)
}

// ThrottledShare returns throttled / (allowed + throttled) of b, 0 when
// the bucket saw no attempt.
func (b Bucket) ThrottledShare() float64 {
	n := b.Allowed + b.Throttled
	if n <= 0 {
		return 0
	}
	return float64(b.Throttled) / float64(n)
}

// ComputeCoupling compares each combined workload with its isolated run,
// in the order of combined. Workloads missing from isolated are left out.
//
// Coupling = 1 - combined goodput / isolated goodput (0 when the isolated
// goodput is 0); throttled shares are throttled attempts / attempts; p99s
// are the request latency p99s. SharesBucketWith and SharesKeyWith list,
// sorted, the other combined workloads with the same non-empty Bucket or
// Key.
func ComputeCoupling(isolated map[string]Workload, combined []Workload) []Coupling {
	out := []Coupling{}
	for _, c := range combined {
		iso, ok := isolated[c.Name]
		if !ok {
			continue
		}
		cp := Coupling{
			Workload:               c.Name,
			Bucket:                 c.Bucket,
			IsolatedGoodputPerS:    iso.GoodputPerS,
			CombinedGoodputPerS:    c.GoodputPerS,
			IsolatedThrottledShare: iso.ThrottledShare(),
			CombinedThrottledShare: c.ThrottledShare(),
			IsolatedP99Ms:          iso.LatencyMs.P99,
			CombinedP99Ms:          c.LatencyMs.P99,
			SharesBucketWith:       []string{},
			SharesKeyWith:          []string{},
		}
		if iso.GoodputPerS > 0 {
			cp.Coupling = 1 - c.GoodputPerS/iso.GoodputPerS
		}
		cp.WorstMinute, cp.WorstMinuteStartS = worstMinute(iso.Series, c.Series)
		for _, o := range combined {
			if o.Name == c.Name {
				continue
			}
			if c.Bucket != "" && o.Bucket == c.Bucket {
				cp.SharesBucketWith = append(cp.SharesBucketWith, o.Name)
			}
			if c.Key != "" && o.Key == c.Key {
				cp.SharesKeyWith = append(cp.SharesKeyWith, o.Name)
			}
		}
		sort.Strings(cp.SharesBucketWith)
		sort.Strings(cp.SharesKeyWith)
		out = append(out, cp)
	}
	return out
}

// worstMinute is the largest coupling of a whole minute, 1 - goodput
// together / goodput alone in it, and the minute's start (seconds); 0, 0
// for windows of less than two whole minutes.
func worstMinute(alone, together []Second) (float64, int) {
	minutes := min(len(alone), len(together)) / 60
	if minutes < 2 {
		return 0, 0
	}
	worst, at := 0.0, 0
	for m := range minutes {
		var a, t int64
		for i := m * 60; i < (m+1)*60; i++ {
			a += alone[i].OK + alone[i].CacheHits
			t += together[i].OK + together[i].CacheHits
		}
		if a > 0 && 1-float64(t)/float64(a) > worst {
			worst, at = 1-float64(t)/float64(a), m*60
		}
	}
	return worst, at
}

// BlastRadius returns, in the order of ws, the workloads whose requests
// failed other than by throttling (Second.Failed) in the second containing
// atS or later.
//
// FromS and ToS are the first and the last such second (inclusive: the
// failures lasted ToS - FromS + 1 seconds), Failed their total and Errors
// their split by code, from Workload.FailedBySecond (nil when the workload
// does not carry it). When FailedBySecond is present, failures with code
// QuotaExceededError are not counted: the SDK raises it when its retry
// token bucket is empty, which throttling alone causes.
func BlastRadius(atS float64, ws []Workload) []Impact {
	first := 0
	if atS > 0 {
		first = int(math.Floor(atS))
	}
	out := []Impact{}
	for _, w := range ws {
		quotaExceeded := map[int]int64{}
		var errs map[string]int64
		for _, sc := range w.FailedBySecond {
			if sc.T < first {
				continue
			}
			if sc.Code == failure.CodeQuotaExceeded {
				quotaExceeded[sc.T] += sc.Count
				continue
			}
			if errs == nil {
				errs = map[string]int64{}
			}
			errs[sc.Code] += sc.Count
		}
		var im Impact
		found := false
		for _, s := range w.Series {
			if s.T < first {
				continue
			}
			n := s.Failed - quotaExceeded[s.T]
			if n <= 0 {
				continue
			}
			if !found {
				im = Impact{Workload: w.Name, FromS: float64(s.T), Errors: errs}
				found = true
			}
			im.ToS = float64(s.T)
			im.Failed += n
		}
		if found {
			out = append(out, im)
		}
	}
	return out
}
