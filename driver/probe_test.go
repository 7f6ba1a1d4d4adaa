package driver_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kmsload/kmsload/driver"
	"github.com/kmsload/kmsload/emulator"
	"github.com/kmsload/kmsload/internal/targettest"
	"github.com/kmsload/kmsload/scenario"
	"github.com/kmsload/kmsload/target"
)

// preflightCase is a scenario and the features Preflight must find
// missing on one target (nil: none).
type preflightCase struct {
	name string
	sc   *scenario.Scenario
	want []string // Lack.Feature, in order
	// wantText are fragments the error message must contain.
	wantText []string
}

// sameAccount: symmetric, HMAC and ECC keys of account a, used by a, with
// an alias and every pool-based operation.
func sameAccount() *scenario.Scenario {
	sc := newScenario(time.Second)
	sc.Keys["sym"] = scenario.Key{Name: "sym", Account: "a", Alias: "alias/sym"}
	sc.Keys["mac"] = scenario.Key{Name: "mac", Account: "a", Spec: "HMAC_256"}
	sc.Keys["sig"] = scenario.Key{Name: "sig", Account: "a", Spec: "ECC_NIST_P256"}
	sc.Workloads = []scenario.Workload{
		{Name: "gdk", Caller: "a", Key: "sym", KeyRef: scenario.KeyRefAlias, Operation: "GenerateDataKey", Rate: 10},
		{Name: "dec", Caller: "a", Key: "sym", Operation: "Decrypt", Rate: 10},
		{Name: "vmac", Caller: "a", Key: "mac", Operation: "VerifyMac", Rate: 10},
		{Name: "ver", Caller: "a", Key: "sig", Operation: "Verify", Rate: 10},
	}
	return sc
}

// twoAccounts: accounts a and b each use a key of their own.
func twoAccounts() *scenario.Scenario {
	sc := newScenario(time.Second)
	sc.Keys["ka"] = scenario.Key{Name: "ka", Account: "a"}
	sc.Keys["kb"] = scenario.Key{Name: "kb", Account: "b"}
	sc.Workloads = []scenario.Workload{
		{Name: "wa", Caller: "a", Key: "ka", Operation: "Encrypt", Rate: 10},
		{Name: "wb", Caller: "b", Key: "kb", Operation: "Encrypt", Rate: 10},
	}
	return sc
}

// crossAccount: account b uses a's key by ARN.
func crossAccount() *scenario.Scenario {
	sc := newScenario(time.Second)
	sc.Keys["k"] = scenario.Key{Name: "k", Account: "a"}
	sc.Workloads = []scenario.Workload{
		{Name: "local", Caller: "a", Key: "k", Operation: "Encrypt", Rate: 10},
		{Name: "remote", Caller: "b", Key: "k", KeyRef: scenario.KeyRefARN, Operation: "Encrypt", Rate: 10},
	}
	return sc
}

// withEvents adds events on key k to a one-key scenario.
func withEvents(evs ...scenario.Event) *scenario.Scenario {
	sc := newScenario(time.Second)
	sc.Keys["k"] = scenario.Key{Name: "k", Account: "a"}
	sc.Workloads = []scenario.Workload{{Name: "w", Caller: "a", Key: "k", Operation: "Encrypt", Rate: 10}}
	sc.Events = evs
	return sc
}

// multiRegion: a multi-Region key with a replica in us-west-2, used in both.
func multiRegion() *scenario.Scenario {
	sc := newScenario(time.Second)
	sc.Keys["mrk"] = scenario.Key{Name: "mrk", Account: "a", MultiRegion: true, Replicas: []string{"us-west-2"}}
	sc.Workloads = []scenario.Workload{
		{Name: "east", Caller: "a", Key: "mrk", Operation: "Encrypt", Rate: 10},
		{Name: "west", Caller: "a", Key: "mrk", Region: "us-west-2", Operation: "Encrypt", Rate: 10},
	}
	return sc
}

