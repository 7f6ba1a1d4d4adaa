package render_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/kmsload/kmsload/internal/reporttest"
	"github.com/kmsload/kmsload/render"
	"github.com/kmsload/kmsload/report"
)

func TestWriteTextVerdict(t *testing.T) {
	const b = "111111111111/us-east-1/symmetric"
	mk := func(name, key string, attempts, throttled int64) report.Workload {
		return report.Workload{Name: name, Key: key, Bucket: b, Attempts: attempts, ThrottledAttempts: throttled}
	}
	tests := []struct {
		name    string
		ws      []report.Workload
		partial bool
		want    []string
		wantNot []string
	}{
		{
			name: "different keys throttled",
			ws:   []report.Workload{mk("a", "k1", 1000, 100), mk("b", "k2", 1000, 50)},
			want: []string{"throttled 7.5% of its 2000 attempts", "It is shared by a and b.",
				"(a on key k1 and b on key k2)", "throttling followed the bucket (caller account x Region x class), not the key."},
		},
		{
			name:    "same key throttled",
			ws:      []report.Workload{mk("a", "k1", 1000, 100), mk("b", "k1", 1000, 50), mk("c", "k2", 1000, 0)},
			want:    []string{"It is shared by a, b and c.", "(a and b) all use key k1", "cannot tell the bucket from the key"},
			wantNot: []string{"followed the bucket"},
		},
		{
			name:    "one workload",
			ws:      []report.Workload{mk("a", "k1", 1000, 100)},
			want:    []string{"Only a uses it. a was throttled."},
			wantNot: []string{"followed the bucket"},
		},
		{
			// Two keys in one custom key store: the store throttled them,
			// their class bucket did not.
			name: "custom key store throttled",
			ws: []report.Workload{
				{Name: "a", Key: "k1", Bucket: b, Attempts: 1000, ThrottledAttempts: 200, BucketAttempts: map[string]report.BucketAttempts{
					b: {Attempts: 1000}, "-/us-east-1/cks:hsm": {Attempts: 1000, Throttled: 200}}},
				{Name: "b", Key: "k2", Bucket: b, Attempts: 1000, ThrottledAttempts: 100, BucketAttempts: map[string]report.BucketAttempts{
					b: {Attempts: 1000}, "-/us-east-1/cks:hsm": {Attempts: 1000, Throttled: 100}}},
				mk("c", "k3", 1000, 0),
			},
			want: []string{"Bucket -/us-east-1/cks:hsm (custom key store hsm, Region us-east-1, shared by every caller) throttled 15.0% of its 2000 attempts",
				"throttling followed the custom key store's bucket, not the key."},
			wantNot: []string{"Bucket " + b},
		},
		{
			name:    "below the verdict threshold",
			ws:      []report.Workload{mk("a", "k1", 1000, 5), mk("b", "k2", 1000, 0)},
			partial: true,
			want:    []string{"No quota bucket throttled more than 0.5% of its attempts.", "PARTIAL"},
			wantNot: []string{"Bucket " + b},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &report.Results{Schema: report.Schema, Workloads: tt.ws, DurationS: 10,
				Buckets: report.Buckets(tt.ws, 10, nil), Partial: tt.partial}
			var buf bytes.Buffer
			if err := render.WriteText(&buf, r); err != nil {
				t.Fatalf("WriteText error: %v", err)
			}
			// Join the wrapped verdict lines to match phrases across breaks.
			flat := strings.Join(strings.Fields(buf.String()), " ")
			for _, w := range tt.want {
				if !strings.Contains(flat, w) {
					t.Errorf("WriteText output lacks %q:\n%s", w, buf.String())
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(flat, w) {
					t.Errorf("WriteText output has %q:\n%s", w, buf.String())
				}
			}
		})
	}
}

type failWriter struct{ n int }

var errWrite = errors.New("disk full")

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errWrite
	}
	f.n--
	return len(p), nil
}

func TestWriteTextErrors(t *testing.T) {
	if err := render.WriteText(&bytes.Buffer{}, nil); err == nil {
		t.Errorf("WriteText(nil) = nil; want an error")
	}
	for _, n := range []int{0, 3, 12} {
		err := render.WriteText(&failWriter{n: n}, reporttest.Example())
		if !errors.Is(err, errWrite) {
			t.Errorf("WriteText(writer failing after %d writes) = %v; want an error wrapping %v", n, err, errWrite)
		}
	}
}

func TestWriteTextPartialReason(t *testing.T) {
	tests := []struct {
		res  report.Results
		want string
	}{
		{report.Results{Partial: true}, "the run was interrupted; numbers cover"},
		{report.Results{Partial: true, StopReason: "interrupted"}, "the run was interrupted; numbers cover"},
		{report.Results{Partial: true, StopReason: "max-requests"}, "the run stopped early (max-requests); numbers cover"},
		{report.Results{Partial: true, StopReason: "max-requests", StopDetail: "200 requests sent (--max-requests 200)"},
			"the run stopped early: 200 requests sent (--max-requests 200); numbers cover"},
	}
	for _, tt := range tests {
		var b strings.Builder
		if err := render.WriteText(&b, &tt.res); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), tt.want) {
			t.Errorf("WriteText(stop %q/%q) lacks %q:\n%s", tt.res.StopReason, tt.res.StopDetail, tt.want, b.String())
		}
	}
}

// TestWriteTextTeams: a workload's team stands beside its name, and the
// table says so only when some workload has one.
func TestWriteTextTeams(t *testing.T) {
	r := reporttest.Example()
	var plain bytes.Buffer
	if err := render.WriteText(&plain, r); err != nil {
		t.Fatal(err)
	}
	r.Workloads[0].Team = "data-platform"
	var teamed bytes.Buffer
	if err := render.WriteText(&teamed, r); err != nil {
		t.Fatal(err)
	}
	name := r.Workloads[0].Name
	if !strings.Contains(teamed.String(), "\n  "+name+" (data-platform) ") || !strings.Contains(teamed.String(), "Workloads (workload (team); ") {
		t.Errorf("summary lacks %s's team:\n%s", name, teamed.String())
	}
	if strings.Contains(plain.String(), "(team)") {
		t.Errorf("summary without teams mentions them:\n%s", plain.String())
	}
}
