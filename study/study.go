package study

import (
	"cmp"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/kmsload/kmsload/internal/textout"
	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/scenario"
)

// CoupledAbove is the coupling from which a workload counts as coupled to
// the others in a verdict: it lost at least this share of its goodput
// when they ran.
const CoupledAbove = 0.05

// Run is one measured layout: the scenario, the results of its run
// (with Isolate, for coupling), and its monthly cost at real size.
type Run struct {
	Scenario *scenario.Scenario
	Results  *report.Results
	// MonthlyCostUSD is the layout's predicted monthly bill at real size;
	// negative when unknown.
	MonthlyCostUSD float64
}

// Layout is one run summarised for the comparison.
type Layout struct {
	Name string
	File string
	// Claim is the scenario's description: the claim under test.
	Claim string
	// Scale and DurationS are the run's.
	Scale     float64
	DurationS float64
	Workloads []Workload
	Buckets   []Bucket
	// MaxCoupling is the largest coupling of a workload (when
	// HasCoupling), reached by MaxCouplingWorkload.
	HasCoupling         bool
	MaxCoupling         float64
	MaxCouplingWorkload string
	// Inconclusive says why the coupling cannot be told from noise
	// (report.Coupling.Inconclusive of the first workload whose coupling
	// cannot), "" when every coupling can.
	Inconclusive string
	// WorstThrottled is the largest throttled share of attempts of a
	// workload in the combined run, reached by WorstThrottledWorkload.
	WorstThrottled         float64
	WorstThrottledWorkload string
	// WorstP99Ms is the largest p99 latency of a workload in the combined
	// run, reached by WorstP99Workload.
	WorstP99Ms       float64
	WorstP99Workload string
	// Blast is the largest blast radius of losing one key.
	Blast Blast
	// MonthlyCostUSD is the predicted monthly bill at real size; negative
	// when unknown.
	MonthlyCostUSD float64
	// Events are the lifecycle events as they happened, with the
	// workloads that failed after them.
	Events []report.Event
	// Moves are the shift-traffic events with the moved workload's
	// throttling before and after.
	Moves []Move
	// Verdict states, from the numbers, what the run found.
	Verdict []string
	// Planning states what the numbers mean for capacity planning.
	Planning []string
}

// Workload is one workload's row of a layout.
type Workload struct {
	Name   string
	Caller string
	Key    string
	Bucket string
	// Coupling = 1 - goodput together / goodput alone (when HasCoupling).
	HasCoupling bool
	Coupling    float64
	// WorstMinute is the coupling of the workload's worst whole minute,
	// from WorstMinuteStartS (windows of two minutes or more).
	WorstMinute       float64
	WorstMinuteStartS int
	ThrottledShare    float64
	P99Ms             float64
	GoodputPerS       float64
	TargetPerS        float64
	// AloneThrottledShare and AloneP99Ms are from the workload's run
	// alone (when HasCoupling).
	AloneThrottledShare float64
	AloneP99Ms          float64
	// KeyStore is the custom key store of the workload's key ("" = none).
	KeyStore string
}

// Move is a shift-traffic event: a workload's requests moved to another
// Region at AtS, with its throttled share of attempts before and after.
type Move struct {
	Workload        string
	ToRegion        string
	AtS             float64
	ThrottledBefore float64
	ThrottledAfter  float64
}

// Bucket is one quota bucket of a layout, at the run's scale.
type Bucket struct {
	Name           string
	QuotaPerS      float64
	DemandPerS     float64
	ThrottledShare float64
	Workloads      []string
	Keys           []string
}

// Utilisation returns demand / quota (0 without a quota).
func (b Bucket) Utilisation() float64 {
	if b.QuotaPerS <= 0 {
		return 0
	}
	return b.DemandPerS / b.QuotaPerS
}

// Blast is the blast radius of losing one key: the workloads that use it.
type Blast struct {
	Key string
	// Workloads on the key, in file order; Total is the layout's number of
	// workloads.
	Workloads []string
	Total     int
	// Accounts are the distinct caller accounts of those workloads.
	Accounts []string
	// TrafficShare is their share of the layout's intended requests.
	TrafficShare float64
}

