package report_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kmsload/kmsload/report"
)

// runResults records a small run and builds full results from it.
func runResults(t testing.TB) *report.Results {
	t.Helper()
	r := report.NewRecorder(t0, infos("a", "b"))
	for i := 0; i < 30; i++ {
		in := at(float64(i) / 10)
		w := i % 2
		r.Sent(w, in)
		r.Attempt(w, in, ms(2), report.OK, "")
		o, code := report.OK, ""
		if i%7 == 0 {
			o, code = report.Failed, "DisabledException"
		}
		r.Done(w, in, in.Add(ms(float64(i))), 1, o, code)
	}
	ws := r.Finish(at(3))
	res := &report.Results{
		Schema:     report.Schema,
		Scenario:   report.ScenarioInfo{Name: "rt", File: "scenarios/rt.yaml", Scale: 0.01, Seed: 7},
		Target:     report.TargetInfo{Kind: "embedded", QuotaModel: "fixed-window", QuotasAppliedBy: "kmsload", Versions: map[string]string{"go": "go1.26"}},
		StartedAt:  t0,
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
		// Rendering what was read must not fail or panic.
		var txt bytes.Buffer
		if err := report.WriteText(&txt, r); err != nil {
			t.Errorf("WriteText error: %v", err)
		}
	})
}
