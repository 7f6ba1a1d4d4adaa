// Package scenarios_test runs every scenario of the library on the
// embedded emulator and asserts the finding each one states, in numbers.
package scenarios_test

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/kmsload/kmsload/driver"
	"github.com/kmsload/kmsload/emulator"
	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/scenario"
)

// load reads scenarios/<name>.yaml.
func load(t *testing.T, name string) *scenario.Scenario {
	t.Helper()
	s, err := scenario.Load(filepath.Join(".", name+".yaml"))
	if err != nil {
		t.Fatalf("Load(%s): %v", name, err)
	}
	return s
}

// shorten returns a copy of s whose run lasts d, with every event moved to
// the same fraction of the run as in the file.
func shorten(s *scenario.Scenario, d time.Duration) *scenario.Scenario {
	c := *s
	c.Events = slices.Clone(s.Events)
	for i := range c.Events {
		c.Events[i].At = time.Duration(float64(c.Events[i].At) * float64(d) / float64(s.Duration))
	}
	c.Duration = d
	return &c
}

// only returns a copy of s with the named workload alone (every key kept).
func only(s *scenario.Scenario, workload string) *scenario.Scenario {
	c := *s
	c.Keys = maps.Clone(s.Keys)
	c.Workloads = nil
	for _, w := range s.Workloads {
		if w.Name == workload {
			c.Workloads = append(c.Workloads, w)
		}
	}
	c.Events = nil
	return &c
}

// env is an emulator on httptest whose clock can be shifted so that its
// fixed one-second quota windows line up with the first request of each
// measured window (as a real run's windows would on average, but
// repeatably).
type env struct {
	srv       *emulator.Server
	url       string
	client    *http.Client
	offset    atomic.Int64
	alignNext atomic.Bool
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{}
	srv, err := emulator.New(emulator.Options{Clock: func() time.Time { return time.Now().Add(time.Duration(e.offset.Load())) }})
	if err != nil {
		t.Fatalf("emulator.New: %v", err)
	}
	e.srv = srv
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" && e.alignNext.CompareAndSwap(true, false) {
			now := time.Now()
			e.offset.Store(int64(now.Truncate(time.Second).Add(time.Second).Sub(now)))
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	e.url, e.client = ts.URL, ts.Client()
	return e
}

// run replays s at scale for its duration with a fresh AWS quota model per
// measured window and returns the results.
func (e *env) run(t *testing.T, s *scenario.Scenario, scale float64, isolate bool) *report.Results {
	t.Helper()
	cfg := quota.DefaultConfig()
	cfg.Scale = scale
	d, err := driver.New(driver.Options{
		Scenario: s,
		Target:   driver.Target{Kind: driver.TargetEmbedded, Endpoint: e.url},
		Scale:    scale,
		Isolate:  isolate,
		Quota:    cfg,
		BeforeMeasure: func() {
			m, err := quota.New(cfg)
			if err != nil {
				t.Errorf("quota.New: %v", err)
				return
			}
			e.srv.SetQuota(m)
			e.alignNext.Store(true)
		},
	})
	if err != nil {
		t.Fatalf("driver.New(%s): %v", s.Name, err)
	}
	out, err := d.Run(context.Background())
	if err != nil {
		t.Fatalf("Run(%s): %v", s.Name, err)
	}
	if out.Results.Partial {
		t.Fatalf("Run(%s): partial results", s.Name)
	}
	return out.Results
}

// stats returns the emulator's quota buckets of the last measured window.
func (e *env) stats() []quota.BucketStats {
	return e.srv.Quota().Stats(e.srv.Now())
}

// kms returns an SDK client of account in region, retries off.
func (e *env) kms(account, region string) *kms.Client {
	cfg := aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(account, "secret", ""),
		HTTPClient:  e.client,
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
	}
	return kms.NewFromConfig(cfg, func(o *kms.Options) { o.BaseEndpoint = aws.String(e.url) })
}

// coupling runs workload w of s alone, then s whole, each on a fresh
// emulator, and returns w's coupling (as --isolate computes it) and the
// combined results.
func coupling(t *testing.T, s *scenario.Scenario, w string, scale float64) (report.Coupling, *report.Results) {
	t.Helper()
	alone := workload(t, newEnv(t).run(t, only(s, w), scale, false), w)
	all := newEnv(t).run(t, s, scale, false)
	cs := report.ComputeCoupling(map[string]report.Workload{w: alone}, all.Workloads)
	if len(cs) != 1 {
		t.Fatalf("ComputeCoupling: %d entries; want 1", len(cs))
	}
	return cs[0], all
}

func workload(t *testing.T, r *report.Results, name string) report.Workload {
	t.Helper()
	for _, w := range r.Workloads {
		if w.Name == name {
			return w
		}
	}
	t.Fatalf("%s: no results for workload %q", r.Scenario.Name, name)
	return report.Workload{}
}

// share returns throttled / (allowed + throttled) of a bucket's stats.
func share(b quota.BucketStats) float64 {
	if n := b.Allowed + b.Throttled; n > 0 {
		return float64(b.Throttled) / float64(n)
	}
	return 0
}

// bucketStats returns the stats of the bucket of account in region whose
// class starts with class.
func bucketStats(st []quota.BucketStats, account, region, class string) (quota.BucketStats, bool) {
	for _, b := range st {
		if b.Account == account && b.Region == region && strings.HasPrefix(string(b.Class), class) {
			return b, true
		}
	}
	return quota.BucketStats{}, false
}

// failures returns, per second, the failed requests of w with code.
func failures(w report.Workload, code string) map[int]int64 {
	out := map[int]int64{}
	for _, sc := range w.FailedBySecond {
		if sc.Code == code {
			out[sc.T] += sc.Count
		}
	}
	return out
}

// sumOver adds the counts of seconds from..to (inclusive).
func sumOver(m map[int]int64, from, to int) int64 {
	var n int64
	for s := from; s <= to; s++ {
		n += m[s]
	}
	return n
}

// noErrors fails unless every request of r's workloads succeeded.
func noErrors(t *testing.T, r *report.Results) {
	t.Helper()
	for _, w := range r.Workloads {
		if w.OK != w.Requests || len(w.Errors) > 0 || w.Requests == 0 {
			t.Errorf("%s: %d of %d requests OK, errors %v; want all OK", w.Name, w.OK, w.Requests, w.Errors)
		}
	}
}
