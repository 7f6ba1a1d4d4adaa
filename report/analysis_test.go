package report_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/kmsload/kmsload/failure"
	"github.com/kmsload/kmsload/record"
	"github.com/kmsload/kmsload/report"
)

const (
	prodSym = "111111111111/us-east-1/symmetric"
	secSym  = "999999999999/us-east-1/symmetric"
)

func wl(name, bucket, key string, attempts, throttled int64) report.Workload {
	return report.Workload{Name: name, Bucket: bucket, Key: key, Attempts: attempts, ThrottledAttempts: throttled}
}

func TestBuckets(t *testing.T) {
	quota := func(b string) float64 { return map[string]float64{prodSym: 100, secSym: 50}[b] }
	tests := []struct {
		name  string
		ws    []report.Workload
		dur   float64
		quota func(string) float64
		want  []report.Bucket
	}{
		{
			name: "two buckets, shared key and two keys",
			ws: []report.Workload{
				wl("s3-ingest", prodSym, "env-prod", 600, 100),
				wl("orders-api", prodSym, "orders", 300, 30),
				wl("billing", secSym, "env-prod", 100, 0),
				wl("random", prodSym, "", 100, 0),
				wl("unbucketed", "", "x", 5, 0),
			},
			dur:   10,
			quota: quota,
			want: []report.Bucket{
				{Name: prodSym, Account: "111111111111", Region: "us-east-1", Class: "symmetric",
					QuotaPerS: 100, DemandPerS: 100, Allowed: 870, Throttled: 130,
					Workloads: []string{"orders-api", "random", "s3-ingest"}, Keys: []string{"env-prod", "orders"}},
				{Name: secSym, Account: "999999999999", Region: "us-east-1", Class: "symmetric",
					QuotaPerS: 50, DemandPerS: 10, Allowed: 100, Throttled: 0,
					Workloads: []string{"billing"}, Keys: []string{"env-prod"}},
			},
		},
		{
			name: "no duration, no quota function, not a bucket name",
			ws:   []report.Workload{wl("a", "acct/eu-west-1", "k", 10, 2), wl("b", "acct/eu-west-1", "k", 10, 0)},
			want: []report.Bucket{{Name: "acct/eu-west-1",
				Allowed: 18, Throttled: 2, Workloads: []string{"a", "b"}, Keys: []string{"k"}}},
		},
		{name: "empty", want: []report.Bucket{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := report.Buckets(tt.ws, tt.dur, tt.quota)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Buckets() =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestComputeCoupling(t *testing.T) {
	mk := func(name, bucket, key string, goodput float64, attempts, throttled int64, p99 float64) report.Workload {
		w := wl(name, bucket, key, attempts, throttled)
		w.GoodputPerS = goodput
		w.LatencyMs.P99 = p99
		return w
	}
	isolated := map[string]report.Workload{
		"noisy": mk("noisy", prodSym, "env-prod", 80, 1000, 200, 20),
		"quiet": mk("quiet", prodSym, "orders", 10, 100, 0, 5),
		"other": mk("other", secSym, "env-prod", 0, 0, 0, 0),
	}
	combined := []report.Workload{
		mk("noisy", prodSym, "env-prod", 70, 1000, 300, 40),
		mk("quiet", prodSym, "orders", 4, 100, 60, 300),
		mk("other", secSym, "env-prod", 5, 50, 0, 3),
		mk("new", secSym, "", 5, 50, 0, 3),
	}
	want := []report.Coupling{
		{Workload: "noisy", Bucket: prodSym, IsolatedGoodputPerS: 80, CombinedGoodputPerS: 70,
			IsolatedThrottledShare: 0.2, CombinedThrottledShare: 0.3, IsolatedP99Ms: 20, CombinedP99Ms: 40,
			Coupling: 1 - 70.0/80, SharesBucketWith: []string{"quiet"}, SharesKeyWith: []string{"other"}},
		{Workload: "quiet", Bucket: prodSym, IsolatedGoodputPerS: 10, CombinedGoodputPerS: 4,
			IsolatedThrottledShare: 0, CombinedThrottledShare: 0.6, IsolatedP99Ms: 5, CombinedP99Ms: 300,
			Coupling: 1 - 4.0/10, SharesBucketWith: []string{"noisy"}, SharesKeyWith: []string{}},
		{Workload: "other", Bucket: secSym, CombinedGoodputPerS: 5, CombinedP99Ms: 3,
			Coupling: 0, SharesBucketWith: []string{"new"}, SharesKeyWith: []string{"noisy"}},
	}
	got := report.ComputeCoupling(isolated, combined)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ComputeCoupling() =\n%+v\nwant\n%+v", got, want)
	}
}

func TestBlastRadius(t *testing.T) {
	series := func(failed ...int64) []report.Second {
		s := make([]report.Second, len(failed))
		for i, f := range failed {
			s[i] = report.Second{T: i, Failed: f}
		}
		return s
	}
	ws := []report.Workload{
		{Name: "orders", Series: series(0, 1, 0, 5, 5, 0, 2, 0),
			FailedBySecond: []report.SecondCode{
				{T: 1, Code: "KMSInternalException", Count: 1},
				{T: 3, Code: "DisabledException", Count: 5},
				{T: 4, Code: "DisabledException", Count: 4},
				{T: 4, Code: failure.CodeQuotaExceeded, Count: 1},
				{T: 6, Code: failure.CodeQuotaExceeded, Count: 2},
			}},
		{Name: "quiet", Series: series(0, 0, 0, 0, 0, 0, 0, 0)},
		{Name: "legacy", Series: series(0, 0, 0, 0, 3, 0, 0, 1)},
		{Name: "early", Series: series(4, 0, 0, 0, 0, 0, 0, 0),
			FailedBySecond: []report.SecondCode{{T: 0, Code: "NotFoundException", Count: 4}}},
	}
	tests := []struct {
		at   float64
		want []report.Impact
	}{
		{at: 3.5, want: []report.Impact{
			{Workload: "orders", FromS: 3, ToS: 4, Failed: 9, Errors: map[string]int64{"DisabledException": 9}},
			{Workload: "legacy", FromS: 4, ToS: 7, Failed: 4},
		}},
		{at: 0, want: []report.Impact{
			{Workload: "orders", FromS: 1, ToS: 4, Failed: 10, Errors: map[string]int64{"DisabledException": 9, "KMSInternalException": 1}},
			{Workload: "legacy", FromS: 4, ToS: 7, Failed: 4},
			{Workload: "early", FromS: 0, ToS: 0, Failed: 4, Errors: map[string]int64{"NotFoundException": 4}},
		}},
		{at: 5, want: []report.Impact{{Workload: "legacy", FromS: 7, ToS: 7, Failed: 1}}},
		{at: 20, want: []report.Impact{}},
	}
	for _, tt := range tests {
		got := report.BlastRadius(tt.at, ws)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("BlastRadius(%v) =\n%+v\nwant\n%+v", tt.at, got, tt.want)
		}
	}
}

func TestBucketsSplitByBucketAttempts(t *testing.T) {
	ws := []report.Workload{
		{Name: "moved", Key: "mrk", Bucket: "1/us-east-1/symmetric", Attempts: 100, ThrottledAttempts: 30,
			BucketAttempts: map[string]report.BucketAttempts{
				"1/us-east-1/symmetric": {Attempts: 40, Throttled: 0},
				"1/us-west-2/symmetric": {Attempts: 60, Throttled: 30},
			}},
		{Name: "stayed", Key: "k", Bucket: "1/us-east-1/symmetric", Attempts: 10, ThrottledAttempts: 1},
	}
	got := report.Buckets(ws, 10, nil)
	want := []report.Bucket{
		{Name: "1/us-east-1/symmetric", Account: "1", Region: "us-east-1", Class: "symmetric",
			DemandPerS: 5, Allowed: 49, Throttled: 1, Workloads: []string{"moved", "stayed"}, Keys: []string{"k", "mrk"}},
		{Name: "1/us-west-2/symmetric", Account: "1", Region: "us-west-2", Class: "symmetric",
			DemandPerS: 6, Allowed: 30, Throttled: 30, Workloads: []string{"moved"}, Keys: []string{"mrk"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Buckets = %+v;\nwant %+v", got, want)
	}
}

func TestRecorderAttemptIn(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	r := record.NewRecorder(t0, []record.WorkloadInfo{{Name: "w", Bucket: "1/us-east-1/symmetric"}})
	r.AttemptIn(0, record.Charge{Bucket: "1/us-east-1/symmetric"}, t0, time.Millisecond, record.OK, "")
	r.AttemptIn(0, record.Charge{Bucket: "1/us-east-1/symmetric"}, t0, time.Millisecond, record.Throttled, "ThrottlingException")
	for range 3 {
		r.AttemptIn(0, record.Charge{Bucket: "1/us-west-2/symmetric"}, t0.Add(time.Second), time.Millisecond, record.Throttled, "ThrottlingException")
	}
	r.AttemptIn(0, record.Charge{Bucket: "1/us-west-2/symmetric"}, t0.Add(time.Second), time.Millisecond, record.OK, "")
	w := r.Finish(t0.Add(2 * time.Second))[0]
	want := map[string]report.BucketAttempts{
		"1/us-east-1/symmetric": {Attempts: 2, Throttled: 1},
		"1/us-west-2/symmetric": {Attempts: 4, Throttled: 3},
	}
	if w.Attempts != 6 || w.ThrottledAttempts != 4 || !reflect.DeepEqual(w.BucketAttempts, want) {
		t.Errorf("Attempts %d, ThrottledAttempts %d, BucketAttempts %v; want 6, 4, %v", w.Attempts, w.ThrottledAttempts, w.BucketAttempts, want)
	}
	// A workload on a key in a custom key store: its attempts count in the
	// class bucket, and in the store's unless the class bucket throttled
	// them; each throttle only where it happened.
	rs := record.NewRecorder(t0, []record.WorkloadInfo{{Name: "w", Bucket: "1/us-east-1/symmetric"}})
	home, store := "1/us-east-1/symmetric", "-/us-east-1/cks:hsm"
	for range 5 {
		rs.AttemptIn(0, record.Charge{Bucket: home, Store: store}, t0, time.Millisecond, record.OK, "")
	}
	rs.AttemptIn(0, record.Charge{Bucket: home, Store: store}, t0, time.Millisecond, record.Throttled, "ThrottlingException")
	for range 2 {
		rs.AttemptIn(0, record.Charge{Bucket: home, Store: store, ByStore: true}, t0, time.Millisecond, record.Throttled, "ThrottlingException")
	}
	ws := rs.Finish(t0.Add(time.Second))[0]
	wantS := map[string]report.BucketAttempts{home: {Attempts: 8, Throttled: 1}, store: {Attempts: 7, Throttled: 2, Weight: 7}}
	if ws.Attempts != 8 || ws.ThrottledAttempts != 3 || !reflect.DeepEqual(ws.BucketAttempts, wantS) {
		t.Errorf("store: Attempts %d, ThrottledAttempts %d, BucketAttempts %v; want 8, 3, %v", ws.Attempts, ws.ThrottledAttempts, ws.BucketAttempts, wantS)
	}
	bs := report.Buckets([]report.Workload{ws}, 1, nil)
	if len(bs) != 2 || bs[0].Name != store || bs[0].Throttled != 2 || bs[0].Allowed != 5 || bs[0].Account != "" || bs[0].Class != "cks:hsm" ||
		bs[1].Name != home || bs[1].Throttled != 1 || bs[1].Allowed != 7 {
		t.Errorf("Buckets = %+v; want the store bucket with 2 of 7 throttled and the class bucket with 1 of 8", bs)
	}
	// A workload that never left its bucket has no split.
	r2 := record.NewRecorder(t0, []record.WorkloadInfo{{Name: "w", Bucket: "b"}})
	r2.AttemptIn(0, record.Charge{Bucket: "b"}, t0, time.Millisecond, record.OK, "")
	if w := r2.Finish(t0.Add(time.Second))[0]; w.BucketAttempts != nil {
		t.Errorf("BucketAttempts = %v; want nil when every attempt went to the workload's bucket", w.BucketAttempts)
	}
}

// TestAssemble: Assemble fills buckets with their quota, every event's
// blast radius, and coupling exactly when workloads also ran alone.
func TestAssemble(t *testing.T) {
	const b = "111111111111/us-east-1/symmetric"
	w := report.Workload{Name: "w", Bucket: b, Attempts: 100, OK: 100, Requests: 100,
		Series: []report.Second{{T: 0, OK: 50, Sent: 50}, {T: 1, OK: 50, Sent: 50}}}
	quotaOf := func(bucket string) float64 {
		if bucket == b {
			return 70
		}
		return 0
	}
	for _, isolated := range []bool{false, true} {
		r := &report.Results{DurationS: 2, Workloads: []report.Workload{w},
			Events: []report.Event{{AtS: 1, Action: "disable-key", Key: "k"}}}
		if isolated {
			r.Isolated = map[string]report.Workload{"w": w}
		}
		r.Assemble(quotaOf)
		if len(r.Buckets) != 1 || r.Buckets[0].QuotaPerS != 70 {
			t.Errorf("isolated %v: buckets %+v; want one with quota 70/s", isolated, r.Buckets)
		}
		if r.Events[0].Affected == nil {
			t.Errorf("isolated %v: event's blast radius not filled", isolated)
		}
		if got := len(r.Coupling); got != map[bool]int{false: 0, true: 1}[isolated] {
			t.Errorf("isolated %v: %d couplings", isolated, got)
		}
	}
}
