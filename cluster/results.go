package cluster

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/kmsload/kmsload/record"
	"github.com/kmsload/kmsload/report"
)

// collected is what a run gathered for its results: the spec, the plan the
// agents ran, each measured window's start, merge and name (one per
// workload with Plan.Isolate, in the scenario's order; the last is the
// combined window), and what the coordinator knows of each chosen agent.
type collected struct {
	spec        Spec
	plan        Plan
	starts      []*Start
	agents      []*agentTrack
	merges      []*record.Merge
	windowNames []string // "" where no snapshot named the window
}

// assembleResults builds the merged results of a run from what it
// collected: the results model, each workload's merged HdrHistogram
// interval log of the combined window, and the combined window's merge.
func assembleResults(in collected) (*Result, error) {
	durS := in.plan.Duration.Seconds()
	start := in.starts[0]
	last := len(in.merges) - 1
	m := in.merges[last]
	res := &report.Results{
		Schema:    report.Schema,
		Scenario:  in.spec.ScenarioInfo,
		StartedAt: start.At.UTC(),
		DurationS: durS,
		Target:    report.TargetInfo{Kind: in.plan.Target.Kind, Endpoint: in.plan.Target.Endpoint},
	}
	ag := summarizeAgents(in)
	res.Cluster = ag.cluster
	if ag.meta != nil {
		res.Target = ag.meta.Target
	}
	res.DurationS = ag.durationS
	if in.plan.Target.Kind == "embedded" {
		res.Target.Endpoint = "" // one emulator per agent
	}
	res.Workloads = fullTargets(m.Workloads(res.DurationS), m, in.agents)
	if in.plan.Isolate {
		res.Isolated = isolatedWorkloads(in.merges[:last], in.agents, durS)
	}
	if ag.meta != nil {
		res.Events = ag.meta.Events
	}
	qps := in.spec.QuotaPerS
	if qps == nil {
		qps = func(string) float64 { return 0 }
	}
	res.Assemble(qps)
	setStopReason(res, ag)
	combinedAt := start.At
	if len(in.starts) > last {
		combinedAt = in.starts[last].At
	}
	hlog, err := hlogs(m, res.Workloads, combinedAt, res.DurationS)
	if err != nil {
		return nil, err
	}
	return &Result{Results: res, Hlog: hlog, Merge: m}, nil
}

// isolatedWorkloads returns the workloads of the isolated windows' merges
// (durS seconds each), by name.
func isolatedWorkloads(merges []*record.Merge, agents []*agentTrack, durS float64) map[string]report.Workload {
	iso := map[string]report.Workload{}
	for _, im := range merges {
		for _, w := range fullTargets(im.Workloads(durS), im, agents) {
			iso[w.Name] = w
		}
	}
	return iso
}

// hlogs returns the merged HdrHistogram interval log of each of the
// workloads ws in merge m, of a window that started at and lasted durS
// seconds, by workload name.
func hlogs(m *record.Merge, ws []report.Workload, at time.Time, durS float64) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, w := range ws {
		var buf bytes.Buffer
		if err := m.WriteHlog(w.Name, at, durS, &buf); err != nil {
			return nil, err
		}
		out[w.Name] = buf.Bytes()
	}
	return out, nil
}

// agentsSummary is what the agents' tracks say about a run.
type agentsSummary struct {
	// cluster lists the agents, in share order.
	cluster *report.Cluster
	// lost has a line for each agent lost or failed.
	lost []string
	// meta is the view of the first agent that ran without an error; nil
	// when none did.
	meta *FinalMeta
	// durationS is the plan's duration, or the shortest of the agents that
	// stopped early.
	durationS float64
}

