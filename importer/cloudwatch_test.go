package importer_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kmsload/kmsload/importer"
)

const usage = `{"MetricDataResults": [
 {"Id": "decrypt", "Label": "Decrypt", "Timestamps": ["2026-11-30T09:01:00Z", "2026-11-30T09:00:00Z"], "Values": [90, 60], "StatusCode": "Complete"},
 {"Id": "gdk_wo", "Label": "GenerateDataKeyWithoutPlaintext", "Timestamps": ["2026-11-30T09:00:00Z"], "Values": [7], "StatusCode": "PartialData"},
 {"Id": "sign", "Label": "Sign", "Timestamps": ["2026-11-30T09:00:00Z"], "Values": [600], "StatusCode": "Complete"},
 {"Id": "grants", "Label": "CreateGrant", "Timestamps": ["2026-11-30T09:00:00Z"], "Values": [3], "StatusCode": "Complete"}
]}`

// TestReadUsage: each operation's calls per minute become a workload on a
// stand-in key that can serve it, spread evenly over the minute's
// seconds; a result naming no operation is listed; a partial one read.
func TestReadUsage(t *testing.T) {
	im, _ := importer.New(importer.Options{})
	s, err := im.ReadUsage("usage.json", strings.NewReader(usage), "111122223333", "eu-west-1", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if s.Results != 4 || s.Points != 4 || len(s.Skipped) != 2 || !strings.Contains(strings.Join(s.Skipped, "\n"), `result "grants" names no KMS operation`) {
		t.Errorf("summary %+v", s)
	}
	res, err := im.Build(importer.BuildOptions{Name: "cw", TraceFile: "cw.trace", Scale: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"acct-3333-decrypt-unknown-acct-3333-eu-west-1": 150, "acct-3333-generate-data-key-without-plaintext-unknown-acct-3333-eu-west-1": 7,
		"acct-3333-sign-unknown-acct-3333-eu-west-1-rsa": 600}
	for _, w := range res.Workloads {
		if want[w.Name] != w.Requests {
			t.Errorf("%s: %g requests; want %g", w.Name, w.Requests, want[w.Name])
		}
		delete(want, w.Name)
	}
	if len(want) > 0 {
		t.Errorf("missing workloads %v", want)
	}
	dec := res.Trace.Series["acct-3333-decrypt-unknown-acct-3333-eu-west-1"].Counts
	var first, second float32
	for i, n := range dec {
		if i < 60 {
			first += n
		} else {
			second += n
		}
		if n < 1 || n > 2 {
			t.Errorf("second %d: %g calls; want them spread evenly", i, n)
		}
	}
	if len(dec) != 120 || first != 60 || second != 90 {
		t.Errorf("decrypt per second %v; want 60 calls over the first minute, 90 over the second", dec)
	}
	if !strings.Contains(string(res.Scenario), "usage metrics name no caller or key") || res.Summary.UnresolvedKey != 0 {
		t.Errorf("scenario header:\n%s", res.Scenario)
	}
}
