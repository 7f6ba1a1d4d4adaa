package report_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kmsload/kmsload/internal/reporttest"
	"github.com/kmsload/kmsload/record"
	"github.com/kmsload/kmsload/render"
	"github.com/kmsload/kmsload/report"
)

// runResults records a small run and builds full results from it.
func runResults(t testing.TB) *report.Results {
	t.Helper()
	r := record.NewRecorder(reporttest.T0, reporttest.Infos("a", "b"))
	for i := 0; i < 30; i++ {
		in := reporttest.At(float64(i) / 10)
		w := i % 2
		r.Sent(w, in)
		r.Attempt(w, in, 2*time.Millisecond, record.OK, "")
		o, code := record.OK, ""
		if i%7 == 0 {
			o, code = record.Failed, "DisabledException"
		}
		r.Done(w, in, in.Add(time.Duration(i)*time.Millisecond), 1, o, code)
	}
	ws := r.Finish(reporttest.At(3))
	res := &report.Results{
		Schema:     report.Schema,
		Scenario:   report.ScenarioInfo{Name: "rt", File: "scenarios/rt.yaml", Scale: 0.01, Seed: 7},
		Target:     report.TargetInfo{Kind: "embedded", QuotaModel: "fixed-window", QuotasAppliedBy: "kmsload", Versions: map[string]string{"go": "go1.26"}},
		StartedAt:  reporttest.T0,
		DurationS:  3,
		Workloads:  ws,
		Buckets:    report.Buckets(ws, 3, func(string) float64 { return 55 }),
		Events:     []report.Event{{AtS: 1, Action: "disable-key", Key: "k-a", Affected: report.BlastRadius(1, ws)}},
		Thresholds: []report.Threshold{{Workload: "a", Expr: "p99 < 50ms", Value: 28.5, Pass: true}},
		Isolated:   map[string]report.Workload{"a": ws[0]},
	}
	res.Coupling = report.ComputeCoupling(res.Isolated, ws)
	return res
}

func TestJSONRoundTrip(t *testing.T) {
	in := runResults(t)
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, in); err != nil {
		t.Fatalf("WriteJSON error: %v", err)
	}
	if !strings.Contains(buf.String(), "\n  \"schema\": \"kmsload.result/v1\",\n") {
		t.Errorf("WriteJSON output is not indented with the schema first:\n%.200s", buf.String())
	}
	out, err := report.ReadJSON(&buf)
	if err != nil {
		t.Fatalf("ReadJSON error: %v", err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Errorf("ReadJSON(WriteJSON(r)) =\n%+v\nwant\n%+v", out, in)
	}
}

func TestReadJSONErrors(t *testing.T) {
	tests := []struct {
		name, in  string
		schemaErr bool
		mention   string
	}{
		{"wrong schema", `{"schema":"kmsload.result/v9","workloads":[]}`, true, `"kmsload.result/v9"`},
		{"no schema", `{"workloads":[]}`, true, "no \"schema\""},
		{"not json", `schema: v1`, false, "report: read results"},
		{"wrong type", `{"schema":"kmsload.result/v1","duration_s":"long"}`, false, "duration_s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := report.ReadJSON(strings.NewReader(tt.in))
			if err == nil {
				t.Fatalf("ReadJSON(%s) = %+v, nil; want an error", tt.in, got)
			}
			if errors.Is(err, report.ErrSchema) != tt.schemaErr {
				t.Errorf("ReadJSON(%s) error %q: errors.Is(ErrSchema) = %v; want %v", tt.in, err, !tt.schemaErr, tt.schemaErr)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("ReadJSON(%s) error %q; want it to mention %s", tt.in, err, tt.mention)
			}
		})
	}
}

func TestWriteJSONDefaultsSchema(t *testing.T) {
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, &report.Results{StartedAt: time.Unix(0, 0).UTC()}); err != nil {
		t.Fatalf("WriteJSON error: %v", err)
	}
	if _, err := report.ReadJSON(&buf); err != nil {
		t.Errorf("ReadJSON(WriteJSON(Results{})) error: %v; want the schema filled in", err)
	}
}