// summarizeAgents returns what the tracks of the agents collected say:
// each agent's report entry, the seconds a lost or failed agent's data is
// missing, the first error-free agent's view of the run and the measured
// duration.
func summarizeAgents(in collected) agentsSummary {
	start := in.starts[0]
	last := len(in.merges) - 1
	endSec := int(in.plan.Duration.Seconds() + 0.999999)
	sum := agentsSummary{cluster: &report.Cluster{StartedAt: start.At.UTC()}, durationS: in.plan.Duration.Seconds()}
	for _, t := range in.agents {
		a := report.ClusterAgent{
			Name: t.name, Index: t.index,
			ClockOffsetMs: ms(t.offset), RTTMs: ms(t.rtt),
			Snapshots: len(t.got), Duplicates: t.dups, Rerequested: t.rereq, Lost: t.lost,
		}
		if t.meta != nil {
			a.Error = t.meta.Error
			a.Resent = t.meta.Resent
			a.Partial = t.meta.Partial
			if !t.meta.StartedAt.IsZero() {
				// Agent clock -> coordinator clock.
				a.StartLagMs = ms(t.meta.StartedAt.Add(-t.offset).Sub(start.At))
			}
			if t.meta.Error == "" && sum.meta == nil {
				sum.meta = t.meta
			}
			if t.meta.Partial && t.meta.DurationS < sum.durationS {
				sum.durationS = t.meta.DurationS
			}
		}
		if t.lost || (t.meta != nil && t.meta.Error != "") {
			sum.lost = append(sum.lost, missingData(t, &a, endSec, last, in.windowNames, len(in.agents)))
		}
		sum.cluster.Agents = append(sum.cluster.Agents, a)
	}
	return sum
}

// missingData sets in a which seconds, of which window, of lost or failed
// agent t's data are missing, and returns the line that says so. endSec
// is the whole seconds of a window, last the combined window's index,
// names the windows' names and agents how many agents ran.
func missingData(t *agentTrack, a *report.ClusterAgent, endSec, last int, names []string, agents int) string {
	from, win := 0, 0
	if n := t.contiguous(); n > 0 {
		from, win = t.through[n], t.windowOf[n]
	}
	if t.meta != nil && t.meta.Error != "" {
		from, win = 0, 0
	}
	if from >= endSec && win < last { // its window was complete: the next one is missing
		from, win = 0, win+1
	}
	if from < endSec {
		a.MissingFromS, a.MissingToS = from, endSec
	}
	where := ""
	if last > 0 {
		a.MissingWindow = windowName(names, win)
		where = " of window " + a.MissingWindow
		if win < last {
			where += " and every window after it"
		}
	}
	return fmt.Sprintf("agent %s (share %d of %d) %s: seconds %d-%d of %d%s missing",
		t.name, t.index+1, agents, lostWhy(t), from, endSec, endSec, where)
}

// windowName is the name of window k: the one its snapshots gave, or its
// 1-based number.
func windowName(names []string, k int) string {
	if names[k] != "" {
		return names[k]
	}
	return fmt.Sprintf("%d", k+1)
}

// setStopReason marks res partial when an agent stopped early
// ("interrupted") or was lost or failed (report.StopAgentLost, which
// wins).
func setStopReason(res *report.Results, ag agentsSummary) {
	for _, a := range ag.cluster.Agents {
		if a.Partial && !a.Lost {
			res.Partial = true
			res.StopReason = "interrupted"
			res.StopDetail = "agent " + a.Name + " stopped early"
		}
	}
	if len(ag.lost) > 0 {
		res.Partial = true
		res.StopReason = report.StopAgentLost
		res.StopDetail = strings.Join(ag.lost, "; ")
	}
}

// fullTargets sets each workload's TargetPerS to the full rate: each of
// the agents sends rate/N.
func fullTargets(ws []report.Workload, m *record.Merge, agents []*agentTrack) []report.Workload {
	for i := range ws {
		for _, t := range agents {
			for _, sw := range m.SourceWorkloads(t.name) {
				if sw.Name == ws[i].Name {
					ws[i].TargetPerS = sw.TargetPerS * float64(len(agents))
				}
			}
			if ws[i].TargetPerS > 0 {
				break
			}
		}
	}
	return ws
}

// lostWhy says why agent t's data is missing.
func lostWhy(t *agentTrack) string {
	switch {
	case t.meta != nil && t.meta.Error != "":
		return "failed: " + t.meta.Error
	case t.final > 0:
		return "lost snapshots"
	default:
		return "went silent"
	}
}

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
