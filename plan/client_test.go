package plan_test

import (
	"reflect"
	"testing"

	"github.com/kmsload/kmsload/plan"
	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/scenario"
)

func TestClientInfo(t *testing.T) {
	sources := scenario.ClientSources{
		Retry:       scenario.ClientSetting{Value: "sdk-standard", Source: "SDK default"},
		MaxAttempts: scenario.ClientSetting{Value: "3", Source: "SDK default"},
		MaxBackoff:  scenario.ClientSetting{Value: "20s", Source: "SDK default"},
		RetryBucket: scenario.ClientSetting{Value: "500", Source: "workload"},
	}
	tests := []struct {
		name       string
		e          scenario.EffectiveClient
		scale      float64
		wantTokens int
	}{
		{"real size", scenario.EffectiveClient{Retry: scenario.RetryStandard, RetryBucket: 500}, 1, 500},
		{"scaled", scenario.EffectiveClient{Retry: scenario.RetryStandard, RetryBucket: 500}, 0.01, 5},
		{"no retry quota", scenario.EffectiveClient{Retry: scenario.RetryStandard, RetryBucket: scenario.RetryBucketNone}, 0.01, 0},
		{"retries off", scenario.EffectiveClient{Retry: scenario.RetryNone, RetryBucket: 500}, 0.01, 0},
	}
	for _, tt := range tests {
		tt.e.Name, tt.e.Shared, tt.e.Sources = "orders", true, sources
		got := plan.ClientInfo(tt.e, tt.scale)
		want := report.ClientInfo{
			Name: "orders", Shared: true,
			Retry:       report.ClientSetting(sources.Retry),
			MaxAttempts: report.ClientSetting(sources.MaxAttempts),
			MaxBackoff:  report.ClientSetting(sources.MaxBackoff),
			RetryBucket: report.ClientSetting(sources.RetryBucket),
			RetryTokens: tt.wantTokens,
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: ClientInfo(%+v, %v) = %+v; want %+v", tt.name, tt.e, tt.scale, got, want)
		}
	}
}
