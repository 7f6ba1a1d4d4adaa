package scenario_test

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kmsload/kmsload/scenario"
)

func TestLoadClients(t *testing.T) {
	s, err := scenario.Load(filepath.Join("testdata", "good", "clients.yaml"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	def := scenario.Client{Retry: scenario.RetryStandard, MaxAttempts: 3, MaxBackoff: 20 * time.Second, RetryBucket: 500}
	if s.Client != def {
		t.Errorf("Client = %+v; want %+v (standard read as sdk-standard)", s.Client, def)
	}
	byName := map[string]scenario.Workload{}
	for _, w := range s.Workloads {
		byName[w.Name] = w
	}
	tests := []struct {
		workload   string
		want       scenario.Client
		wantShared string
	}{
		{"ingest", scenario.Client{Retry: scenario.RetryStandard, MaxAttempts: 3, MaxBackoff: 20 * time.Second, RetryBucket: 500, Shared: "app"}, "app"},
		{"orders", scenario.Client{Retry: scenario.RetryStandard, MaxAttempts: 3, MaxBackoff: 20 * time.Second, RetryBucket: 500, Shared: "app"}, "app"},
		{"batch", scenario.Client{Retry: scenario.RetryAdaptive, MaxAttempts: 10, MaxBackoff: 20 * time.Second, RetryBucket: scenario.RetryBucketNone}, ""},
		{"legacy", scenario.Client{Retry: scenario.RetryStandard, MaxAttempts: 5, MaxBackoff: 20 * time.Second, RetryBucket: 500}, ""},
	}
	for _, tt := range tests {
		w := byName[tt.workload]
		if got := s.ClientOf(w); got != tt.want {
			t.Errorf("ClientOf(%s) = %+v; want %+v", tt.workload, got, tt.want)
		}
		if got := s.SharedName(w); got != tt.wantShared {
			t.Errorf("SharedName(%s) = %q; want %q", tt.workload, got, tt.wantShared)
		}
	}
	if w := byName["legacy"]; w.Retry != scenario.RetryStandard || w.MaxAttempts != 5 || w.Client != (scenario.Client{}) {
		t.Errorf("legacy = retry %q, max_attempts %d, client %+v; want the older fields as written and no client block", w.Retry, w.MaxAttempts, w.Client)
	}
	wantVariants := []scenario.Variant{
		{Field: "client.retry", Values: []string{"standard", "adaptive", "none"}},
		{Field: "client.max_attempts", Values: []string{"3", "10"}},
		{Field: "client.retry_bucket", Values: []string{"500", "none"}},
	}
	if !reflect.DeepEqual(s.Variants, wantVariants) {
		t.Errorf("Variants = %+v; want %+v", s.Variants, wantVariants)
	}
	if got := byName["batch"].String(); !strings.Contains(got, "client {retry adaptive, max_attempts 10, retry_bucket none}") {
		t.Errorf("batch.String() = %q; want its client settings", got)
	}
}

func TestSilentScenarioLeavesRetryUnset(t *testing.T) {
	s, err := scenario.Load(filepath.Join("testdata", "good", "minimal.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.ClientOf(s.Workloads[0]); got != (scenario.Client{}) {
		t.Errorf("ClientOf = %+v; want nothing set, for the SDK's environment and defaults to decide", got)
	}
}

func TestClientSet(t *testing.T) {
	tests := []struct {
		field, value string
		want         scenario.Client
		wantErr      string
	}{
		{"retry", "standard", scenario.Client{Retry: scenario.RetryStandard}, ""},
		{"client.retry", "sdk-standard", scenario.Client{Retry: scenario.RetryStandard}, ""},
		{"client.retry", "adaptive", scenario.Client{Retry: scenario.RetryAdaptive}, ""},
		{"client.retry", "none", scenario.Client{Retry: scenario.RetryNone}, ""},
		{"client.retry", "adaptve", scenario.Client{}, `did you mean "adaptive"?`},
		{"client.max_attempts", "10", scenario.Client{MaxAttempts: 10}, ""},
		{"client.max_attempts", "0", scenario.Client{}, "want a whole number of attempts >= 1"},
		{"client.max_backoff", "2s", scenario.Client{MaxBackoff: 2 * time.Second}, ""},
		{"client.max_backoff", "2", scenario.Client{}, "want a duration > 0"},
		{"client.retry_bucket", "none", scenario.Client{RetryBucket: scenario.RetryBucketNone}, ""},
		{"client.retry_bucket", "100", scenario.Client{RetryBucket: 100}, ""},
		{"client.retry_bucket", "-1", scenario.Client{}, "want a number of tokens >= 1, or none"},
		{"client.shared", "app", scenario.Client{Shared: "app"}, ""},
		{"client.shared", "none", scenario.Client{Shared: scenario.SharedNone}, ""},
		{"client.shared", "a b", scenario.Client{}, "want a client name"},
		{"client.retries", "3", scenario.Client{}, `unknown client setting "client.retries"`},
	}
	for _, tt := range tests {
		var c scenario.Client
		err := c.Set(tt.field, tt.value)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("Set(%q, %q) = %v; want nil", tt.field, tt.value, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("Set(%q, %q) = %v; want an error containing %q", tt.field, tt.value, err, tt.wantErr)
		case c != tt.want:
			t.Errorf("Set(%q, %q) gives %+v; want %+v", tt.field, tt.value, c, tt.want)
		}
	}
}

func TestClientOr(t *testing.T) {
	own := scenario.Client{Retry: scenario.RetryAdaptive, Shared: scenario.SharedNone}
	def := scenario.Client{Retry: scenario.RetryStandard, MaxAttempts: 10, RetryBucket: 100, Shared: "app"}
	want := scenario.Client{Retry: scenario.RetryAdaptive, MaxAttempts: 10, RetryBucket: 100, Shared: scenario.SharedNone}
	if got := own.Or(def); got != want {
		t.Errorf("Or = %+v; want %+v", got, want)
	}
	s := &scenario.Scenario{Client: def}
	if got := s.SharedName(scenario.Workload{Client: own}); got != "" {
		t.Errorf("SharedName with shared: none = %q; want \"\" (a client of its own)", got)
	}
	if got := s.SharedName(scenario.Workload{}); got != "app" {
		t.Errorf("SharedName of a silent workload = %q; want the default's app", got)
	}
}
