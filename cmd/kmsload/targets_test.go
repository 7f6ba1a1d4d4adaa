package main_test

import (
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/kmsload/kmsload/emulator"
	"github.com/kmsload/kmsload/internal/targettest"
	"github.com/kmsload/kmsload/report"
)

// jsonShape returns the sorted field paths of a results.json document,
// objects keyed by field name and arrays reduced to their elements'
// union, except maps keyed by data (errors, versions), which count as one
// field: what "the same results schema" compares.
func jsonShape(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				p := prefix + "." + k
				set[p] = true
				switch k {
				case "errors", "versions":
					continue
				}
				walk(p, e)
			}
		case []any:
			for _, e := range x {
				walk(prefix+"[]", e)
			}
		}
	}
	walk("", v)
	var out []string
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestRunAgainstMotoAndLocalKMS runs one scenario with `--target endpoint`
// against moto_server and against local-kms: both complete with every
// request ok, write results.json with the same schema, name the server,
// and say the quotas were the target's (neither throttles).
func TestRunAgainstMotoAndLocalKMS(t *testing.T) {
	servers := []struct {
		name  string
		start func(t *testing.T) string
	}{
		{"moto", func(t *testing.T) string { return targettest.Moto(t) }},
		{"local-kms", func(t *testing.T) string { return targettest.LocalKMS(t, "111111111111", "us-east-1") }},
	}
	shapes := map[string][]string{}
	var mu sync.Mutex
	t.Run("servers", func(t *testing.T) {
		for _, s := range servers {
			t.Run(s.name, func(t *testing.T) {
				t.Parallel()
				url := s.start(t)
				out := t.TempDir()
				stdout, stderr, code := kmsload(t, "run", "testdata/targets.yaml", "--target", "endpoint", "--endpoint", url, "--quiet", "--out", out)
				if code != 0 {
					t.Fatalf("kmsload run against %s: exit %d\n%s\n%s", s.name, code, stdout, stderr)
				}
				res := readResults(t, out)
				if res.Schema != report.Schema || res.Target.Kind != "endpoint" || res.Target.Endpoint != url {
					t.Errorf("schema, target = %q, %+v; want %q, endpoint %s", res.Schema, res.Target, report.Schema, url)
				}
				if got := res.Target.Versions["target_server"]; got != s.name {
					t.Errorf("versions.target_server = %q; want %q", got, s.name)
				}
				if res.Target.QuotasAppliedBy != "target" || res.Target.QuotaModel != "target" {
					t.Errorf("quota model, applied by = %q, %q; want target, target", res.Target.QuotaModel, res.Target.QuotasAppliedBy)
				}
				if len(res.Workloads) != 3 {
					t.Fatalf("%d workloads; want 3", len(res.Workloads))
				}
				for _, w := range res.Workloads {
					if w.Requests < 20 || w.OK != w.Requests {
						t.Errorf("%s on %s: %d requests, %d ok, errors %v; want about 30, all ok", w.Name, s.name, w.Requests, w.OK, w.Errors)
					}
				}
				mu.Lock()
				shapes[s.name] = jsonShape(t, out)
				mu.Unlock()
			})
		}
	})
	if len(shapes) == 2 && !slices.Equal(shapes["moto"], shapes["local-kms"]) {
		t.Errorf("results.json fields differ:\nmoto:      %v\nlocal-kms: %v", shapes["moto"], shapes["local-kms"])
	}
}

