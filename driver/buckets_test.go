package driver_test

import (
	"context"
	"testing"
	"time"

	"github.com/kmsload/kmsload/driver"
	"github.com/kmsload/kmsload/emulator"
	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/scenario"
)

// bucketsByName returns the results' buckets by name.
func bucketsByName(r *report.Results) map[string]report.Bucket {
	out := map[string]report.Bucket{}
	for _, b := range r.Buckets {
		out[b.Name] = b
	}
	return out
}

// runQuotaNoRetries runs sc on e with the quota cfg armed for the
// measured window and retries off, and returns its results.
func runQuotaNoRetries(t *testing.T, e *testEnv, sc *scenario.Scenario, cfg quota.Config) *report.Results {
	t.Helper()
	return e.run(t, context.Background(), sc, func(o *driver.Options) {
		o.Quota = cfg
		o.Retry = scenario.RetryNone
		o.BeforeMeasure = e.armQuota(t, cfg)
	}).Results
}

// TestShiftTrafficBucketQuotaAndThrottles: after a shift-traffic event,
// the new Region's bucket is in the results with its own quota and the
// throttles it made, and the old Region's bucket keeps only its own.
func TestShiftTrafficBucketQuotaAndThrottles(t *testing.T) {
	e := newEnv(t, emulator.Options{})
	sc := newScenario(2 * time.Second)
	sc.Keys["mrk"] = scenario.Key{Name: "mrk", Account: "a", MultiRegion: true, Replicas: []string{"us-west-2"}, Alias: "alias/mrk"}
	sc.Workloads = []scenario.Workload{
		{Name: "dec", Caller: "b", Key: "mrk", KeyRef: scenario.KeyRefAliasARN, Operation: "Decrypt", Rate: 60},
	}
	sc.Events = []scenario.Event{{At: time.Second, Action: scenario.ActionShiftTraffic, Workload: "dec", ToRegion: "us-west-2"}}
	cfg := symmetricConfig(1)
	cfg.SymmetricByRegion = map[string]float64{"us-east-1": 1000, "us-west-2": 30}
	r := runQuotaNoRetries(t, e, sc, cfg)
	bs := bucketsByName(r)
	east, west := bs[acctB+"/us-east-1/symmetric"], bs[acctB+"/us-west-2/symmetric"]
	if east.QuotaPerS != 1000 || east.Throttled != 0 || east.Allowed < 50 || east.Allowed > 70 {
		t.Errorf("us-east-1 bucket = %+v; want quota 1000/s, about 60 allowed, none throttled", east)
	}
	// 60/s against 30/s for a second: half the attempts throttled.
	if west.QuotaPerS != 30 || west.Allowed < 25 || west.Allowed > 35 || west.ThrottledShare() < 0.35 || west.ThrottledShare() > 0.65 {
		t.Errorf("us-west-2 bucket = %+v (throttled %.0f%%); want quota 30/s, about 30 allowed and half throttled", west, 100*west.ThrottledShare())
	}
}

// TestCustomKeyStoreThrottlesAttributed: a key store's bucket that
// throttles gets the throttles, with the store's quota and its operations'
// weights; the callers' class bucket, which had room, gets none.
func TestCustomKeyStoreThrottlesAttributed(t *testing.T) {
	e := newEnv(t, emulator.Options{})
	sc := newScenario(time.Second)
	sc.Keys["hsm"] = scenario.Key{Name: "hsm", Account: "a", CustomKeyStore: "cks-1234567890abcdef0"}
	sc.Workloads = []scenario.Workload{
		{Name: "gdk", Caller: "a", Key: "hsm", Operation: "GenerateDataKey", Rate: 20},
		{Name: "dec", Caller: "a", Key: "hsm", Operation: "Encrypt", Rate: 20},
	}
	cfg := symmetricConfig(1)
	cfg.CustomKeyStore = 40 // 20 x 3 + 20 x 1 = 80 asked of 40
	r := runQuotaNoRetries(t, e, sc, cfg)
	bs := bucketsByName(r)
	class, store := bs[acctA+"/us-east-1/symmetric"], bs["-/us-east-1/cks:cks-1234567890abcdef0"]
	if class.Throttled != 0 || class.Allowed != 40 {
		t.Errorf("class bucket = %+v; want all 40 attempts allowed", class)
	}
	if store.QuotaPerS != 40 || store.Account != "" || store.Throttled < 10 || store.Allowed+store.Throttled != 40 {
		t.Errorf("store bucket = %+v; want quota 40/s, no account, 40 attempts, half or so throttled", store)
	}
	if store.DemandPerS != 80 {
		t.Errorf("store bucket demand = %g/s; want 80 (GenerateDataKey weighs 3)", store.DemandPerS)
	}
	var thr int64
	for _, w := range r.Workloads {
		thr += w.ThrottledAttempts
		if w.ThrottledIn(store.Name) != w.ThrottledAttempts {
			t.Errorf("workload %s: %d throttled attempts, %d of them by the store; want all", w.Name, w.ThrottledAttempts, w.ThrottledIn(store.Name))
		}
	}
	if thr != store.Throttled {
		t.Errorf("workloads' throttled attempts = %d; want the store's %d", thr, store.Throttled)
	}
}

// TestExternalKeyStoreKeyProvisions: a key in an external key store is
// created with its XksKeyId (KMS refuses one without) and serves.
func TestExternalKeyStoreKeyProvisions(t *testing.T) {
	e := newEnv(t, emulator.Options{})
	sc := newScenario(time.Second)
	sc.Keys["xks"] = scenario.Key{Name: "xks", Account: "a", CustomKeyStore: "cks-9876543210fedcba0", CustomKeyStoreType: scenario.StoreExternal}
	sc.Workloads = []scenario.Workload{{Name: "enc", Caller: "a", Key: "xks", Operation: "Encrypt", Rate: 5}}
	r := runQuotaNoRetries(t, e, sc, symmetricConfig(1))
	w := r.Workloads[0]
	if w.OK == 0 || len(w.Errors) != 0 {
		t.Errorf("Encrypt under an external key store key: %d OK, errors %v; want all OK", w.OK, w.Errors)
	}
}
