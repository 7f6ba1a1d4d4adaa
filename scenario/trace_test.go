package scenario_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kmsload/kmsload/scenario"
)

// TestTraceRoundTrip: a trace written and read back, plain and gzipped,
// is the same trace, and runs are written N*R.
func TestTraceRoundTrip(t *testing.T) {
	tr := &scenario.Trace{Step: time.Second, Start: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	long := make([]float32, 5000) // more than one line of counts
	long[4999] = 3
	tr.Add("orders-api", 0, 0, 0, 5, 7, 7, 2.5)
	tr.Add("s3-ingest", long...)
	tr.AddThrottled("orders-api", 0, 0, 0, 0, 2)
	tr.AddAttempts("orders-api", 0, 0, 0, 5, 9, 7, 2.5)
	var buf bytes.Buffer
	if _, err := tr.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	if !strings.Contains(text, "series orders-api 0*3 5 7*2 2.5\n") {
		t.Errorf("trace file:\n%s\nwant the line series orders-api 0*3 5 7*2 2.5", text)
	}
	if !strings.Contains(text, "throttled orders-api 0*4 2\n") {
		t.Errorf("trace file:\n%s\nwant the line throttled orders-api 0*4 2", text)
	}
	if n := strings.Count(text, "series s3-ingest"); n != 2 {
		t.Errorf("s3-ingest on %d lines; want 2 (an hour of counts per line)", n)
	}
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(buf.Bytes())
	w.Close()
	for name, data := range map[string][]byte{"plain": buf.Bytes(), "gzip": gz.Bytes()} {
		got, err := scenario.ReadTrace("t.trace", bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, tr) {
			t.Errorf("%s: read %+v; want %+v", name, got, tr)
		}
	}
	if s := tr.Series["orders-api"]; s.Total() != 21.5 || s.Peak() != 7 || s.Duration() != 7*time.Second {
		t.Errorf("orders-api total %g peak %g duration %v; want 21.5, 7, 7s", s.Total(), s.Peak(), s.Duration())
	}
	if tr.Duration() != 5000*time.Second {
		t.Errorf("trace duration %v; want 5000s", tr.Duration())
	}
}

// TestReadTraceErrors: every problem names the trace file, line and
// column.
func TestReadTraceErrors(t *testing.T) {
	tests := []struct{ text, want string }{
		{"", "t.trace: not a kmsload trace"},
		{"# c\nkmsload-trace 2\n", "t.trace:2:1: not a kmsload trace"},
		{"kmsload-trace 1\nstep 1m\n", "t.trace:2:6: step \"1m\": only 1s is supported"},
		{"kmsload-trace 1\nstart yesterday\n", "t.trace:2:7: start: want an RFC 3339 time"},
		{"kmsload-trace 1\nseries a 1 2 x\n", "t.trace:2:14: series a: count \"x\""},
		{"kmsload-trace 1\nseries a 1  -1\n", "t.trace:2:13: series a: count \"-1\""},
		{"kmsload-trace 1\nseries a NaN\n", "t.trace:2:10: series a: count \"NaN\""},
		{"kmsload-trace 1\nseries a 3*0\n", "t.trace:2:10: series a: count \"3*0\": the repeat R"},
		{"kmsload-trace 1\nseries b/c 1\n", "t.trace:2:8: series name \"b/c\""},
		{"kmsload-trace 1\nseries\n", "t.trace:2:1: series: want a name and counts"},
		{"kmsload-trace 1\nseries a 0*43200000 0*1\n", "t.trace:2:21: the trace holds more than"},
		{"kmsload-trace 1\nrate 5\n", "t.trace:2:1: unknown line \"rate\""},
		{"kmsload-trace 1\nthrottled a 1 z\n", "t.trace:2:15: throttled a: count \"z\""},
	}
	for _, tt := range tests {
		_, err := scenario.ReadTrace("t.trace", strings.NewReader(tt.text))
		var te *scenario.TraceError
		if !errors.As(err, &te) || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("ReadTrace(%q) = %v; want a *TraceError starting %q", tt.text, err, tt.want)
		}
	}
}

