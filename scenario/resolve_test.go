package scenario_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/scenario"
)

const resolveYAML = `name: resolve
scale: 0.05
accounts: {prod: "111111111111", app: "222222222222"}
keys:
  shared: {account: prod, multi_region: true, replicas: [us-west-2]}
  signer: {account: prod, spec: RSA_2048}
  hsm: {account: prod, custom_key_store: cks-1}
workloads:
  local: {caller: prod, key: shared, operation: GenerateDataKey, rate: 100/s}
  cross: {caller: app, key: shared, operation: Decrypt, rate: 50/s, payload_bytes: 64, max_in_flight: 20}
  sign: {caller: prod, key: signer, operation: Sign, rate: 10/s}
  store: {caller: prod, key: hsm, operation: Encrypt, rate: 10/s}
  random: {caller: app, operation: GenerateRandom, rate: 5/s}
events:
  - {at: 10s, action: shift-traffic, workload: local, to_region: us-west-2}
  - {at: 20s, action: shift-traffic, workload: local, to_region: us-west-2}
`

// inCode is resolveYAML built in code, with no defaults filled in.
func inCode() *scenario.Scenario {
	s := &scenario.Scenario{Name: "resolve", Scale: 0.05, Duration: time.Minute, Seed: 1,
		Accounts: map[string]scenario.Account{
			"prod": {Name: "prod", ID: "111111111111"}, "app": {Name: "app", ID: "222222222222"}},
		Keys: map[string]scenario.Key{
			"shared": {Name: "shared", Account: "prod", MultiRegion: true, Replicas: []string{"us-west-2"}},
			"signer": {Name: "signer", Account: "prod", Spec: "RSA_2048"},
			"hsm":    {Name: "hsm", Account: "prod", CustomKeyStore: "cks-1"},
		},
		Workloads: []scenario.Workload{
			{Name: "local", Caller: "prod", Key: "shared", Operation: "GenerateDataKey", Rate: 100},
			{Name: "cross", Caller: "app", Key: "shared", Operation: "Decrypt", Rate: 50, PayloadBytes: 64, MaxInFlight: 20},
			{Name: "sign", Caller: "prod", Key: "signer", Operation: "Sign", Rate: 10},
			{Name: "store", Caller: "prod", Key: "hsm", Operation: "Encrypt", Rate: 10},
			{Name: "random", Caller: "app", Operation: "GenerateRandom", Rate: 5},
		},
		Events: []scenario.Event{
			{At: 10 * time.Second, Action: scenario.ActionShiftTraffic, Workload: "local", ToRegion: "us-west-2"},
			{At: 20 * time.Second, Action: scenario.ActionShiftTraffic, Workload: "local", ToRegion: "us-west-2"},
		},
	}
	return s
}

// TestResolve: every default, derived value and override is applied once,
// and a scenario built in code resolves as the same scenario loaded from
// a file does.
func TestResolve(t *testing.T) {
	loaded, err := scenario.Parse("resolve.yaml", []byte(resolveYAML))
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*scenario.Scenario{"loaded": loaded, "in code": inCode()} {
		t.Run(name, func(t *testing.T) {
			r, err := scenario.Resolve(s, scenario.Overrides{})
			if err != nil {
				t.Fatal(err)
			}
			if r.Scale != 0.05 || r.Duration != time.Minute || r.Seed != 1 || len(r.Workloads) != 5 {
				t.Fatalf("run %g %v %d %d workloads", r.Scale, r.Duration, r.Seed, len(r.Workloads))
			}
			type got struct {
				key, region, spec, usage, managedBy, keyRef string
				regions                                     []string
				payload, inFlight                           int
				bucket                                      quota.BucketKey
			}
			want := map[string]got{
				"local": {"shared", "us-east-1", "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", "customer", "id",
					[]string{"us-east-1", "us-west-2"}, 32, 1000, quota.BucketKey{Account: "111111111111", Region: "us-east-1", Class: quota.KeyClass("SYMMETRIC_DEFAULT")}},
				"cross": {"shared", "us-east-1", "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", "customer", "arn",
					[]string{"us-east-1"}, 64, 20, quota.BucketKey{Account: "222222222222", Region: "us-east-1", Class: quota.KeyClass("SYMMETRIC_DEFAULT")}},
				"sign": {"signer", "us-east-1", "RSA_2048", "SIGN_VERIFY", "customer", "id",
					[]string{"us-east-1"}, 32, 1000, quota.BucketKey{Account: "111111111111", Region: "us-east-1", Class: quota.KeyClass("RSA_2048")}},
				"store": {"hsm", "us-east-1", "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", "customer", "id",
					[]string{"us-east-1"}, 32, 1000, quota.BucketKey{Account: "111111111111", Region: "us-east-1", Class: quota.KeyClass("SYMMETRIC_DEFAULT")}},
				// GenerateRandom shares the symmetric cryptographic quota.
				"random": {"", "", "", "", "", "id",
					[]string{"us-east-1"}, 32, 1000, quota.BucketKey{Account: "222222222222", Region: "us-east-1", Class: quota.KeyClass("SYMMETRIC_DEFAULT")}},
			}
			for i, w := range r.Workloads {
				if w.Index != i {
					t.Errorf("%s: index %d, want %d", w.Spec.Name, w.Index, i)
				}
				g := got{w.Key.Name, w.Key.Region, w.Key.Spec, w.Key.Usage, w.Key.ManagedBy, w.KeyRef,
					w.Regions, w.PayloadBytes, w.MaxInFlight, w.Bucket()}
				if !reflect.DeepEqual(g, want[w.Spec.Name]) {
					t.Errorf("%s:\n got %+v\nwant %+v", w.Spec.Name, g, want[w.Spec.Name])
				}
				if w.Client.Retry != scenario.RetryStandard {
					t.Errorf("%s: retry %q", w.Spec.Name, w.Client.Retry)
				}
			}
			_, store, ok := r.Workloads[3].Buckets("us-east-1")
			if !ok || store != (quota.BucketKey{Region: "us-east-1", Class: quota.StoreClass("cks-1")}) {
				t.Errorf("store bucket %v %v", store, ok)
			}
		})
	}
}

