package study_test

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/scenario"
	"github.com/kmsload/kmsload/study"
)

// sharedKeyRun is a run of two prod workloads on one key, over quota, and
// a dev workload alone in its account.
func sharedKeyRun() study.Run {
	ws := []report.Workload{
		{Name: "ingest", Caller: "prod", Key: "env-prod", Bucket: "111111111111/us-east-1/symmetric", TargetPerS: 300,
			Attempts: 1000, ThrottledAttempts: 300, GoodputPerS: 210, LatencyMs: report.Percentiles{P99: 1500}},
		{Name: "orders", Caller: "prod", Key: "env-prod", Bucket: "111111111111/us-east-1/symmetric", TargetPerS: 100,
			Attempts: 400, ThrottledAttempts: 120, GoodputPerS: 70, LatencyMs: report.Percentiles{P99: 1900}},
		{Name: "dev", Caller: "dev", Key: "env-dev", Bucket: "100000000001/us-east-1/symmetric", TargetPerS: 100,
			Attempts: 300, GoodputPerS: 100, LatencyMs: report.Percentiles{P99: 2}},
	}
	iso := map[string]report.Workload{
		"ingest": {Name: "ingest", GoodputPerS: 300, Attempts: 900, LatencyMs: report.Percentiles{P99: 2}},
		"orders": {Name: "orders", GoodputPerS: 100, Attempts: 300, LatencyMs: report.Percentiles{P99: 3}},
		"dev":    {Name: "dev", GoodputPerS: 100, Attempts: 300, LatencyMs: report.Percentiles{P99: 2}},
	}
	res := &report.Results{
		Scenario:  report.ScenarioInfo{Name: "shared", File: "shared.yaml", Description: "One key for prod: the claim is that it couples.", Scale: 0.004},
		DurationS: 3,
		Workloads: ws,
		Isolated:  iso,
		Coupling:  report.ComputeCoupling(iso, ws),
		Buckets: report.Buckets(ws, 3, func(string) float64 {
			return 400
		}),
	}
	return study.Run{Results: res, MonthlyCostUSD: 1234.5}
}

func TestSummarize(t *testing.T) {
	l := study.Summarize(sharedKeyRun())
	if l.Name != "shared" || l.Claim == "" || len(l.Workloads) != 3 || len(l.Buckets) != 2 {
		t.Fatalf("Summarize = %+v; want 3 workloads in 2 buckets with the claim", l)
	}
	if !l.HasCoupling || l.MaxCouplingWorkload != "ingest" || l.MaxCoupling < 0.299 || l.MaxCoupling > 0.301 {
		t.Errorf("max coupling = %v %.3f (%s); want 0.300 (ingest)", l.HasCoupling, l.MaxCoupling, l.MaxCouplingWorkload)
	}
	if l.WorstThrottledWorkload != "ingest" || l.WorstThrottled != 0.3 {
		t.Errorf("worst throttled = %.3f (%s); want 0.3 (ingest)", l.WorstThrottled, l.WorstThrottledWorkload)
	}
	if l.WorstP99Workload != "orders" || l.WorstP99Ms != 1900 {
		t.Errorf("worst p99 = %.0f (%s); want 1900 (orders)", l.WorstP99Ms, l.WorstP99Workload)
	}
	b := l.Blast
	if b.Key != "env-prod" || len(b.Workloads) != 2 || b.Total != 3 || b.TrafficShare != 0.8 || len(b.Accounts) != 1 {
		t.Errorf("Blast = %+v; want env-prod: 2 of 3 workloads, 80%% of traffic, 1 account", b)
	}
	if got, want := b.String(), "env-prod: 2 of 3 workloads (80% of traffic, 1 account)"; got != want {
		t.Errorf("Blast.String() = %q; want %q", got, want)
	}
	v := strings.Join(l.Verdict, "\n")
	for _, want := range []string{
		"Throughput is coupled: ingest lost 30% of its goodput",
		"with orders on the same key env-prod",
		"Throttled only beside the others: ingest (throttled 0% alone, 30% together",
		"orders (throttled 0% alone, 30% together; p99 3 ms, then 1900 ms)",
		"Blast radius: losing key env-prod stops 2 of 3 workloads (ingest, orders; 80% of the traffic, from 1 account).",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("Verdict lacks %q:\n%s", want, v)
		}
	}
	p := strings.Join(l.Planning, "\n")
	for _, want := range []string{
		"111111111111/us-east-1/symmetric: 116,667 attempts/s against a quota of 100,000/s at real size (117%)",
		"Over quota: 111111111111/us-east-1/symmetric.",
	} {
		if !strings.Contains(p, want) {
			t.Errorf("Planning lacks %q:\n%s", want, p)
		}
	}
}

