package report_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/kmsload/kmsload/failure"
	"github.com/kmsload/kmsload/render"
	"github.com/kmsload/kmsload/report"
)

func TestComputeQuotaExhaustion(t *testing.T) {
	w := report.Workload{
		Name:   "ingest",
		Errors: map[string]int64{failure.CodeQuotaExceeded: 9, "ThrottlingException": 4},
		FailedBySecond: []report.SecondCode{
			{T: 2, Code: "ThrottlingException", Count: 4},
			{T: 3, Code: failure.CodeQuotaExceeded, Count: 2},
			{T: 5, Code: failure.CodeQuotaExceeded, Count: 7},
		},
	}
	got := report.ComputeQuotaExhaustion(w, "app")
	if want := (report.QuotaExhaustion{Client: "app", FirstS: 3, LastS: 5, Requests: 9}); got == nil || *got != want {
		t.Errorf("ComputeQuotaExhaustion = %+v; want %+v", got, want)
	}
	if got := report.ComputeQuotaExhaustion(report.Workload{Errors: map[string]int64{"ThrottlingException": 4}}, "x"); got != nil {
		t.Errorf("ComputeQuotaExhaustion without QuotaExceededError = %+v; want nil", got)
	}
}

func TestTextClientsAndQuotaExhaustion(t *testing.T) {
	client := &report.ClientInfo{Name: "app", Shared: true, Workloads: []string{"ingest", "orders"},
		Retry:       report.ClientSetting{Value: "sdk-standard", Source: report.SourceDefault},
		MaxAttempts: report.ClientSetting{Value: "3", Source: "environment AWS_MAX_ATTEMPTS"},
		MaxBackoff:  report.ClientSetting{Value: "20s", Source: report.SourceSDK},
		RetryBucket: report.ClientSetting{Value: "500", Source: report.SourceSDK},
	}
	own := &report.ClientInfo{Name: "batch",
		Retry:       report.ClientSetting{Value: "adaptive", Source: "environment AWS_RETRY_MODE"},
		MaxAttempts: report.ClientSetting{Value: "3", Source: report.SourceSDK},
		MaxBackoff:  report.ClientSetting{Value: "20s", Source: report.SourceSDK},
		RetryBucket: report.ClientSetting{Value: "none", Source: report.SourceWorkload},
	}
	r := &report.Results{
		Scenario:  report.ScenarioInfo{Name: "clients", Scale: 1},
		DurationS: 10,
		Workloads: []report.Workload{
			{Name: "ingest", Client: client, Errors: map[string]int64{failure.CodeQuotaExceeded: 30},
				RetryQuotaExhausted: &report.QuotaExhaustion{Client: "app", FirstS: 3, LastS: 9, Requests: 30}},
			{Name: "orders", Client: client, Errors: map[string]int64{failure.CodeQuotaExceeded: 12},
				RetryQuotaExhausted: &report.QuotaExhaustion{Client: "app", FirstS: 2, LastS: 8, Requests: 12}},
			{Name: "batch", Client: own},
		},
	}
	var buf bytes.Buffer
	if err := render.WriteText(&buf, r); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	flat := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{
		"SDK clients (each setting with where it came from)",
		"app (shared) ingest,orders sdk-standard (scenario default) 3 (environment AWS_MAX_ATTEMPTS) 20s (SDK default) 500 (SDK default)",
		"batch batch adaptive (environment AWS_RETRY_MODE) 3 (SDK default) 20s (SDK default) none (scenario workload)",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	for _, want := range []string{
		"Shared SDK client app (used by ingest and orders) ran out of retry quota from second 2 to second 9: 42 requests failed with QuotaExceededError, without the SDK sending their retry (30 of ingest and 12 of orders).",
		"Its retry token bucket (500 tokens, SDK default;",
		"its workloads drain one bucket together",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("verdict lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(flat, "SDK client of batch ran out") {
		t.Errorf("verdict names batch, whose quota never ran dry:\n%s", out)
	}
}

// TestAnnotateClients checks that every result gets its workload's client,
// a shared client with all the scenario's workloads sharing it (also in a
// window where only one of them ran), and that a result without a client
// entry is left as it was.
func TestAnnotateClients(t *testing.T) {
	std := report.ClientSetting{Value: "sdk-standard", Source: report.SourceSDK}
	clients := []report.WorkloadClient{
		{Workload: "a", Client: report.ClientInfo{Name: "pool", Shared: true, Retry: std}},
		{Workload: "b", Client: report.ClientInfo{Name: "b", Retry: std}},
		{Workload: "c", Client: report.ClientInfo{Name: "pool", Shared: true, Retry: std}},
	}
	ws := []report.Workload{{Name: "c"}, {Name: "b"}, {Name: "stray"}}
	report.AnnotateClients(ws, clients)
	if c := ws[0].Client; c == nil || c.Name != "pool" || !c.Shared || !slices.Equal(c.Workloads, []string{"a", "c"}) {
		t.Errorf("c's client = %+v; want pool, shared by [a c]", c)
	}
	if c := ws[1].Client; c == nil || c.Name != "b" || c.Shared || c.Workloads != nil || c.Retry != std {
		t.Errorf("b's client = %+v; want its own, sdk-standard", c)
	}
	if ws[2].Client != nil || ws[2].RetryQuotaExhausted != nil {
		t.Errorf("stray result = %+v, %+v; want untouched", ws[2].Client, ws[2].RetryQuotaExhausted)
	}
	if clients[0].Client.Workloads != nil {
		t.Errorf("clients[0] changed: Workloads = %v", clients[0].Client.Workloads)
	}
}