// TestWriteJSONMatchesMarshalIndent checks that WriteJSON, which indents
// while it writes, writes what json.MarshalIndent does, also for strings
// holding JSON punctuation, escapes and HTML, and empty arrays and objects.
func TestWriteJSONMatchesMarshalIndent(t *testing.T) {
	tricky := &report.Results{
		Schema:   report.Schema,
		Scenario: report.ScenarioInfo{Name: `a "quoted" {name}: [x, y]`, Description: "back\\slash \\\" <b>&</b> \u2028 tab\t nl\n é 😀"},
		Workloads: []report.Workload{
			{Name: "w", Errors: map[string]int64{}, Series: []report.Second{}, BucketAttempts: map[string]report.BucketAttempts{"a/b": {Attempts: 1}}},
			{Name: `\\`, Errors: map[string]int64{`"`: 1, "{}": 2, "[]": 3, ",": 4, ":": 5}},
		},
		Buckets:  []report.Bucket{},
		Isolated: map[string]report.Workload{},
	}
	for _, tc := range []struct {
		name string
		r    *report.Results
	}{
		{"recorded", runResults(t)},
		{"fixture", readFixture(t)},
		{"long", reporttest.Long(t, 600)},
		{"tricky strings", tricky},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got bytes.Buffer
			if err := report.WriteJSON(&got, tc.r); err != nil {
				t.Fatalf("WriteJSON error: %v", err)
			}
			want, err := json.MarshalIndent(tc.r, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, '\n')
			if !bytes.Equal(got.Bytes(), want) {
				i := 0
				for i < min(got.Len(), len(want)) && got.Bytes()[i] == want[i] {
					i++
				}
				t.Errorf("WriteJSON differs from json.MarshalIndent at byte %d of %d:\ngot  %q\nwant %q",
					i, len(want), got.Bytes()[max(0, i-40):min(got.Len(), i+40)], want[max(0, i-40):min(len(want), i+40)])
			}
		})
	}
}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteJSONWriteError(t *testing.T) {
	err := report.WriteJSON(failingWriter{}, reporttest.Long(t, 60))
	if err == nil || !strings.Contains(err.Error(), "disk full") || !strings.HasPrefix(err.Error(), "report: write results: ") {
		t.Errorf("WriteJSON to a failing writer: error %v; want report: write results: ... disk full", err)
	}
}

// TestWriteJSONLongRunAllocations checks that WriteJSON does not hold the
// document twice: it allocates less than twice the bytes it writes (the
// encoder's compact copy, grown by doubling, and no indented copy).
func TestWriteJSONLongRunAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("-race allocates on its own")
	}
	for _, s := range []int{600, 3600} {
		r := reporttest.Long(t, s)
		var out bytes.Buffer
		if err := report.WriteJSON(&out, r); err != nil {
			t.Fatal(err)
		}
		got := reporttest.AllocBytes(t, r, report.WriteJSON)
		t.Logf("WriteJSON, 2 workloads x %4d s: %.2f MB allocated, %.2f MB written", s, float64(got)/1e6, float64(out.Len())/1e6)
		if got >= 2*uint64(out.Len()) {
			t.Errorf("WriteJSON of %d s allocated %d bytes to write %d; want less than twice as many", s, got, out.Len())
		}
	}
}

func FuzzReadJSON(f *testing.F) {
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, runResults(f)); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(`{"schema":"kmsload.result/v1"}`))
	f.Add([]byte(`{"schema":"kmsload.result/v1","workloads":[{"name":"a","series":[{"t":1,"failed":2}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := report.ReadJSON(bytes.NewReader(data))
		if err != nil {
			return
		}
		var a, b bytes.Buffer
		if err := report.WriteJSON(&a, r); err != nil {
			t.Fatalf("WriteJSON(ReadJSON(data)) error: %v", err)
		}
		r2, err := report.ReadJSON(bytes.NewReader(a.Bytes()))
		if err != nil {
			t.Fatalf("ReadJSON(WriteJSON(r)) error: %v", err)
		}
		if err := report.WriteJSON(&b, r2); err != nil {
			t.Fatalf("WriteJSON error: %v", err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("JSON not stable across a round trip:\n%s\n%s", a.Bytes(), b.Bytes())
		}
		want, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if want = append(want, '\n'); !bytes.Equal(a.Bytes(), want) {
			t.Errorf("WriteJSON wrote\n%s\nwant json.MarshalIndent's\n%s", a.Bytes(), want)
		}
		// Rendering what was read must not fail or panic.
		var txt bytes.Buffer
		if err := render.WriteText(&txt, r); err != nil {
			t.Errorf("WriteText error: %v", err)
		}
	})
}

// BenchmarkWriteJSON reports what writing results.json of 2 workloads
// costs for runs of 60 s, 10 minutes and an hour (see B/op).
func BenchmarkWriteJSON(b *testing.B) {
	for _, s := range []int{60, 600, 3600} {
		r := reporttest.Long(b, s)
		b.Run(fmt.Sprintf("%ds", s), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := report.WriteJSON(io.Discard, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// readFixture reads testdata/results.json, the output of a real run
// (testdata/html-run.yaml says how it was made).
func readFixture(t testing.TB) *report.Results {
	t.Helper()
	f, err := os.Open("testdata/results.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := report.ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