func TestSummarizeDecoupledAndKeyStore(t *testing.T) {
	ws := []report.Workload{
		{Name: "card", Caller: "pay", Key: "hsm", Bucket: "6/us-east-1/symmetric", TargetPerS: 150, Attempts: 600, ThrottledAttempts: 150, GoodputPerS: 150,
			BucketAttempts: map[string]report.BucketAttempts{"6/us-east-1/symmetric": {Attempts: 600}, "-/us-east-1/cks:cks-1": {Attempts: 600, Throttled: 150}}},
		{Name: "orders", Caller: "pay", Key: "std", Bucket: "6/us-east-1/symmetric", TargetPerS: 500, Attempts: 1500, GoodputPerS: 500},
	}
	iso := map[string]report.Workload{"card": ws[0], "orders": ws[1]}
	s := scenario.NewScenario()
	s.Keys["hsm"] = scenario.Key{Name: "hsm", CustomKeyStore: "cks-1"}
	s.Keys["std"] = scenario.Key{Name: "std"}
	l := study.Summarize(study.Run{Scenario: s, MonthlyCostUSD: -1, Results: &report.Results{
		Scenario: report.ScenarioInfo{Name: "cks", Scale: 0.1}, DurationS: 3, Workloads: ws, Isolated: iso,
		Coupling: report.ComputeCoupling(iso, ws),
		Buckets:  report.Buckets(ws, 3, func(string) float64 { return 10000 }),
	}})
	v := strings.Join(l.Verdict, "\n")
	for _, want := range []string{
		"Throughput is not coupled: no workload lost more than 0.0% of its goodput",
		"Worst throttling: card, 25% of its attempts; bucket -/us-east-1/cks:cks-1 ran at 2% of its quota and throttled 25% (workloads card)",
		"that is custom key store cks-1's own bucket, charged besides the callers' class buckets",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("Verdict lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "Throttled only beside the others") {
		t.Errorf("Verdict names a workload throttled only together; card was throttled alone too:\n%s", v)
	}
	if !strings.Contains(strings.Join(l.Planning, "\n"), "Over quota") {
		t.Errorf("Planning = %q; want the throttled bucket named", l.Planning)
	}
	var buf bytes.Buffer
	if err := study.WriteText(&buf, []study.Layout{l}); err != nil || !strings.Contains(buf.String(), "  cks  ") || !strings.Contains(buf.String(), "cost/month") {
		t.Errorf("WriteText = %v:\n%s", err, buf.String())
	}
	if !strings.Contains(buf.String(), "-\n") {
		t.Errorf("WriteText: unknown cost not shown as -:\n%s", buf.String())
	}
}

func TestWriteMarkdown(t *testing.T) {
	l := study.Summarize(sharedKeyRun())
	var buf bytes.Buffer
	if err := study.WriteMarkdown(&buf, "Layouts", "Generated.", []study.Layout{l}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"# Layouts\n\nGenerated.\n",
		"| [shared](#shared) | 3 | 2 | 30.0% (ingest) | 30.0% (ingest) | 1900 ms (orders) | env-prod: 2 of 3 workloads (80% of traffic, 1 account) | $1,234 |",
		"## shared\n\n**Claim.** One key for prod: the claim is that it couples.",
		"| orders | prod | env-prod | `111111111111/us-east-1/symmetric` | 30.0% | 30.0% | 1900 ms | 70.0 |",
		"**Capacity planning.**",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("WriteMarkdown lacks %q:\n%s", want, out)
		}
	}
}

func Example() {
	l := study.Summarize(sharedKeyRun())
	study.WriteText(os.Stdout, []study.Layout{l})
	// Output:
	// Layouts (coupling = 1 - goodput together / goodput alone; thr% = throttled attempts / attempts; cost at real size)
	//   layout  workloads  buckets  max coupling    worst thr%     worst p99ms      largest blast radius                                    cost/month
	//   shared  3          2        30.0% (ingest)  30.0 (ingest)  1900.0 (orders)  env-prod: 2 of 3 workloads (80% of traffic, 1 account)  $1,234
	//
	// Workloads
	//   layout  workload  caller  key       bucket                            coupling%  thr%  p99ms   goodput/s
	//   shared  ingest    prod    env-prod  111111111111/us-east-1/symmetric  30.0       30.0  1500.0  210.0
	//   shared  orders    prod    env-prod  111111111111/us-east-1/symmetric  30.0       30.0  1900.0  70.0
	//   shared  dev       dev     env-dev   100000000001/us-east-1/symmetric  0.0        0.0   2.0     100.0
	//
	// Verdicts
	//   shared
	//     claim:    One key for prod: the claim is that it couples.
	//     measured: Throughput is coupled: ingest lost 30% of its goodput when the others ran; it shares bucket 111111111111/us-east-1/symmetric with orders on the same key env-prod.
	//               Throttled only beside the others: ingest (throttled 0% alone, 30% together; p99 2 ms, then 1500 ms); orders (throttled 0% alone, 30% together; p99 3 ms, then 1900 ms).
	//               Worst throttling: ingest, 30% of its attempts; bucket 111111111111/us-east-1/symmetric ran at 117% of its quota and throttled 30% (workloads ingest, orders).
	//               Blast radius: losing key env-prod stops 2 of 3 workloads (ingest, orders; 80% of the traffic, from 1 account).
}