// String describes the blast radius, e.g. "env-prod: 5 of 7 workloads
// (95% of traffic, 1 account)".
func (b Blast) String() string {
	if b.Key == "" {
		return "-"
	}
	acc := "accounts"
	if len(b.Accounts) == 1 {
		acc = "account"
	}
	return fmt.Sprintf("%s: %d of %d workloads (%.0f%% of traffic, %d %s)", b.Key, len(b.Workloads), b.Total,
		100*b.TrafficShare, len(b.Accounts), acc)
}

// Summarize builds the layout of run r. r.Results must hold the combined
// run; coupling is read from r.Results.Coupling when present.
func Summarize(r Run) Layout {
	res := r.Results
	s := r.Scenario
	l := Layout{
		Name:           res.Scenario.Name,
		File:           res.Scenario.File,
		Claim:          res.Scenario.Description,
		Scale:          res.Scenario.Scale,
		DurationS:      res.DurationS,
		MonthlyCostUSD: r.MonthlyCostUSD,
		Events:         res.Events,
	}
	if s != nil {
		l.Name = cmp.Or(l.Name, s.Name)
		l.File = cmp.Or(l.File, s.File)
		l.Claim = cmp.Or(l.Claim, s.Description)
	}
	coupling := map[string]report.Coupling{}
	for _, c := range res.Coupling {
		coupling[c.Workload] = c
	}
	l.WorstThrottled, l.WorstP99Ms, l.MaxCoupling = -1, -1, math.Inf(-1)
	for _, w := range res.Workloads {
		row := Workload{
			Name: w.Name, Caller: w.Caller, Key: w.Key, Bucket: w.Bucket,
			ThrottledShare: w.ThrottledShare(), P99Ms: w.LatencyMs.P99,
			GoodputPerS: w.GoodputPerS, TargetPerS: w.TargetPerS,
		}
		if s != nil {
			row.KeyStore = s.Keys[w.Key].CustomKeyStore
		}
		if c, ok := coupling[w.Name]; ok {
			row.HasCoupling, row.Coupling = true, c.Coupling
			row.WorstMinute, row.WorstMinuteStartS = c.WorstMinute, c.WorstMinuteStartS
			row.AloneThrottledShare, row.AloneP99Ms = c.IsolatedThrottledShare, c.IsolatedP99Ms
			l.HasCoupling = true
			if c.Inconclusive != "" && l.Inconclusive == "" {
				l.Inconclusive = c.Inconclusive
			}
			if c.Coupling > l.MaxCoupling {
				l.MaxCoupling, l.MaxCouplingWorkload = c.Coupling, w.Name
			}
		}
		if row.ThrottledShare > l.WorstThrottled {
			l.WorstThrottled, l.WorstThrottledWorkload = row.ThrottledShare, w.Name
		}
		if row.P99Ms > l.WorstP99Ms {
			l.WorstP99Ms, l.WorstP99Workload = row.P99Ms, w.Name
		}
		l.Workloads = append(l.Workloads, row)
	}
	if !l.HasCoupling {
		l.MaxCoupling = 0
	}
	l.WorstThrottled, l.WorstP99Ms = math.Max(l.WorstThrottled, 0), math.Max(l.WorstP99Ms, 0)
	for _, b := range res.Buckets {
		l.Buckets = append(l.Buckets, Bucket{Name: b.Name, QuotaPerS: b.QuotaPerS, DemandPerS: b.DemandPerS,
			ThrottledShare: b.ThrottledShare(), Workloads: b.Workloads, Keys: b.Keys})
	}
	l.Blast = largestBlast(l.Workloads)
	if s != nil {
		l.Moves = moves(s, res.Workloads)
	}
	l.Verdict = verdict(l)
	l.Planning = planning(l)
	return l
}