func TestResolveOverrides(t *testing.T) {
	r, err := scenario.Resolve(inCode(), scenario.Overrides{Duration: 5 * time.Second, Scale: 1, Seed: 9,
		Client: scenario.ClientOverride{Retry: "adaptive"},
		SDKEnv: scenario.ClientEnv{MaxAttempts: 7, MaxAttemptsSource: "environment AWS_MAX_ATTEMPTS"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Duration != 5*time.Second || r.Scale != 1 || r.Seed != 9 {
		t.Errorf("run %v %g %d", r.Duration, r.Scale, r.Seed)
	}
	for _, w := range r.Workloads {
		if w.Client.Retry != scenario.RetryAdaptive || w.Client.Attempts() != 7 {
			t.Errorf("%s: client %+v", w.Spec.Name, w.Client)
		}
	}
}

func TestResolveErrors(t *testing.T) {
	tests := []struct {
		name   string
		change func(*scenario.Scenario, *scenario.Overrides)
		want   string
	}{
		{"unknown caller", func(s *scenario.Scenario, _ *scenario.Overrides) { s.Workloads[0].Caller = "nobody" }, `workload "local": unknown caller "nobody"`},
		{"unknown key", func(s *scenario.Scenario, _ *scenario.Overrides) { s.Workloads[0].Key = "gone" }, `workload "local": unknown key "gone"`},
		{"needs a key", func(s *scenario.Scenario, _ *scenario.Overrides) { s.Workloads[0].Key = "" }, `operation GenerateDataKey needs a key`},
		{"unknown operation", func(s *scenario.Scenario, _ *scenario.Overrides) { s.Workloads[0].Operation = "Decrpyt" }, `unknown operation "Decrpyt"`},
		{"alias without alias", func(s *scenario.Scenario, _ *scenario.Overrides) { s.Workloads[0].KeyRef = scenario.KeyRefAlias },
			`key_ref alias but key "shared" has no alias`},
		{"unknown key_ref", func(s *scenario.Scenario, _ *scenario.Overrides) { s.Workloads[0].KeyRef = "name" }, `unknown key_ref "name"`},
		{"scale", func(_ *scenario.Scenario, o *scenario.Overrides) { o.Scale = -1 }, "scale -1 is not positive"},
		{"duration", func(s *scenario.Scenario, _ *scenario.Overrides) { s.Duration = 0 }, "no duration"},
		{"no workloads", func(s *scenario.Scenario, _ *scenario.Overrides) { s.Workloads = nil }, "no workloads"},
		{"retry flag", func(_ *scenario.Scenario, o *scenario.Overrides) { o.Client.Retry = "eager" }, `unknown retry mode "eager"`},
		{"SDK env", func(_ *scenario.Scenario, o *scenario.Overrides) {
			o.SDKEnv = scenario.ClientEnv{RetryMode: "none", RetryModeSource: "environment AWS_RETRY_MODE"}
		}, `environment AWS_RETRY_MODE: unknown retry mode "none"`},
		{"shift nowhere", func(s *scenario.Scenario, _ *scenario.Overrides) { s.Events[1].ToRegion = "" }, "shift-traffic at 20s: no to_region"},
		{"shift of nobody", func(s *scenario.Scenario, _ *scenario.Overrides) { s.Events[0].Workload = "ghost" }, `unknown workload "ghost"`},
		{"event key", func(s *scenario.Scenario, _ *scenario.Overrides) {
			s.Events = append(s.Events, scenario.Event{Action: scenario.ActionDisableKey, Key: "gone"})
		}, `unknown key "gone"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, o := inCode(), scenario.Overrides{}
			tt.change(s, &o)
			_, err := scenario.Resolve(s, o)
			if !errors.Is(err, scenario.ErrUnresolved) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v; want ErrUnresolved with %q", err, tt.want)
			}
		})
	}
}