func TestSummarizeShiftTraffic(t *testing.T) {
	s := scenario.NewScenario()
	s.Events = []scenario.Event{{At: 2 * time.Second, Action: scenario.ActionShiftTraffic, Workload: "reports", ToRegion: "ca-central-1"}}
	ws := []report.Workload{{Name: "reports", Caller: "prod", Key: "k", Bucket: "1/us-east-1/symmetric", TargetPerS: 100,
		Attempts: 500, ThrottledAttempts: 100, BucketAttempts: map[string]report.BucketAttempts{
			"1/us-east-1/symmetric":    {Attempts: 200},
			"1/ca-central-1/symmetric": {Attempts: 300, Throttled: 100},
		}, Series: []report.Second{
			{T: 0, Attempts: 100}, {T: 1, Attempts: 100}, {T: 2, Attempts: 150, ThrottledAttempts: 50}, {T: 3, Attempts: 150, ThrottledAttempts: 50},
		}}}
	l := study.Summarize(study.Run{Scenario: s, MonthlyCostUSD: -1, Results: &report.Results{
		Scenario: report.ScenarioInfo{Name: "dr", Scale: 0.01}, DurationS: 4, Workloads: ws,
		Buckets: report.Buckets(ws, 4, func(string) float64 { return 1000 }),
	}})
	if len(l.Moves) != 1 || l.Moves[0].ThrottledBefore != 0 || l.Moves[0].ThrottledAfter != 1.0/3 {
		t.Fatalf("Moves = %+v; want reports: 0 before, 1/3 after", l.Moves)
	}
	v := strings.Join(l.Verdict, "\n")
	for _, want := range []string{
		"reports moved to ca-central-1 at 2.0 s: 0% of its attempts throttled before, 33% after.",
		// The throttling is charged to the bucket of the Region the traffic moved to.
		"Worst throttling: reports, 20% of its attempts; bucket 1/ca-central-1/symmetric",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("Verdict lacks %q:\n%s", want, v)
		}
	}
}

func TestDisambiguate(t *testing.T) {
	ls := []study.Layout{{Name: "a", File: "x/a.yaml"}, {Name: "a", File: "y/a.yaml"}, {Name: "b", File: "b.yaml"}}
	study.Disambiguate(ls)
	if ls[0].Name != "a (x/a.yaml)" || ls[1].Name != "a (y/a.yaml)" || ls[2].Name != "b" {
		t.Errorf("names = %q, %q, %q; want the shared name with its file, the other unchanged", ls[0].Name, ls[1].Name, ls[2].Name)
	}
}

func TestSummarizeShortWindowsInconclusive(t *testing.T) {
	ws := []report.Workload{{Name: "a", Bucket: "1/us-east-1/symmetric", GoodputPerS: 100, Series: series2(100, 100)}}
	iso := map[string]report.Workload{"a": ws[0]}
	r := &report.Results{Scenario: report.ScenarioInfo{Name: "short", Scale: 1}, DurationS: 2, Workloads: ws, Isolated: iso,
		Coupling: report.ComputeCoupling(iso, ws)}
	r.AssessCoupling()
	l := study.Summarize(study.Run{Results: r, MonthlyCostUSD: -1})
	v := strings.Join(l.Verdict, "\n")
	if !strings.Contains(v, "Coupling is INCONCLUSIVE") || strings.Contains(v, "Throughput is not coupled") {
		t.Errorf("2-second windows: verdict\n%s\nwant INCONCLUSIVE, not \"not coupled\"", v)
	}
}

func series2(gs ...int64) []report.Second {
	out := make([]report.Second, len(gs))
	for i, g := range gs {
		out[i] = report.Second{T: i, OK: g}
	}
	return out
}