// largestBlast returns the key whose loss stops the most workloads (ties:
// the most traffic, then the key name).
func largestBlast(ws []Workload) Blast {
	var total float64
	byKey := map[string]*Blast{}
	for _, w := range ws {
		total += w.TargetPerS
		if w.Key == "" {
			continue
		}
		b := byKey[w.Key]
		if b == nil {
			b = &Blast{Key: w.Key, Total: len(ws)}
			byKey[w.Key] = b
		}
		b.Workloads = append(b.Workloads, w.Name)
		b.TrafficShare += w.TargetPerS
		if !contains(b.Accounts, w.Caller) {
			b.Accounts = append(b.Accounts, w.Caller)
		}
	}
	var best *Blast
	for _, b := range byKey {
		if total > 0 {
			b.TrafficShare /= total
		}
		if best == nil || len(b.Workloads) > len(best.Workloads) ||
			len(b.Workloads) == len(best.Workloads) && (b.TrafficShare > best.TrafficShare ||
				b.TrafficShare == best.TrafficShare && b.Key < best.Key) {
			best = b
		}
	}
	if best == nil {
		return Blast{Total: len(ws)}
	}
	sort.Strings(best.Accounts)
	return *best
}

// verdict states what the run found about throughput coupling, throttling,
// blast radius and lifecycle events.
func verdict(l Layout) []string {
	var out []string
	byName := map[string]Workload{}
	for _, w := range l.Workloads {
		byName[w.Name] = w
	}
	switch {
	case l.HasCoupling && l.MaxCoupling >= CoupledAbove:
		w := byName[l.MaxCouplingWorkload]
		others, keys := bucketPeers(l, w)
		line := fmt.Sprintf("Throughput is coupled: %s lost %.0f%% of its goodput when the others ran; it shares bucket %s with %s",
			w.Name, 100*l.MaxCoupling, w.Bucket, orNone(others))
		if w.KeyStore != "" {
			others, keys = storePeers(l, w)
			line = fmt.Sprintf("Throughput is coupled: %s lost %.0f%% of its goodput when the others ran; its key is in custom key store %s, whose quota it shares with %s",
				w.Name, 100*l.MaxCoupling, w.KeyStore, orNone(others))
		}
		out = append(out, line+keysNote(keys)+".")
	case l.HasCoupling && l.Inconclusive == "" && burstiest(l).WorstMinute >= CoupledAbove:
		w := burstiest(l)
		others, keys := bucketPeers(l, w)
		out = append(out, fmt.Sprintf("Throughput is coupled in bursts: %s lost %.0f%% of its goodput in its worst minute (from %s) when the others ran, %.1f%% over the whole window; it shares bucket %s with %s%s.",
			w.Name, 100*w.WorstMinute, minuteAt(w.WorstMinuteStartS), 100*math.Max(w.Coupling, 0), w.Bucket, orNone(others), keysNote(keys)))
	case l.HasCoupling && l.Inconclusive != "":
		out = append(out, fmt.Sprintf("Coupling is INCONCLUSIVE: no workload lost more than %.1f%% of its goodput when the others ran, but that cannot be told from noise (%s); run longer windows before concluding.",
			100*math.Max(l.MaxCoupling, 0), l.Inconclusive))
	case l.HasCoupling:
		out = append(out, fmt.Sprintf("Throughput is not coupled: no workload lost more than %.1f%% of its goodput when the others ran.",
			100*math.Max(l.MaxCoupling, 0)))
	}
	if l.HasCoupling && l.Inconclusive != "" && l.MaxCoupling >= CoupledAbove {
		out = append(out, "The coupling figures are INCONCLUSIVE: "+l.Inconclusive+".")
	}
	var together []string
	for _, w := range l.Workloads {
		if w.HasCoupling && w.AloneThrottledShare < 0.01 && w.ThrottledShare >= CoupledAbove {
			together = append(together, fmt.Sprintf("%s (throttled %.0f%% alone, %.0f%% together; p99 %.0f ms, then %.0f ms)",
				w.Name, 100*w.AloneThrottledShare, 100*w.ThrottledShare, w.AloneP99Ms, w.P99Ms))
		}
	}
	if len(together) > 0 {
		out = append(out, "Throttled only beside the others: "+strings.Join(together, "; ")+".")
	}
	for _, m := range l.Moves {
		out = append(out, fmt.Sprintf("%s moved to %s at %.1f s: %.0f%% of its attempts throttled before, %.0f%% after.",
			m.Workload, m.ToRegion, m.AtS, 100*m.ThrottledBefore, 100*m.ThrottledAfter))
	}
	if hot, ok := hottest(l); ok && l.WorstThrottled > 0 {
		worst := byName[l.WorstThrottledWorkload]
		line := fmt.Sprintf("Worst throttling: %s, %.0f%% of its attempts; bucket %s ran at %.0f%% of its quota and throttled %.0f%% (workloads %s)",
			worst.Name, 100*l.WorstThrottled, hot.Name, 100*hot.Utilisation(), 100*hot.ThrottledShare, strings.Join(hot.Workloads, ", "))
		k, _ := quota.ParseBucketKey(hot.Name)
		if store, ok := k.Class.Store(); ok {
			line += fmt.Sprintf("; that is custom key store %s's own bucket, charged besides the callers' class buckets and shared by every caller", store)
		}
		out = append(out, line+".")
	} else {
		out = append(out, "No quota bucket throttled.")
	}
	if l.Blast.Key != "" {
		out = append(out, fmt.Sprintf("Blast radius: losing key %s stops %s.", l.Blast.Key, blastText(l.Blast)))
	}
	for _, ev := range l.Events {
		if ev.Action == scenario.ActionShiftTraffic || ev.Action == scenario.ActionRotate {
			continue
		}
		if ev.Error != "" {
			out = append(out, fmt.Sprintf("Event %s %s at %.1f s failed: %s.", ev.Action, ev.Key, ev.AtS, ev.Error))
			continue
		}
		var names []string
		for _, im := range ev.Affected {
			names = append(names, im.Workload)
		}
		out = append(out, fmt.Sprintf("Event %s %s at %.1f s: workloads failing from then on: %s.", ev.Action, ev.Key, ev.AtS, orNone(names)))
	}
	return out
}

