package driver_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kmsload/kmsload/driver"
	"github.com/kmsload/kmsload/guard"
	"github.com/kmsload/kmsload/scenario"
	"github.com/kmsload/kmsload/traffic"
)

func TestNewRejects(t *testing.T) {
	valid := func() *scenario.Scenario {
		sc := newScenario(time.Second)
		sc.Keys["k"] = scenario.Key{Name: "k", Account: "a"}
		sc.Workloads = []scenario.Workload{{Name: "w", Caller: "a", Key: "k", Operation: "Encrypt", Rate: 1}}
		return sc
	}
	embedded := driver.Target{Kind: driver.TargetEmbedded, Endpoint: "http://127.0.0.1:1"}
	tests := []struct {
		name string
		opts func() driver.Options
		want error
	}{
		{"no scenario", func() driver.Options { return driver.Options{Target: embedded} }, driver.ErrBadOptions},
		{"unknown target", func() driver.Options {
			return driver.Options{Scenario: valid(), Target: driver.Target{Kind: "moon"}}
		}, driver.ErrBadOptions},
		{"endpoint without URL", func() driver.Options {
			return driver.Options{Scenario: valid(), Target: driver.Target{Kind: driver.TargetEndpoint}}
		}, driver.ErrBadOptions},
		{"aws without allowed accounts", func() driver.Options {
			sc := valid()
			sc.Accounts["a"] = scenario.Account{Name: "a", ID: acctA, RoleARN: "arn:aws:iam::111111111111:role/load"}
			return driver.Options{Scenario: sc, Target: driver.Target{Kind: driver.TargetAWS}}
		}, guard.ErrAccountNotAllowed},
		{"unknown retry", func() driver.Options {
			return driver.Options{Scenario: valid(), Target: embedded, Retry: "forever"}
		}, driver.ErrBadOptions},
		{"unknown http client", func() driver.Options {
			return driver.Options{Scenario: valid(), Target: embedded, HTTPClient: "h2"}
		}, driver.ErrBadOptions},
		{"unknown caller", func() driver.Options {
			sc := valid()
			sc.Workloads[0].Caller = "z"
			return driver.Options{Scenario: sc, Target: embedded}
		}, driver.ErrBadOptions},
		{"unknown operation", func() driver.Options {
			sc := valid()
			sc.Workloads[0].Operation = "Explode"
			return driver.Options{Scenario: sc, Target: embedded}
		}, driver.ErrBadOptions},
		{"alias ref without alias", func() driver.Options {
			sc := valid()
			sc.Workloads[0].KeyRef = scenario.KeyRefAlias
			return driver.Options{Scenario: sc, Target: embedded}
		}, driver.ErrBadOptions},
		{"bad phases", func() driver.Options {
			sc := valid()
			sc.Workloads[0].Arrival = scenario.ArrivalPhases
			return driver.Options{Scenario: sc, Target: embedded}
		}, traffic.ErrBadArrival},
		{"shift to nowhere", func() driver.Options {
			sc := valid()
			sc.Events = []scenario.Event{{At: time.Second, Action: scenario.ActionShiftTraffic, Workload: "w"}}
			return driver.Options{Scenario: sc, Target: embedded}
		}, driver.ErrBadOptions},
		{"event on unknown key", func() driver.Options {
			sc := valid()
			sc.Events = []scenario.Event{{At: time.Second, Action: scenario.ActionDisableKey, Key: "nope"}}
			return driver.Options{Scenario: sc, Target: embedded}
		}, driver.ErrBadOptions},
	}
	for _, tt := range tests {
		_, err := driver.New(tt.opts())
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: New() error = %v; want %v", tt.name, err, tt.want)
		}
	}
	if _, err := driver.New(driver.Options{Scenario: valid(), Target: embedded}); err != nil {
		t.Errorf("New(valid) error = %v; want nil", err)
	}
}

func TestHTTPClientOption(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://proxy.invalid:3128")
	t.Setenv("NO_PROXY", "")
	sc := newScenario(time.Second)
	sc.Keys["k"] = scenario.Key{Name: "k", Account: "a"}
	sc.Workloads = []scenario.Workload{{Name: "w", Caller: "a", Key: "k", Operation: "Encrypt", Rate: 1}}
	plain := driver.Target{Kind: driver.TargetEmbedded, Endpoint: "http://127.0.0.1:1"}
	tests := []struct {
		name    string
		target  driver.Target
		client  string
		want    string // Results.Target.HTTPClient
		wantLog string // in what New logs; "" = nothing
	}{
		{"default, plain http", plain, "", driver.DefaultHTTPClient, ""},
		{"std", plain, driver.HTTPClientStd, driver.HTTPClientStd, ""},
		{"fast", plain, driver.HTTPClientFast, driver.HTTPClientFast, ""},
		{"fast, https", driver.Target{Kind: driver.TargetEndpoint, Endpoint: "https://127.0.0.1:1"}, driver.HTTPClientFast, driver.HTTPClientStd, "fast does not apply"},
		{"fast, proxied", driver.Target{Kind: driver.TargetEndpoint, Endpoint: "http://kms.internal.example:4599"}, driver.HTTPClientFast, driver.HTTPClientStd, "goes through proxy"},
		{"default, proxied", driver.Target{Kind: driver.TargetEndpoint, Endpoint: "http://kms.internal.example:4599"}, "", driver.HTTPClientStd, ""},
		{"caller's client", driver.Target{Kind: driver.TargetEmbedded, Endpoint: "http://127.0.0.1:1", HTTPClient: &http.Client{}}, driver.HTTPClientFast, "", ""},
	}
	for _, tt := range tests {
		var logged strings.Builder
		d, err := driver.New(driver.Options{Scenario: sc, Target: tt.target, HTTPClient: tt.client,
			Logf: func(format string, args ...any) { fmt.Fprintf(&logged, format+"\n", args...) }})
		if err != nil {
			t.Fatalf("%s: New: %v", tt.name, err)
		}
		if got := d.TargetInfo().HTTPClient; got != tt.want {
			t.Errorf("%s: Results.Target.HTTPClient = %q; want %q", tt.name, got, tt.want)
		}
		if got := logged.String(); (tt.wantLog == "") != (got == "") || !strings.Contains(got, tt.wantLog) {
			t.Errorf("%s: New logged %q; want it to say %q", tt.name, got, tt.wantLog)
		}
	}
}
