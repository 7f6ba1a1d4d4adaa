package importer_test

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kmsload/kmsload/importer"
	"github.com/kmsload/kmsload/internal/trailgen"
	"github.com/kmsload/kmsload/scenario"
	"github.com/kmsload/kmsload/trail"
)

// genConfig is a short trail with a signing burst that KMS throttled.
var genConfig = trailgen.Config{Duration: 2 * time.Minute, BurstAt: 60 * time.Second, BurstFor: 10 * time.Second, Seed: 3}

// generate writes the trail of c into a new directory.
func generate(t testing.TB, c trailgen.Config) (string, trailgen.Result) {
	t.Helper()
	dir := t.TempDir()
	res, err := trailgen.Generate(dir, c)
	if err != nil {
		t.Fatal(err)
	}
	return dir, res
}

var (
	sharedOnce sync.Once
	sharedDir  string
	sharedGen  trailgen.Result
	sharedErr  error
)

// shared is the trail of genConfig, written once for the tests that only
// read it.
func shared(t testing.TB) (string, trailgen.Result) {
	t.Helper()
	sharedOnce.Do(func() {
		if sharedDir, sharedErr = os.MkdirTemp("", "kmsload-trail"); sharedErr == nil {
			sharedGen, sharedErr = trailgen.Generate(sharedDir, genConfig)
		}
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return sharedDir, sharedGen
}

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedDir != "" {
		os.RemoveAll(sharedDir)
	}
	os.Exit(code)
}

// importDir imports the trail under dir.
func importDir(t *testing.T, dir string, opts importer.Options) (*importer.Result, trail.Summary) {
	t.Helper()
	return importScaled(t, dir, opts, 0)
}

// importScaled is importDir at scale (0 = automatic).
func importScaled(t *testing.T, dir string, opts importer.Options, scale float64) (*importer.Result, trail.Summary) {
	t.Helper()
	im, err := importer.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := trail.Read([]string{dir}, im.Add)
	if err != nil {
		t.Fatal(err)
	}
	res, err := im.Build(importer.BuildOptions{Name: "imported", TraceFile: "imported.trace", Source: dir, Scale: scale})
	if err != nil {
		t.Fatal(err)
	}
	return res, sum
}

// byOp finds the workload of op whose name contains part.
func byOp(t *testing.T, res *importer.Result, part string) importer.Workload {
	t.Helper()
	for _, w := range res.Workloads {
		if strings.Contains(w.Name, part) {
			return w
		}
	}
	t.Fatalf("no workload named like %q in %v", part, res.Workloads)
	return importer.Workload{}
}

// TestImportTrail: every actor of the trail becomes a workload replaying
// exactly its calls (throttled attempts left out, a cross-account call
// counted once), management calls are left out and counted, and the
// scenario written loads with its trace.
func TestImportTrail(t *testing.T) {
	dir, gen := shared(t)
	res, sum := importDir(t, dir, importer.Options{KeepIdentities: true, Throttled: importer.ThrottledServed})
	if sum.SkippedCount != 0 || sum.Other == 0 {
		t.Errorf("read %+v; want no bad record and the S3 events counted as other services'", sum)
	}
	want := map[string]string{ // actor -> workload name part
		"orders-api":       "acct-3333-role-orders-api-decrypt-1234abcd",
		"ingest":           "acct-3333-role-ingest-generate-data-key-0987dcba",
		"payments-encrypt": "acct-6666-role-payments-encrypt-a1b2c3d4",
		"payments-decrypt": "acct-6666-role-payments-decrypt-a1b2c3d4",
		"signer":           "acct-3333-role-signer-sign-5f6e7d8c",
		"license-check":    "acct-3333-role-license-check-verify-5f6e7d8c",
		"reporting":        "acct-6666-role-reporting-decrypt-1234abcd",
		"admin-describe":   "acct-3333-role-platform-admin-describe-key-1234abcd",
	}
	for actor, name := range want {
		w := byOp(t, res, name)
		if calls := float64(gen.Calls[actor] - gen.Throttled[actor]); w.Requests != calls || w.Throttled != float64(gen.Throttled[actor]) {
			t.Errorf("%s: %g requests, %g throttled; want %g and %d", name, w.Requests, w.Throttled, calls, gen.Throttled[actor])
		}
	}
	if len(res.Workloads) != len(want) {
		t.Errorf("%d workloads; want %d: %v", len(res.Workloads), len(want), res.Workloads)
	}
	if thr := gen.Throttled["signer"] + gen.Throttled["license-check"]; gen.Throttled["license-check"] == 0 || res.Summary.Throttled != thr {
		t.Errorf("throttled %d; want the signer's and its neighbour's, %d", res.Summary.Throttled, thr)
	}
	payments := gen.Calls["payments-encrypt"] + gen.Calls["payments-decrypt"] + gen.Calls["reporting"]
	if res.Summary.Duplicates != payments {
		t.Errorf("second copies %d; want one per cross-account call, %d", res.Summary.Duplicates, payments)
	}
	if res.Summary.NotReplayed["CreateGrant"] != gen.Calls["admin-grant"] || res.Summary.NotReplayed["ListAliases"] != gen.Calls["admin-list"] {
		t.Errorf("not replayed %v; want CreateGrant %d, ListAliases %d", res.Summary.NotReplayed, gen.Calls["admin-grant"], gen.Calls["admin-list"])
	}
	if w := byOp(t, res, "reporting"); w.Errors["AccessDeniedException"] != gen.Calls["reporting"] {
		t.Errorf("reporting errors %v; want %d AccessDeniedException", w.Errors, gen.Calls["reporting"])
	}
	s := load(t, res)
	checkScenario(t, s)
}

// TestEstimateRequests: where KMS throttled, the requests estimated from
// the attempts come within 3% of the requests the callers made; where it
// did not, they are the calls as recorded.
func TestEstimateRequests(t *testing.T) {
	dir, gen := shared(t)
	res, _ := importDir(t, dir, importer.Options{KeepIdentities: true})
	for actor, name := range map[string]string{"signer": "signer-sign", "license-check": "license-check-verify", "orders-api": "orders-api-decrypt"} {
		w := byOp(t, res, name)
		want := float64(gen.Requests[actor])
		if math.Abs(w.Requests-want) > 0.03*want || gen.Throttled[actor] == 0 && w.Requests != want {
			t.Errorf("%s: %g requests estimated; the callers made %g (%d attempts, %d throttled)", actor, w.Requests, want, gen.Calls[actor], gen.Throttled[actor])
		}
	}
	if a := res.Trace.Attempts[byOp(t, res, "signer-sign").Name]; a == nil || a.Total() != float64(gen.Calls["signer"]) {
		t.Errorf("the trace's attempts of the signer %v; want its %d recorded attempts", a, gen.Calls["signer"])
	}
}

// load writes res's files into a directory and loads the scenario.
func load(t *testing.T, res *importer.Result) *scenario.Scenario {
	t.Helper()
	dir := t.TempDir()
	var trace bytes.Buffer
	res.Trace.WriteTo(&trace)
	os.WriteFile(filepath.Join(dir, "imported.trace"), trace.Bytes(), 0o644)
	os.WriteFile(filepath.Join(dir, "imported.yaml"), res.Scenario, 0o644)
	s, err := scenario.Load(filepath.Join(dir, "imported.yaml"))
	if err != nil {
		t.Fatalf("the scenario written does not load: %v\n%s", err, res.Scenario)
	}
	return s
}

// checkScenario: the keys and workloads of the trail's layout.
func checkScenario(t *testing.T, s *scenario.Scenario) {
	t.Helper()
	if s.Duration != genConfig.Duration || s.Region != trailgen.Region || len(s.Accounts) != 3 {
		t.Errorf("duration %v, region %s, %d accounts; want %v, %s, 3", s.Duration, s.Region, len(s.Accounts), genConfig.Duration, trailgen.Region)
	}
	signing := s.Keys["key-5f6e7d8c"]
	if signing.Spec != "RSA_2048" || signing.Usage != scenario.UsageSignVerify || signing.ARN != trailgen.SigningKey {
		t.Errorf("signing key %+v; want RSA_2048 SIGN_VERIFY with the trail's ARN", signing)
	}
	central := s.Keys["key-a1b2c3d4"]
	if central.Account != "acct-7777" || s.Accounts["acct-7777"].ID != trailgen.AccountSecurity {
		t.Errorf("central key %+v; want it in the security account", central)
	}
	for _, w := range s.Workloads {
		if w.Arrival != scenario.ArrivalTrace || w.Series == nil {
			t.Errorf("workload %s: arrival %s, series %v; want a trace replay", w.Name, w.Arrival, w.Series)
		}
		if strings.Contains(w.Name, "ingest") && w.Via != "s3" {
			t.Errorf("workload %s: via %q; want s3 (S3 called KMS for the role)", w.Name, w.Via)
		}
		if strings.Contains(w.Name, "payments") && w.KeyRef != scenario.KeyRefARN {
			t.Errorf("workload %s: key_ref %s; want arn (a cross-account caller)", w.Name, w.KeyRef)
		}
	}
}

// TestOwnerCopies: a cross-account call is counted from the key owner's
// trail when the caller's trail is not in the input, and once when both
// are.
func TestOwnerCopies(t *testing.T) {
	dir, gen := generate(t, genConfig)
	if err := os.RemoveAll(filepath.Join(dir, "AWSLogs", trailgen.AccountPayments)); err != nil {
		t.Fatal(err)
	}
	res, _ := importDir(t, dir, importer.Options{KeepIdentities: true, Throttled: importer.ThrottledServed})
	if w := byOp(t, res, "role-payments-encrypt"); w.Requests != float64(gen.Calls["payments-encrypt"]) {
		t.Errorf("payments-encrypt from the owner's trail: %g; want %d", w.Requests, gen.Calls["payments-encrypt"])
	}
	if res.Summary.Duplicates != 0 {
		t.Errorf("duplicates %d; want none with one trail", res.Summary.Duplicates)
	}
}