const traceScenario = `name: replay
accounts: {prod: "111111111111"}
keys:
  k: {account: prod, region: us-west-2, arn: "arn:aws:kms:us-west-2:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"}
trace: replay.trace
workloads:
  api: {caller: prod, key: k, operation: Decrypt, arrival: trace}
`

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestLoadTrace: a scenario replaying a trace gets its workload's series,
// the trace's duration, and a digest that covers the trace.
func TestLoadTrace(t *testing.T) {
	dir := writeFiles(t, map[string]string{"s.yaml": traceScenario, "replay.trace": "kmsload-trace 1\nseries api 1 2 3\n"})
	s, err := scenario.Load(filepath.Join(dir, "s.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	w := s.Workloads[0]
	if w.Series == nil || w.Series.Total() != 6 || s.Duration != 3*time.Second {
		t.Fatalf("series %+v, duration %v; want 6 requests over 3s", w.Series, s.Duration)
	}
	if s.Keys["k"].ARN == "" {
		t.Error("key ARN not kept")
	}
	sum := s.SHA256()
	os.WriteFile(filepath.Join(dir, "replay.trace"), []byte("kmsload-trace 1\nseries api 1 2 4\n"), 0o644)
	if s2, err := scenario.Load(filepath.Join(dir, "s.yaml")); err != nil || s2.SHA256() == sum {
		t.Errorf("another trace: digest %s (err %v); want one that differs from %s", s2.SHA256(), err, sum)
	}
}

// TestLoadTraceErrors: problems of a trace scenario are reported at the
// field concerned, with the trace file's own position when the trace is
// broken.
func TestLoadTraceErrors(t *testing.T) {
	good := "kmsload-trace 1\nseries api 1 2 3\n"
	tests := []struct {
		name, scenario, trace, want string
	}{
		{"missing file", traceScenario, "", "s.yaml:5:8: trace: cannot read the trace"},
		{"broken trace", traceScenario, "kmsload-trace 1\nseries api 1 x\n", "replay.trace:2:14: series api: count \"x\""},
		{"no series", strings.Replace(traceScenario, "  api:", "  web:", 1), good, `s.yaml:7:60: workloads.web.arrival: the trace replay.trace has no series "web"`},
		{"silent series", traceScenario, "kmsload-trace 1\nseries api 0*5\n", `workloads.api.arrival: series "api" of the trace replay.trace records no requests`},
		{"rate given", strings.Replace(traceScenario, "arrival: trace", "arrival: trace, rate: 5/s", 1), good, "workloads.api.rate: not used with arrival: trace"},
		{"no trace field", strings.Replace(traceScenario, "trace: replay.trace\n", "", 1), good, "workloads.api.arrival: arrival: trace needs the scenario's trace: file"},
		{"unused trace", strings.Replace(traceScenario, "arrival: trace", "rate: 5/s", 1), good, "s.yaml:5:8: trace: no workload has arrival: trace"},
		{"ARN of another account", strings.Replace(traceScenario, ":111111111111:key", ":222222222222:key", 1), good, "keys.k.arn: the ARN's account 222222222222 is not the key's account prod"},
		{"ARN of another Region", strings.Replace(traceScenario, "region: us-west-2", "region: us-east-1", 1), good, "keys.k.arn: the ARN's Region us-west-2 is not the key's Region us-east-1"},
		{"not an ARN", strings.Replace(traceScenario, "arn: \"arn:aws:kms", "arn: \"arn:aws:s3", 1), good, "keys.k.arn: \"arn:aws:s3"},
		{"multi-Region id", strings.Replace(traceScenario, "key/1234", "key/mrk-1234", 1), good, "keys.k.arn: a key id starting mrk- is a multi-Region key: multi_region must be true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"s.yaml": tt.scenario}
			if tt.trace != "" {
				files["replay.trace"] = tt.trace
			}
			dir := writeFiles(t, files)
			_, err := scenario.Load(filepath.Join(dir, "s.yaml"))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load: %v\nwant a problem containing %q", err, tt.want)
			}
		})
	}
}

// FuzzReadTrace: no input crashes the reader, and what it reads writes
// back to the same trace.
func FuzzReadTrace(f *testing.F) {
	f.Add("kmsload-trace 1\nstep 1s\nstart 2026-11-30T09:00:00Z\nseries a 0*3 5 7*2 2.5\nseries b 1\n")
	f.Add("kmsload-trace 1\nseries a 1e3 0*2\n")
	f.Add("kmsload-trace 1\nseries a 1\nthrottled a 0 1\nthrottled b 2\nattempts a 1 1\n")
	f.Fuzz(func(t *testing.T, text string) {
		tr, err := scenario.ReadTrace("f.trace", strings.NewReader(text))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if _, err := tr.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		back, err := scenario.ReadTrace("g.trace", &buf)
		if err != nil || !reflect.DeepEqual(back, tr) {
			t.Fatalf("read back %+v, %v; want %+v", back, err, tr)
		}
	})
}