// keysNote says whether the workloads sharing a bucket use one key or
// several.
func keysNote(keys []string) string {
	switch {
	case len(keys) > 1:
		return fmt.Sprintf(", on %d different keys (%s): the bucket couples, not the key", len(keys), strings.Join(keys, ", "))
	case len(keys) == 1:
		return " on the same key " + keys[0]
	}
	return ""
}

// burstiest is the workload with the largest worst-minute coupling.
func burstiest(l Layout) Workload {
	var best Workload
	for _, w := range l.Workloads {
		if w.HasCoupling && w.WorstMinute > best.WorstMinute {
			best = w
		}
	}
	return best
}

// minuteAt formats a minute's start offset, e.g. "+5m".
func minuteAt(s int) string { return fmt.Sprintf("+%dm", s/60) }

// planning states what the layout's numbers mean for capacity planning,
// at real size.
func planning(l Layout) []string {
	scale := l.Scale
	if !(scale > 0) {
		scale = 1
	}
	bs := append([]Bucket(nil), l.Buckets...)
	sort.SliceStable(bs, func(i, j int) bool { return bs[i].Utilisation() > bs[j].Utilisation() })
	var out []string
	var over []string
	for i, b := range bs {
		if b.QuotaPerS <= 0 {
			continue
		}
		if i < 3 {
			out = append(out, fmt.Sprintf("%s: %s attempts/s against a quota of %s/s at real size (%.0f%%), %d workload(s) on %d key(s).",
				b.Name, textout.Thousands(b.DemandPerS/scale), textout.Thousands(b.QuotaPerS/scale), 100*b.Utilisation(), len(b.Workloads), len(b.Keys)))
		}
		if b.Utilisation() > 1 || b.ThrottledShare > 0.01 {
			over = append(over, b.Name)
		}
	}
	switch {
	case len(over) > 0:
		out = append(out, fmt.Sprintf("Over quota: %s. More keys in the same account and Region add no capacity; a quota increase for that account and Region, callers in other accounts, or fewer calls (data-key caching, S3 Bucket Keys) do.",
			strings.Join(over, ", ")))
	case len(bs) > 0 && bs[0].QuotaPerS > 0 && bs[0].DemandPerS > 0:
		out = append(out, fmt.Sprintf("Every bucket has headroom: the busiest, %s, can take %.2fx its load before it throttles.",
			bs[0].Name, bs[0].QuotaPerS/bs[0].DemandPerS))
	}
	return out
}

