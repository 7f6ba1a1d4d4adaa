package scenarios_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kmsload/kmsload/lint"
)

// deliberateThrottles lists, per scenario, the workloads whose load alone
// exceeds a quota bucket's because the finding needs it (each scenario's
// description says so); lint must report exactly these and nothing else.
var deliberateThrottles = map[string][]string{
	"data-key-caching": {"producer-uncached"},    // 150% of the account's quota without a cache
	"data-key-pairs":   {"enroll-rsa"},           // 4/s of RSA pairs against the 1/s pair quota
	"multi-region-dr":  {"analytics", "reports"}, // 150% of the DR Regions' quotas after failover
	"per-app-per-env":  {"orders-dev-load-test"}, // the dev load test overruns the dev account
}

// TestLibraryLint: no library scenario locks a caller out, and only the
// deliberate throttles are over a quota alone.
func TestLibraryLint(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("Glob(*.yaml) = %v, %v", files, err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(f, ".yaml")
		findings, err := lint.Lint(load(t, name), lint.Options{})
		if err != nil {
			t.Fatalf("Lint(%s): %v", f, err)
		}
		var over []string
		for _, fd := range findings {
			if fd.Rule != lint.RuleRateOverQuota {
				t.Errorf("%s: %v", f, fd)
				continue
			}
			over = append(over, fd.Workload)
		}
		if want := deliberateThrottles[name]; !slices.Equal(over, want) {
			t.Errorf("%s: workloads over a quota alone %q; want %q", f, over, want)
		}
	}
}
