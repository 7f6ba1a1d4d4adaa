// Package reporttest builds results for the tests of the results model
// and of its renderings.
package reporttest

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/kmsload/kmsload/record"
	"github.com/kmsload/kmsload/report"
)

// Long is a run of two workloads on one bucket with seconds
// seconds of per-second series, as a long run writes them.
func Long(t testing.TB, seconds int) *report.Results {
	t.Helper()
	const bucket = "111111111111/us-east-1/symmetric"
	h := hdr.New(1, 60_000_000, 3)
	for i := range 5000 {
		h.RecordValue(int64(500 + i*i%100_000))
	}
	enc, err := h.Encode(hdr.V2CompressedEncodingCookieBase)
	if err != nil {
		t.Fatal(err)
	}
	r := &report.Results{
		Schema:    report.Schema,
		Scenario:  report.ScenarioInfo{Name: "long", Scale: 1},
		Target:    report.TargetInfo{Kind: "simulated", QuotaModel: "fixed-window"},
		StartedAt: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
		DurationS: float64(seconds),
		Events:    []report.Event{{AtS: float64(seconds) / 2, Action: "disable-key", Key: "k0"}},
	}
	for w := range 2 {
		wl := report.Workload{Name: fmt.Sprintf("w%d", w), Operation: "Decrypt", Key: fmt.Sprintf("k%d", w),
			Bucket: bucket, Histogram: string(enc), Errors: map[string]int64{}}
		for s := range seconds {
			sent := int64(800 + 300*w + (s*37+w*11)%97)
			thr := int64(max(0, (s*53+w*7)%211-150))
			wl.Series = append(wl.Series, report.Second{T: s, Sent: sent, OK: sent - thr, Throttled: thr / 4,
				Attempts: sent + thr, ThrottledAttempts: thr, P99Ms: float64((s*13)%400) / 7})
			wl.Requests += sent
			wl.OK += sent - thr
			wl.Attempts += sent + thr
			wl.ThrottledAttempts += thr
		}
		wl.SentPerS = float64(wl.Requests) / float64(seconds)
		wl.GoodputPerS = float64(wl.OK) / float64(seconds)
		r.Workloads = append(r.Workloads, wl)
	}
	r.Buckets = report.Buckets(r.Workloads, float64(seconds), func(string) float64 { return 2000 })
	return r
}

// Example is a hand-built run of a layout with one key per service
// in one account, plus a billing service calling from another account.
func Example() *report.Results {
	const prod = "111111111111/us-east-1/symmetric"
	const sec = "999999999999/us-east-1/symmetric"
	ws := []report.Workload{
		{Name: "s3-ingest", Operation: "GenerateDataKey", Key: "ingest", Caller: "prod", CallerAccount: "111111111111",
			Region: "us-east-1", Bucket: prod, TargetPerS: 600, Requests: 36000, OK: 35400, ThrottledRequests: 400,
			Attempts: 45000, ThrottledAttempts: 9400, Errors: map[string]int64{"ThrottlingException": 400, "QuotaExceededError": 200},
			SentPerS: 600, GoodputPerS: 590, LatencyMs: report.Percentiles{P50: 2.1, P90: 40, P99: 180.5, P999: 420, Max: 900},
			ServiceMs: report.Percentiles{P99: 3.2}},
		{Name: "orders-api", Operation: "Decrypt", Key: "orders", Caller: "prod", CallerAccount: "111111111111",
			Region: "us-east-1", Bucket: prod, TargetPerS: 300, Requests: 17400, OK: 12000, ThrottledRequests: 4800,
			Attempts: 30000, ThrottledAttempts: 12600, Errors: map[string]int64{"ThrottlingException": 4800, "DisabledException": 600},
			Dropped: 600, SentPerS: 290, GoodputPerS: 200, LatencyMs: report.Percentiles{P50: 1.8, P90: 30, P99: 150.25, P999: 380, Max: 800},
			ServiceMs: report.Percentiles{P99: 2.9},
			Series:    []report.Second{{T: 20, Failed: 300}, {T: 21, Failed: 300}},
			FailedBySecond: []report.SecondCode{{T: 20, Code: "DisabledException", Count: 300},
				{T: 21, Code: "DisabledException", Count: 300}}},
		{Name: "billing", Operation: "Encrypt", Key: "orders", Caller: "security", CallerAccount: "999999999999",
			Region: "us-east-1", Bucket: sec, TargetPerS: 50, Requests: 3000, OK: 2000, Attempts: 3000,
			CacheHits: 1000, Errors: map[string]int64{}, SentPerS: 50, GoodputPerS: 50,
			LatencyMs: report.Percentiles{P50: 1.2, P90: 1.9, P99: 3, P999: 5, Max: 9}, ServiceMs: report.Percentiles{P99: 2.5}},
	}
	isolated := map[string]report.Workload{
		"s3-ingest":  {Name: "s3-ingest", GoodputPerS: 600, Attempts: 36000, LatencyMs: report.Percentiles{P99: 2.5}},
		"orders-api": {Name: "orders-api", GoodputPerS: 290, Attempts: 17400, LatencyMs: report.Percentiles{P99: 2}},
		"billing":    {Name: "billing", GoodputPerS: 50, Attempts: 3000, LatencyMs: report.Percentiles{P99: 3}},
	}
	quota := map[string]float64{prod: 1000, sec: 1000}
	return &report.Results{
		Schema:    report.Schema,
		Scenario:  report.ScenarioInfo{Name: "key-per-service", File: "scenarios/key-per-service.yaml", Scale: 0.01, Seed: 1},
		Target:    report.TargetInfo{Kind: "embedded", QuotaModel: "fixed-window", QuotasAppliedBy: "kmsload"},
		StartedAt: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
		DurationS: 60,
		Workloads: ws,
		Buckets:   report.Buckets(ws, 60, func(b string) float64 { return quota[b] }),
		Coupling:  report.ComputeCoupling(isolated, ws),
		Isolated:  isolated,
		Events: []report.Event{
			{AtS: 20, Action: "disable-key", Key: "orders", Affected: report.BlastRadius(20, ws)},
			{AtS: 22, Action: "enable-key", Key: "orders", Affected: report.BlastRadius(22, ws)},
		},
	}
}