// hottest returns the bucket with the largest throttled share (ties: the
// highest utilisation).
func hottest(l Layout) (Bucket, bool) {
	if len(l.Buckets) == 0 {
		return Bucket{}, false
	}
	best := l.Buckets[0]
	for _, b := range l.Buckets[1:] {
		if b.ThrottledShare > best.ThrottledShare || b.ThrottledShare == best.ThrottledShare && b.Utilisation() > best.Utilisation() {
			best = b
		}
	}
	return best, true
}

// storePeers returns the other workloads whose keys are in w's custom key
// store and the keys they use (w's included), sorted.
func storePeers(l Layout, w Workload) (others, keys []string) {
	return peers(l, w, func(o Workload) bool { return o.KeyStore == w.KeyStore })
}

// moves measures each shift-traffic event of s: the workload's throttled
// share of attempts in the seconds before and after it.
func moves(s *scenario.Scenario, ws []report.Workload) []Move {
	var out []Move
	for _, ev := range s.Events {
		if ev.Action != scenario.ActionShiftTraffic {
			continue
		}
		m := Move{Workload: ev.Workload, ToRegion: ev.ToRegion, AtS: ev.At.Seconds()}
		for _, w := range ws {
			if w.Name != ev.Workload {
				continue
			}
			var att, thr [2]int64
			for _, sec := range w.Series {
				i := 0
				if float64(sec.T) >= m.AtS {
					i = 1
				} else if float64(sec.T+1) > m.AtS {
					continue // the second of the move
				}
				att[i] += sec.Attempts
				thr[i] += sec.ThrottledAttempts
			}
			if att[0] > 0 {
				m.ThrottledBefore = float64(thr[0]) / float64(att[0])
			}
			if att[1] > 0 {
				m.ThrottledAfter = float64(thr[1]) / float64(att[1])
			}
		}
		out = append(out, m)
	}
	return out
}

// bucketPeers returns the other workloads in w's bucket and the keys used
// in that bucket (w's included), sorted.
func bucketPeers(l Layout, w Workload) (others, keys []string) {
	return peers(l, w, func(o Workload) bool { return o.Bucket == w.Bucket })
}

// peers returns the other workloads of l that share with w what same
// tests, and the keys they use (w's included), sorted.
func peers(l Layout, w Workload, same func(Workload) bool) (others, keys []string) {
	for _, o := range l.Workloads {
		if !same(o) {
			continue
		}
		if o.Name != w.Name {
			others = append(others, o.Name)
		}
		if o.Key != "" && !contains(keys, o.Key) {
			keys = append(keys, o.Key)
		}
	}
	sort.Strings(keys)
	return others, keys
}

func blastText(b Blast) string {
	acc := "accounts"
	if len(b.Accounts) == 1 {
		acc = "account"
	}
	return fmt.Sprintf("%d of %d workloads (%s; %.0f%% of the traffic, from %d %s)", len(b.Workloads), b.Total,
		strings.Join(b.Workloads, ", "), 100*b.TrafficShare, len(b.Accounts), acc)
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// Disambiguate gives layouts that share a scenario name distinct names:
// each becomes "name (file)", so that two files with the same name: can be
// told apart in the tables and the verdicts. Layouts with a name of their
// own keep it.
func Disambiguate(ls []Layout) {
	n := map[string]int{}
	for _, l := range ls {
		n[l.Name]++
	}
	for i := range ls {
		if n[ls[i].Name] > 1 && ls[i].File != "" {
			ls[i].Name = fmt.Sprintf("%s (%s)", ls[i].Name, ls[i].File)
		}
	}
}