// TestRunAccounts: moto keeps two scenario accounts apart (through its
// x-moto-account-id header); local-kms serves one account, so the same
// scenario fails before the run with a message that says so.
func TestRunAccounts(t *testing.T) {
	t.Run("moto", func(t *testing.T) {
		t.Parallel()
		url := targettest.Moto(t)
		out := t.TempDir()
		stdout, stderr, code := kmsload(t, "run", "testdata/targets-accounts.yaml", "--target", "endpoint", "--endpoint", url, "--quiet", "--out", out)
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		res := readResults(t, out)
		var buckets []string
		for _, b := range res.Buckets {
			buckets = append(buckets, b.Name)
		}
		want := []string{"111111111111/us-east-1/symmetric", "222222222222/us-east-1/symmetric"}
		if sort.Strings(buckets); !slices.Equal(buckets, want) {
			t.Errorf("buckets %v; want %v", buckets, want)
		}
		for _, w := range res.Workloads {
			if w.Requests == 0 || w.OK != w.Requests {
				t.Errorf("%s: %d requests, %d ok, errors %v; want all ok", w.Name, w.Requests, w.OK, w.Errors)
			}
		}
	})
	t.Run("local-kms", func(t *testing.T) {
		t.Parallel()
		url := targettest.LocalKMS(t, "111111111111", "us-east-1")
		out := t.TempDir()
		_, stderr, code := kmsload(t, "run", "testdata/targets-accounts.yaml", "--target", "endpoint", "--endpoint", url, "--quiet", "--out", out)
		if code != 1 {
			t.Errorf("exit %d; want 1", code)
		}
		for _, frag := range []string{"local-kms at " + url + " cannot run scenario \"targets-accounts\"", "accounts (needed by key dev-key (account 222222222222))", "KMS_ACCOUNT_ID"} {
			if !strings.Contains(stderr, frag) {
				t.Errorf("stderr does not mention %q:\n%s", frag, stderr)
			}
		}
		if _, err := os.Stat(filepath.Join(out, "results.json")); err == nil {
			t.Errorf("results.json written; want none: the run must not start")
		}
	})
}

// TestThrottleMatchesEmbedded runs one constant-rate scenario at 120% of
// a scaled quota (60/s against 50/s for 12 s, retries off) on the embedded
// emulator and against moto_server behind --throttle, at the same time:
// the throttled-attempt shares must agree within 2 points, and the
// throttled run must say the quotas were applied by kmsload.
//
// Fixed one-second quota windows follow the wall clock, and neither run
// lines its start up with them. With a window admitting q = 50 and 1.2q
// arriving per second, every whole second throttles 0.2q; the first and
// last partial seconds together throttle between 0 and 0.2q depending on
// the phase. Over T seconds the share therefore lies between
// (0.2T - 0.2) / 1.2T and 0.2 / 1.2 whatever the phase, so two runs differ
// by at most 1 / 6T: 1.4 points for T = 12 s, inside the 2-point
// tolerance with room for arrival jitter at the window edges.
func TestThrottleMatchesEmbedded(t *testing.T) {
	runs := []struct {
		name string
		args func(t *testing.T) []string
	}{
		{"embedded", func(*testing.T) []string { return nil }},
		{"moto --throttle", func(t *testing.T) []string {
			return []string{"--target", "endpoint", "--endpoint", targettest.Moto(t), "--throttle"}
		}},
	}
	share := map[string]float64{}
	var mu sync.Mutex
	t.Run("runs", func(t *testing.T) {
		for _, r := range runs {
			t.Run(r.name, func(t *testing.T) {
				t.Parallel()
				extra := r.args(t)
				out := t.TempDir()
				args := append([]string{"run", "testdata/throttle.yaml", "--quiet", "--out", out}, extra...)
				stdout, stderr, code := kmsload(t, args...)
				if code != 0 {
					t.Fatalf("kmsload %v: exit %d\n%s\n%s", args, code, stdout, stderr)
				}
				res := readResults(t, out)
				if res.Target.QuotasAppliedBy != "kmsload" || res.Target.QuotaModel != "fixed-window" {
					t.Errorf("quota model, applied by = %q, %q; want fixed-window, kmsload", res.Target.QuotaModel, res.Target.QuotasAppliedBy)
				}
				if !strings.Contains(stdout, "applied by kmsload") {
					t.Errorf("summary does not say the quotas were applied by kmsload:\n%s", stdout)
				}
				w := res.Workloads[0]
				if w.Attempts != w.Requests || w.Attempts < 600 {
					t.Fatalf("attempts, requests = %d, %d; want equal (retries off), about 720", w.Attempts, w.Requests)
				}
				// Every attempt that was not throttled reached the server and succeeded.
				if w.OK+w.ThrottledAttempts != w.Attempts {
					t.Errorf("ok %d + throttled %d != attempts %d (errors %v)", w.OK, w.ThrottledAttempts, w.Attempts, w.Errors)
				}
				s := float64(w.ThrottledAttempts) / float64(w.Attempts)
				t.Logf("%s: %d of %d attempts throttled (%.2f%%)", r.name, w.ThrottledAttempts, w.Attempts, 100*s)
				if s < 0.12 || s > 0.20 {
					t.Errorf("throttled share %.3f; want about 1/6 (0.150-0.167)", s)
				}
				mu.Lock()
				share[r.name] = s
				mu.Unlock()
			})
		}
	})
	if len(share) == 2 {
		if d := math.Abs(share["embedded"] - share["moto --throttle"]); d > 0.02 {
			t.Errorf("throttled share embedded %.2f%%, moto --throttle %.2f%%: differ by %.2f points; want <= 2",
				100*share["embedded"], 100*share["moto --throttle"], 100*d)
		}
	}
}