// Thresholds has a throttled workload, a clean one and one that saw
// no arrivals, at scale 0.01.
func Thresholds() *report.Results {
	return &report.Results{
		Scenario:  report.ScenarioInfo{Name: "t", Scale: 0.01},
		DurationS: 10,
		Workloads: []report.Workload{
			{Name: "busy", TargetPerS: 800, Requests: 8000, OK: 7000, ThrottledRequests: 400, Attempts: 10000, ThrottledAttempts: 2400,
				Errors:  map[string]int64{"ThrottlingException": 400, "QuotaExceededError": 600},
				Dropped: 2000, SentPerS: 800, GoodputPerS: 700,
				LatencyMs: report.Percentiles{P50: 0.8, P90: 20, P99: 975.5, P999: 2783, Max: 3000}},
			{Name: "quiet", Requests: 1000, OK: 1000, Attempts: 1000, Errors: map[string]int64{},
				SentPerS: 100, GoodputPerS: 100, LatencyMs: report.Percentiles{P50: 0.7, P99: 1.5, P999: 2, Max: 4}},
			{Name: "idle", Errors: map[string]int64{}},
		},
	}
}

// AllocBytes returns the fewest bytes one call of write allocated, over
// three calls after a first that loads what is loaded once (templates,
// fonts). Pools are emptied before each call, as in a process that
// writes one report.
func AllocBytes(t *testing.T, r *report.Results, write func(io.Writer, *report.Results) error) uint64 {
	t.Helper()
	if err := write(io.Discard, r); err != nil {
		t.Fatal(err)
	}
	best := uint64(math.MaxUint64)
	for range 3 {
		var before, after runtime.MemStats
		runtime.GC() // twice: sync.Pool keeps a victim cache for one cycle
		runtime.GC()
		runtime.ReadMemStats(&before)
		err := write(io.Discard, r)
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		best = min(best, after.TotalAlloc-before.TotalAlloc)
	}
	return best
}

// T0 is the start of the recorded windows of tests.
var T0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// At returns T0 plus s seconds.
func At(s float64) time.Time { return T0.Add(time.Duration(s * float64(time.Second))) }

// Infos describes one Decrypt workload per name, each on key k-NAME, from
// account prod in us-east-1 at 100/s.
func Infos(names ...string) []record.WorkloadInfo {
	out := make([]record.WorkloadInfo, len(names))
	for i, n := range names {
		out[i] = record.WorkloadInfo{Name: n, Operation: "Decrypt", Key: "k-" + n,
			Caller: "prod", CallerAccount: "111111111111", Region: "us-east-1",
			Bucket: "111111111111/us-east-1/symmetric", TargetPerS: 100}
	}
	return out
}
