package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/kmsload/kmsload/driver"
	"github.com/kmsload/kmsload/emulator"
	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/target"
)

// localStackEndpoint is where `localstack start` serves every service.
const localStackEndpoint = "http://127.0.0.1:4566"

// endpointTarget is a resolved --target endpoint or localstack.
type endpointTarget struct {
	upstream string // the KMS server's URL
	server   string // target.Identify's name for it, "" when unknown
	version  string // the server's version when it tells (LocalStack)
	throttle bool   // kmsload's quota model sits in front (--throttle)
}

// setupEndpoint resolves the endpoint of --target endpoint or localstack,
// names the server behind it and, with --throttle, starts the in-process
// throttling proxy (the emulator with Options.Upstream) in front of it,
// its quotas armed after provisioning as on the embedded target. It fills
// opts.Target and opts.BeforeMeasure and returns a shutdown func.
func setupEndpoint(ctx context.Context, f runFlags, opts *driver.Options, qcfg quota.Config, quotasOn bool) (*endpointTarget, func(), error) {
	t := &endpointTarget{throttle: f.throttle}
	if f.target == "localstack" {
		t.upstream = cmp.Or(f.endpoint, localStackEndpoint)
		ver, err := waitLocalStack(ctx, http.DefaultClient, t.upstream, f.healthTimeout)
		if err != nil {
			return nil, nil, err
		}
		t.server, t.version = target.ServerLocalStack, ver
	} else {
		t.upstream = cmp.Or(f.endpoint, os.Getenv("AWS_ENDPOINT_URL_KMS"), os.Getenv("AWS_ENDPOINT_URL"))
		if t.upstream == "" {
			return nil, nil, usageErr(errors.New("--target endpoint needs --endpoint URL (or AWS_ENDPOINT_URL_KMS / AWS_ENDPOINT_URL)"))
		}
		idCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		t.server = target.Identify(idCtx, nil, t.upstream)
		cancel()
	}
	opts.Target = driver.Target{Kind: driver.TargetEndpoint, Endpoint: t.upstream, Server: t.server}
	if !f.throttle {
		return t, func() {}, nil
	}
	srv, url, shutdown, err := startEmbedded(f.windowFlags, t.upstream)
	if err != nil {
		return nil, nil, err
	}
	opts.Target.Endpoint = url
	opts.BeforeMeasure = armQuotas(srv, qcfg, quotasOn)
	return t, shutdown, nil
}

// armQuotas returns the BeforeMeasure hook that gives srv a fresh quota
// model (or none with quotas off) before each measured window.
func armQuotas(srv *emulator.Server, qcfg quota.Config, quotasOn bool) func() {
	return func() {
		if !quotasOn {
			srv.SetQuota(nil)
			return
		}
		m, err := quota.New(qcfg)
		if err != nil { // validated by quotaConfig; cannot happen
			panic(err)
		}
		srv.SetQuota(m)
	}
}

// annotate records in res what the target was and who applied quotas:
// the endpoint is the KMS server's, not the proxy's.
func (t *endpointTarget) annotate(res *report.Results, qcfg quota.Config, quotasOn bool) {
	res.Target.Endpoint = t.upstream
	if t.server != "" {
		if res.Target.Versions == nil {
			res.Target.Versions = map[string]string{}
		}
		res.Target.Versions["target_server"] = strings.TrimSpace(t.server + " " + t.version)
	}
	if !t.throttle {
		res.Target.QuotaModel, res.Target.QuotasAppliedBy = "target", "target"
		return
	}
	res.Target.QuotasAppliedBy = "kmsload"
	res.Target.QuotaModel = "off"
	if quotasOn {
		res.Target.QuotaModel = cmp.Or(string(qcfg.Algorithm), string(quota.FixedWindow))
	}
}

// waitLocalStack polls url's /_localstack/health until it reports KMS
// available or running, for at most timeout, and returns LocalStack's
// version.
func waitLocalStack(ctx context.Context, hc *http.Client, url string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	health := strings.TrimRight(url, "/") + "/_localstack/health"
	last := "no answer"
	for {
		state, ver, err := localStackHealth(ctx, hc, health)
		switch {
		case err != nil:
			last = err.Error()
		case state == "available" || state == "running":
			return ver, nil
		case state == "":
			last = "the answer lists no kms service"
		default:
			last = fmt.Sprintf("services.kms is %q", state)
		}
		select {
		case <-ctx.Done():
			if state != "" || err == nil {
				return "", fmt.Errorf("--target localstack: LocalStack at %s does not offer KMS after %v (%s): "+
					"start it with KMS enabled (SERVICES unset, or SERVICES=kms)", url, timeout, last)
			}
			return "", fmt.Errorf("--target localstack: no LocalStack at %s: GET %s did not answer within %v (%s); "+
				"start it with `localstack start -d` or `docker run --rm -d -p 127.0.0.1:4566:4566 localstack/localstack`, "+
				"name another address with --endpoint, or wait longer with --health-timeout", url, health, timeout, last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// localStackHealth reads one /_localstack/health answer: the state of the
// kms service and LocalStack's version.
func localStackHealth(ctx context.Context, hc *http.Client, health string) (state, version string, err error) {
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, health, nil)
	if err != nil {
		return "", "", err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	var h struct {
		Services map[string]string `json:"services"`
		Version  string            `json:"version"`
		Edition  string            `json:"edition"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return "", "", fmt.Errorf("not LocalStack's health answer: %w", err)
	}
	return h.Services["kms"], strings.TrimSpace(h.Edition + " " + h.Version), nil
}