func runPreflight(t *testing.T, tgt driver.Target, tc preflightCase) {
	t.Helper()
	d, err := driver.New(driver.Options{Scenario: tc.sc, Target: tgt, Logf: t.Logf})
	if err != nil {
		t.Fatalf("driver.New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err = d.Preflight(ctx)
	if tc.want == nil {
		if err != nil {
			t.Fatalf("Preflight() = %v; want nil", err)
		}
		return
	}
	var te *target.TargetError
	if !errors.As(err, &te) || !errors.Is(err, target.ErrTargetLacks) {
		t.Fatalf("Preflight() = %v; want a *TargetError wrapping ErrTargetLacks", err)
	}
	var got []string
	for _, l := range te.Lacks {
		got = append(got, l.Feature)
	}
	if !slices.Equal(got, tc.want) {
		t.Errorf("Preflight() lacks %q; want %q\n%v", got, tc.want, err)
	}
	for _, frag := range tc.wantText {
		if !strings.Contains(err.Error(), frag) {
			t.Errorf("Preflight() error does not mention %q:\n%v", frag, err)
		}
	}
	t.Logf("%v", err)
}

func TestPreflightMoto(t *testing.T) {
	url := targettest.Moto(t)
	tgt := driver.Target{Kind: driver.TargetEndpoint, Endpoint: url, Server: target.ServerMoto}
	tests := []preflightCase{
		{name: "key specs, aliases, pools", sc: sameAccount()},
		// moto keeps each account apart through its account header.
		{name: "two accounts", sc: twoAccounts()},
		{name: "multi-Region key with replica", sc: multiRegion()},
		{name: "rotate event", sc: withEvents(scenario.Event{At: 0, Action: scenario.ActionRotate, Key: "k"})},
		{
			name: "cross-account", sc: crossAccount(),
			want:     []string{"cross-account key use"},
			wantText: []string{"workload remote", "Encrypt by account 222222222222", "NotFoundException", "one key store per account"},
		},
		{
			name: "AWS-managed key", sc: awsManaged(),
			want:     []string{"AWS-managed keys"},
			wantText: []string{"key s3", "DescribeKey alias/aws/s3 answered a key managed by CUSTOMER, not AWS"},
		},
		{
			name: "disable-key", sc: withEvents(
				scenario.Event{At: 0, Action: scenario.ActionDisableKey, Key: "k"},
				scenario.Event{At: time.Second / 2, Action: scenario.ActionEnableKey, Key: "k"}),
			want:     []string{"key states"},
			wantText: []string{"event disable-key at 0s on key k", "Encrypt on a Disabled key succeeded", "moto does not enforce key states"},
		},
		{
			name: "schedule-deletion", sc: withEvents(scenario.Event{At: 0, Action: scenario.ActionScheduleDelete, Key: "k"}),
			want:     []string{"key states"},
			wantText: []string{"PendingDeletion"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runPreflight(t, tgt, tc) })
	}
	// A run leaves its alias behind on a long-lived server: the next run's
	// CreateAlias would fail, so the preflight says so first.
	t.Run("alias left by an earlier run", func(t *testing.T) {
		sc := withEvents()
		sc.Duration = 100 * time.Millisecond
		k := sc.Keys["k"]
		k.Alias = "alias/left-behind"
		sc.Keys["k"] = k
		d, err := driver.New(driver.Options{Scenario: sc, Target: tgt})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Run(context.Background()); err != nil {
			t.Fatalf("first Run: %v", err)
		}
		runPreflight(t, tgt, preflightCase{sc: sc, want: []string{"unused alias names"},
			wantText: []string{"alias/left-behind already exists in account 111111111111, us-east-1"}})
	})
}

// awsManaged: a workload on account a's AWS-managed key for S3.
func awsManaged() *scenario.Scenario {
	sc := newScenario(time.Second)
	sc.Keys["s3"] = scenario.Key{Name: "s3", Account: "a", ManagedBy: scenario.ManagedByAWS, Alias: "alias/aws/s3"}
	sc.Workloads = []scenario.Workload{{Name: "w", Caller: "a", Key: "s3", Operation: "GenerateDataKey", Rate: 10}}
	return sc
}

func TestPreflightLocalKMS(t *testing.T) {
	url := targettest.LocalKMS(t, acctA, "us-east-1")
	tgt := driver.Target{Kind: driver.TargetEndpoint, Endpoint: url, Server: target.ServerLocalKMS}
	tests := []preflightCase{
		{
			// local-kms drops the connection on PutKeyPolicy for HMAC and
			// ECC keys; symmetric keys, aliases and pools work.
			name: "key specs, aliases, pools", sc: sameAccount(),
			want:     []string{"key policies"},
			wantText: []string{"needed by key mac, key sig", "PutKeyPolicy: the target closed the connection"},
		},
		{name: "disable-key and schedule-deletion", sc: withEvents(
			scenario.Event{At: 0, Action: scenario.ActionDisableKey, Key: "k"},
			scenario.Event{At: time.Second / 2, Action: scenario.ActionScheduleDelete, Key: "k"})},
		{
			name: "two accounts", sc: twoAccounts(),
			want:     []string{"accounts"},
			wantText: []string{"key kb (account 222222222222)", "a key of account 111111111111", "KMS_ACCOUNT_ID"},
		},
		{
			// Caller b owns no key: a key created as b shows whose it is.
			name: "cross-account caller", sc: crossAccount(),
			want:     []string{"accounts"},
			wantText: []string{"workload remote (caller account 222222222222)", "a key of account 111111111111"},
		},
		{
			name: "multi-Region key with replica", sc: multiRegion(),
			want:     []string{"multi-Region keys", "multi-Region replicas"},
			wantText: []string{"single-Region key", "ReplicateKey is not implemented (HTTP 501)"},
		},
		{
			name: "rotate event", sc: withEvents(scenario.Event{At: 0, Action: scenario.ActionRotate, Key: "k"}),
			want:     []string{"operation RotateKeyOnDemand"},
			wantText: []string{"event rotate at 0s on key k", "RotateKeyOnDemand is not implemented (HTTP 501)"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runPreflight(t, tgt, tc) })
	}
}

// TestPreflightEmulator: kmsload's emulator does everything the probe
// checks, so nothing is reported missing (no false alarms).
func TestPreflightEmulator(t *testing.T) {
	srv, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	tgt := driver.Target{Kind: driver.TargetEndpoint, Endpoint: ts.URL, Server: target.ServerKmsload}
	everything := crossAccount()
	everything.Keys["mrk"] = scenario.Key{Name: "mrk", Account: "a", MultiRegion: true, Replicas: []string{"us-west-2"}, Rotation: true, Alias: "alias/m"}
	everything.Keys["g"] = scenario.Key{Name: "g", Account: "a", GrantAccounts: []string{"c"}}
	everything.Keys["s3"] = awsManaged().Keys["s3"]
	everything.Workloads = append(everything.Workloads,
		scenario.Workload{Name: "west", Caller: "b", Key: "mrk", KeyRef: scenario.KeyRefARN, Region: "us-west-2", Operation: "Decrypt", Rate: 10},
		scenario.Workload{Name: "alias", Caller: "a", Key: "mrk", KeyRef: scenario.KeyRefAlias, Operation: "GenerateDataKey", Rate: 10},
		scenario.Workload{Name: "granted", Caller: "c", Key: "g", KeyRef: scenario.KeyRefARN, Operation: "Encrypt", Rate: 10},
		scenario.Workload{Name: "managed", Caller: "a", Key: "s3", KeyRef: scenario.KeyRefAlias, Operation: "GenerateDataKey", Rate: 10},
	)
	everything.Events = []scenario.Event{
		{At: 0, Action: scenario.ActionDisableKey, Key: "k"},
		{At: 0, Action: scenario.ActionScheduleDelete, Key: "mrk"},
		{At: 0, Action: scenario.ActionRotate, Key: "k"},
		{At: 0, Action: scenario.ActionPutKeyPolicy, Key: "k", AllowAccounts: []string{"b"}},
	}
	runPreflight(t, tgt, preflightCase{name: "everything", sc: everything})
}