// localStackStandIn is the closest thing to LocalStack that runs here:
// kmsload's own emulator (which, like LocalStack, takes a 12-digit access
// key id as the caller account and the Region from the credential scope)
// behind a LocalStack-style /_localstack/health that reports kms as state.
// It is not LocalStack; it exercises the preset's path.
func localStackStandIn(t *testing.T, state string) string {
	t.Helper()
	srv, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_localstack/health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{ //nolint:errcheck
			"services": map[string]string{"kms": state, "s3": "available"},
			"edition":  "community", "version": "stand-in",
		})
	})
	mux.Handle("/", srv)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts.URL
}

// TestLocalStackPresetStandIn runs the --target localstack preset against
// the stand-in above (not a real LocalStack: none runs on these machines):
// it waits for the health answer, uses 12-digit access key ids as
// accounts (a cross-account workload works), and with --throttle reports
// kmsload's quotas. A missing LocalStack and one without KMS fail with a
// message that says what to do.
func TestLocalStackPresetStandIn(t *testing.T) {
	t.Run("running", func(t *testing.T) {
		url := localStackStandIn(t, "running")
		out := t.TempDir()
		stdout, stderr, code := kmsload(t, "run", "testdata/localstack.yaml", "--target", "localstack", "--endpoint", url,
			"--throttle", "--duration", "2s", "--quiet", "--out", out)
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		res := readResults(t, out)
		if got := res.Target.Versions["target_server"]; got != "localstack community stand-in" {
			t.Errorf("versions.target_server = %q; want the health answer's edition and version", got)
		}
		if res.Target.Endpoint != url || res.Target.QuotasAppliedBy != "kmsload" {
			t.Errorf("target = %+v; want endpoint %s, quotas applied by kmsload", res.Target, url)
		}
		if len(res.Workloads) != 2 {
			t.Fatalf("%d workloads; want 2", len(res.Workloads))
		}
		for _, w := range res.Workloads {
			if w.Requests < 30 || w.OK != w.Requests {
				t.Errorf("%s: %d requests, %d ok, errors %v; want about 40, all ok", w.Name, w.Requests, w.OK, w.Errors)
			}
		}
		// The cross-account Decrypt is charged to the caller's account.
		if w := res.Workloads[0]; w.Name != "app-decrypt" || w.CallerAccount != "111111111111" || w.Bucket != "111111111111/us-east-1/symmetric" {
			t.Errorf("workload %s: caller account %s, bucket %s; want app-decrypt charged to 111111111111", w.Name, w.CallerAccount, w.Bucket)
		}
	})
	tests := []struct {
		name string
		url  func(t *testing.T) string
		want []string
	}{
		{"nothing listening", func(t *testing.T) string { return "http://" + freeAddr(t) },
			[]string{"no LocalStack at", "/_localstack/health did not answer within 1s", "localstack start", "--endpoint"}},
		{"kms disabled", func(t *testing.T) string { return localStackStandIn(t, "disabled") },
			[]string{"does not offer KMS", `services.kms is "disabled"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := kmsload(t, "run", "testdata/small.yaml", "--target", "localstack", "--endpoint", tt.url(t),
				"--health-timeout", "1s", "--quiet", "--out", t.TempDir())
			if code != 1 {
				t.Errorf("exit %d; want 1", code)
			}
			for _, frag := range tt.want {
				if !strings.Contains(stderr, frag) {
					t.Errorf("stderr does not mention %q:\n%s", frag, stderr)
				}
			}
		})
	}
}

func TestThrottleNeedsEndpoint(t *testing.T) {
	_, stderr, code := kmsload(t, "run", "testdata/small.yaml", "--throttle", "--quiet", "--out", t.TempDir())
	if code != 2 || !strings.Contains(stderr, "--throttle applies to --target endpoint and localstack") {
		t.Errorf("exit %d, stderr %q; want 2 and the reason", code, stderr)
	}
}
