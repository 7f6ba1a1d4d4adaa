package main_test

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

func TestPlanCommand(t *testing.T) {
	stdout, stderr, code := kmsload(t, "plan", "../../scenarios/quickstart.yaml")
	if code != 0 {
		t.Fatalf("kmsload plan quickstart: exit %d\n%s", code, stderr)
	}
	// Quickstart at its scale 0.01: 800 + 400 = 1,200/s against 1,000/s.
	for _, want := range []string{
		"111111111111/us-east-1/symmetric", "1000.0", "1200.0", "-200.0", "120.0", "0.83x",
		"prod/us-east-1/symmetric saturates at 0.83x today's load", "Monthly cost", "$946080.94",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("kmsload plan output lacks %q:\n%s", want, stdout)
		}
	}

	stdout, stderr, code = kmsload(t, "plan", "../../scenarios/quickstart.yaml", "--json", "--scale", "1", "--retry", "none")
	if code != 0 {
		t.Fatalf("kmsload plan --json: exit %d\n%s", code, stderr)
	}
	var p struct {
		Scale   float64 `json:"scale"`
		Buckets []struct {
			Name           string  `json:"name"`
			QuotaPerS      float64 `json:"quota_per_s"`
			DemandPerS     float64 `json:"demand_per_s"`
			ThrottledShare float64 `json:"attempt_throttled_share"`
			RetryModel     string  `json:"retry_model"`
		} `json:"buckets"`
		Saturation struct {
			GrowthFactor float64 `json:"growth_factor"`
		} `json:"saturation"`
	}
	if err := json.Unmarshal([]byte(stdout), &p); err != nil {
		t.Fatalf("kmsload plan --json: %v\n%s", err, stdout)
	}
	if p.Scale != 1 || len(p.Buckets) != 1 || p.Buckets[0].QuotaPerS != 100_000 || p.Buckets[0].DemandPerS != 120_000 ||
		p.Buckets[0].RetryModel != "none" || math.Abs(p.Saturation.GrowthFactor-1/1.2) > 1e-9 {
		t.Errorf("kmsload plan --json --scale 1 --retry none = %+v; want one bucket, 120,000/s against 100,000/s, retries none, growth 0.833", p)
	}
}

func TestPlanUsageErrors(t *testing.T) {
	tests := [][]string{
		{"plan", "../../scenario/testdata/bad/rates.yaml"},
		{"plan"},
		{"plan", "../../scenarios/quickstart.yaml", "--retry", "sometimes"},
		{"plan", "../../scenarios/quickstart.yaml", "--quotas", "off"},
		{"plan", "../../scenarios/quickstart.yaml", "--scale", "-1"},
		{"plan", "../../scenarios/quickstart.yaml", "--quotas", filepath.Join(t.TempDir(), "missing.yaml")},
	}
	for _, args := range tests {
		if _, stderr, code := kmsload(t, args...); code != 2 {
			t.Errorf("kmsload %v: exit %d; want 2\n%s", args, code, stderr)
		}
	}
}

func TestRunShowsPrediction(t *testing.T) {
	if testing.Short() {
		t.Skip("a 2 s run")
	}
	dir := t.TempDir()
	stdout, stderr, code := kmsload(t, "run", "testdata/small.yaml", "-q", "--out", dir)
	if code != 0 {
		t.Fatalf("kmsload run: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "pred-thr-att%") || !strings.Contains(stdout, "predicted (pred-*) by kmsload plan") {
		t.Errorf("run summary lacks the prediction:\n%s", stdout)
	}
	r := readResults(t, dir)
	// small.yaml: 20,000/s at scale 0.01 = 200/s against 1,000/s.
	if r.Plan == nil || len(r.Buckets) != 1 || math.Abs(r.Buckets[0].PredictedDemandPerS-200) > 1e-6 || r.Buckets[0].PredictedThrottledShare != 0 {
		t.Errorf("results plan %+v, buckets %+v; want a plan and 200/s predicted, 0 throttled", r.Plan, r.Buckets)
	}
}
