package calibrate_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmsload/kmsload/calibrate"
	"github.com/kmsload/kmsload/importer"
	"github.com/kmsload/kmsload/internal/trailgen"
	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/scenario"
	"github.com/kmsload/kmsload/trail"
)

// imported generates a trail with c, imports it with opts and loads the
// scenario.
func imported(t *testing.T, c trailgen.Config, opts importer.Options) *scenario.Scenario {
	t.Helper()
	dir := t.TempDir()
	if _, err := trailgen.Generate(filepath.Join(dir, "logs"), c); err != nil {
		t.Fatal(err)
	}
	im, _ := importer.New(opts)
	if _, err := trail.Read([]string{filepath.Join(dir, "logs")}, im.Add); err != nil {
		t.Fatal(err)
	}
	res, err := im.Build(importer.BuildOptions{Name: "cal", TraceFile: "cal.trace"})
	if err != nil {
		t.Fatal(err)
	}
	var tr bytes.Buffer
	res.Trace.WriteTo(&tr)
	os.WriteFile(filepath.Join(dir, "cal.trace"), tr.Bytes(), 0o644)
	os.WriteFile(filepath.Join(dir, "cal.yaml"), res.Scenario, 0o644)
	s, err := scenario.Load(filepath.Join(dir, "cal.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func bucket(t *testing.T, r *calibrate.Report, suffix string) calibrate.Bucket {
	t.Helper()
	for _, b := range r.Buckets {
		if strings.HasSuffix(b.Name, suffix) {
			return b
		}
	}
	t.Fatalf("no bucket %s in %+v", suffix, r.Buckets)
	return calibrate.Bucket{}
}

var burst = trailgen.Config{Duration: 3 * time.Minute, BurstAt: 70 * time.Second, BurstFor: 15 * time.Second, Seed: 5}

// TestCheckAgrees: the trail was throttled by AWS's rules at AWS's
// quotas, so the model throttles the recorded attempts as the trail
// says, both when the import left the throttled calls out and when it
// replays them.
func TestCheckAgrees(t *testing.T) {
	for _, mode := range []string{importer.ThrottledEstimate, importer.ThrottledServed, importer.ThrottledReplay} {
		s := imported(t, burst, importer.Options{Throttled: mode})
		r, err := calibrate.Check(context.Background(), s, calibrate.Options{})
		if err != nil {
			t.Fatal(err)
		}
		rsa := bucket(t, r, "/rsa")
		if !r.Agrees || !r.Conclusive || rsa.Recorded < 0.1 || !strings.HasPrefix(rsa.Statement, "agrees") {
			t.Errorf("%s: verdict %q; rsa bucket %+v; want agreement on a throttled bucket", mode, r.Verdict, rsa)
		}
		if sym := bucket(t, r, "111122223333/ca-central-1/symmetric"); sym.Recorded != 0 || !strings.HasPrefix(sym.Statement, "no throttling recorded or modelled") {
			t.Errorf("%s: symmetric bucket %+v; want no throttling either side", mode, sym)
		}
	}
}

// TestCheckDisagrees: a trail throttled at a lower quota than AWS's
// default (as if the account's quota were lower) is found out, in the
// minute of the burst, with the direction said.
func TestCheckDisagrees(t *testing.T) {
	s := imported(t, burst, importer.Options{})
	// The model with RSA at twice AWS's quota throttles less than the
	// trail did.
	cfg, err := quota.Parse("quotas.yaml", []byte("asymmetric: {rsa: 2000}\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Scale = s.Scale
	r, err := calibrate.Check(context.Background(), s, calibrate.Options{Quota: cfg})
	if err != nil {
		t.Fatal(err)
	}
	rsa := bucket(t, r, "/rsa")
	if r.Agrees || rsa.Low == 0 || !strings.Contains(rsa.Statement, "the model throttles less than AWS did") || !strings.HasPrefix(r.Verdict, "DISAGREES") {
		t.Errorf("verdict %q; rsa %+v; want the model to throttle less than the trail", r.Verdict, rsa)
	}
}

// TestCheckInconclusive: a trail without throttling cannot tell the
// quotas.
func TestCheckInconclusive(t *testing.T) {
	s := imported(t, trailgen.Config{Duration: time.Minute, BurstRate: -1, Seed: 2}, importer.Options{})
	r, err := calibrate.Check(context.Background(), s, calibrate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Conclusive || !strings.HasPrefix(r.Verdict, "INCONCLUSIVE") {
		t.Errorf("verdict %q; want inconclusive", r.Verdict)
	}
}
