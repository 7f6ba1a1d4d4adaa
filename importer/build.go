package importer

import (
	"bytes"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/kmsload/kmsload/scenario"
)

// MaxReplayRate is the combined peak rate (requests per second, after
// scale) that an automatic scale keeps a replay under: what one machine
// drives comfortably against the embedded emulator.
const MaxReplayRate = 2000

// BuildOptions shape the scenario an import writes.
type BuildOptions struct {
	// Name of the scenario.
	Name string
	// TraceFile is the trace's file name as the scenario names it
	// (relative to the scenario file).
	TraceFile string
	// Scale of the scenario; 0 = the largest power of ten at most 1 that
	// keeps the combined peak under MaxReplayRate.
	Scale float64
	// Source describes what was read, for the scenario's header.
	Source string
}

// Workload is one workload an import wrote.
type Workload struct {
	Name      string
	Requests  float64 // replayed
	Peak      float64 // busiest step
	Throttled float64 // ThrottlingException events recorded
	Errors    map[string]int64
}

// Result is an import's scenario and trace.
type Result struct {
	// Scenario is the scenario file's text; Trace its trace.
	Scenario []byte
	Trace    *scenario.Trace
	// Workloads in the scenario's order.
	Workloads []Workload
	// Start and End bound the window replayed; Scale is the scenario's.
	Start, End time.Time
	Scale      float64
	// Throttled is what the trace replays where KMS throttled
	// (Options.Throttled).
	Throttled string
	Summary   Summary
}

// model is the scenario being built: names given to accounts, keys and
// workloads.
type model struct {
	accounts map[string]string // id -> name
	keys     map[string]*outKey
	keyByARN map[string]*outKey
	work     []*outWorkload
	region   string
}

type outKey struct {
	name, account, region, spec, usage, arn string
	replicas                                []string
	multiRegion                             bool
}

type outWorkload struct {
	name     string
	team     string // the principal, as the scenario writes it
	g        *group
	key      *outKey
	series   []float32 // replayed
	thr      []float32 // throttled attempts recorded
	attempts []float32 // every attempt recorded (nil without throttling: the series)
}

// Build resolves keys, names everything and returns the scenario and its
// trace. It fails when the window held no call a workload can replay.
func (im *Importer) Build(o BuildOptions) (*Result, error) {
	if im.first < 0 {
		return nil, fmt.Errorf("%w: the window holds no KMS call a workload can make (%d KMS events read, %d outside the window)", ErrEmpty, im.sum.Events, im.sum.OutsideWindow)
	}
	start, end := im.window()
	m := &model{accounts: map[string]string{}, keys: map[string]*outKey{}, keyByARN: map[string]*outKey{}}
	groups := im.resolve()
	m.nameKeys(im, groups)
	steps := int((end - start + int64(im.opts.Compress) - 1) / int64(im.opts.Compress))
	for _, g := range groups {
		im.addWorkload(m, g, start, steps)
	}
	if len(m.work) == 0 {
		return nil, fmt.Errorf("%w: no workload is left to replay (%s)", ErrEmpty, strings.Join(im.sum.Dropped, "; "))
	}
	m.nameWorkloads(im)
	res := &Result{Start: time.Unix(start, 0).UTC(), End: time.Unix(end, 0).UTC(), Summary: im.sum, Throttled: im.opts.Throttled}
	res.Trace = m.trace(res.Start)
	res.Scale = o.Scale
	if res.Scale == 0 {
		res.Scale = autoScale(m.work, steps)
	}
	for _, w := range m.work {
		s := res.Trace.Series[w.name]
		res.Workloads = append(res.Workloads, Workload{Name: w.name, Requests: s.Total(), Peak: s.Peak(),
			Throttled: float64(sum(w.thr)), Errors: w.g.errors})
	}
	res.Scenario = m.write(im, o, res)
	var trace bytes.Buffer
	res.Trace.WriteTo(&trace)
	if _, err := scenario.ParseFiles(o.Name+".yaml", res.Scenario, map[string][]byte{o.TraceFile: trace.Bytes()}); err != nil {
		return nil, fmt.Errorf("importer: the scenario written is not valid (a bug): %w", err)
	}
	return res, nil
}

// ErrEmpty is wrapped by Build's error when there is nothing to replay.
var ErrEmpty = fmt.Errorf("importer: nothing to replay")

// window is the replayed span in Unix seconds, [start, end).
func (im *Importer) window() (start, end int64) {
	start, end = im.first, im.last+1
	if !im.opts.From.IsZero() {
		start = im.opts.From.Unix()
	}
	if !im.opts.To.IsZero() {
		end = im.opts.To.Unix()
		if im.opts.To.Nanosecond() > 0 {
			end++
		}
	}
	return start, end
}

// addWorkload turns g into a workload, or records why it is left out.
func (im *Importer) addWorkload(m *model, g *group, start int64, steps int) {
	served := compressed(g.calls, start, steps, im.opts.Compress)
	w := &outWorkload{g: g, series: served}
	if len(g.throttled) > 0 {
		w.thr = compressed(g.throttled, start, steps, im.opts.Compress)
		w.attempts = make([]float32, steps)
		for i := range served {
			w.attempts[i] = served[i] + w.thr[i]
		}
		switch im.opts.Throttled {
		case ThrottledReplay:
			w.series = w.attempts
		case ThrottledEstimate:
			w.series = estimateRequests(w.attempts, w.thr, im.opts.MaxAttempts, float64(im.opts.Compress))
		}
	}
	if scenario.KeyRequired(g.op) {
		w.key = m.keyByARN[g.key]
		if w.key == nil {
			w.key = m.standIn(g)
		}
		if ok, why := scenario.CanPerform(w.key.spec, w.key.usage, g.op); !ok {
			im.sum.Dropped = append(im.sum.Dropped, fmt.Sprintf("%d %s calls on key %s, whose calls point to spec %s: %s", g.total, g.op, w.key.name, w.key.spec, why))
			return
		}
	}
	if sum(w.series) == 0 {
		im.sum.Dropped = append(im.sum.Dropped, fmt.Sprintf("%s calls of %s in %s: only throttled calls, which --throttled served does not replay", g.op, g.account, g.region))
		return
	}
	m.account(g.account)
	m.work = append(m.work, w)
}

// compressed is c's counts from start over steps steps of n seconds.
func compressed(c counts, start int64, steps, n int) []float32 {
	out := make([]float32, steps)
	for h, chunk := range c {
		for i, v := range chunk {
			if v == 0 {
				continue
			}
			if at := h*hourSteps + int64(i) - start; at >= 0 && at < int64(steps)*int64(n) {
				out[at/int64(n)] += float32(v)
			}
		}
	}
	return out
}

func sum(c []float32) float64 {
	var n float64
	for _, v := range c {
		n += float64(v)
	}
	return n
}

// autoScale is the largest power of ten at most 1 that keeps the
// workloads' combined busiest step under MaxReplayRate.
func autoScale(work []*outWorkload, steps int) float64 {
	var peak float64
	for i := range steps {
		var n float64
		for _, w := range work {
			n += float64(w.series[i])
		}
		peak = math.Max(peak, n)
	}
	if peak <= MaxReplayRate {
		return 1
	}
	return math.Pow(10, -math.Ceil(math.Log10(peak/MaxReplayRate)))
}

// trace is the trace of the workloads.
func (m *model) trace(start time.Time) *scenario.Trace {
	t := &scenario.Trace{Step: scenario.TraceStep, Start: start}
	for _, w := range m.work {
		t.Add(w.name, w.series...)
		if sum(w.thr) > 0 {
			t.AddThrottled(w.name, w.thr...)
			if !slices.Equal(w.attempts, w.series) {
				t.AddAttempts(w.name, w.attempts...)
			}
		}
	}
	return t
}

// sortedIDs lists the accounts by id.
func (m *model) sortedIDs() []string { return slices.Sorted(maps.Keys(m.accounts)) }
