package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/kmsload/kmsload/driver"
	"github.com/kmsload/kmsload/guard"
	"github.com/kmsload/kmsload/kmscall"
	"github.com/kmsload/kmsload/plan"
	"github.com/kmsload/kmsload/report"
)

// guardFlags are the flags of `kmsload run` that guard real-AWS runs. The
// caps and the throttle kill switch work with every target.
type guardFlags struct {
	allowAccounts   []string
	yes             bool
	maxRequests     int64
	maxCostUSD      float64
	abortOnThrottle string
	useExisting     []string
}

func addGuardFlags(fl *pflag.FlagSet, g *guardFlags) {
	fl.StringSliceVar(&g.allowAccounts, "allow-account", nil, "--target aws: account id the run may touch (repeatable or comma-separated); every caller, key owner and account a key policy or grant names must be listed")
	fl.BoolVarP(&g.yes, "yes", "y", false, "--target aws: start without asking for confirmation")
	fl.Int64Var(&g.maxRequests, "max-requests", 0, "stop the run when this many requests (attempts, provisioning included) were sent (0 = no cap)")
	fl.Float64Var(&g.maxCostUSD, "max-cost-usd", 0, "stop the run when its cost at list prices reaches this many dollars (0 = no cap)")
	fl.StringVar(&g.abortOnThrottle, "abort-on-throttle", "", "stop the run when a quota bucket's throttled-attempt share over a window exceeds a share, e.g. 5%/10s")
	fl.StringArrayVar(&g.useExisting, "use-existing-key", nil, "--target aws: NAME=KEY_ARN uses an existing key for scenario key NAME: never created, changed or deleted (repeatable)")
}

// applyGuardFlags puts the caps, the kill switch and, for target aws, the
// allowed accounts and existing keys into opts.
func applyGuardFlags(opts *driver.Options, target string, g guardFlags) error {
	if g.maxRequests < 0 || g.maxCostUSD < 0 {
		return usageErr(errors.New("--max-requests and --max-cost-usd must not be negative"))
	}
	opts.Limits = guard.Limits{MaxRequests: g.maxRequests, MaxCostUSD: g.maxCostUSD, Prices: plan.DefaultPricing()}
	if g.abortOnThrottle != "" {
		l, err := guard.ParseThrottleLimit(g.abortOnThrottle)
		if err != nil {
			return usageErr(fmt.Errorf("--abort-on-throttle: %w", err))
		}
		opts.Limits.AbortOnThrottle = l
	}
	if target != driver.TargetAWS {
		if len(g.allowAccounts) > 0 || len(g.useExisting) > 0 {
			return usageErr(errors.New("--allow-account and --use-existing-key apply to --target aws only"))
		}
		return nil
	}
	opts.AllowAccounts = g.allowAccounts
	opts.ExistingKeys = map[string]string{}
	for _, kv := range g.useExisting {
		name, arn, ok := strings.Cut(kv, "=")
		if !ok || name == "" || arn == "" {
			return usageErr(fmt.Errorf("--use-existing-key %q: want NAME=KEY_ARN", kv))
		}
		opts.ExistingKeys[name] = arn
	}
	opts.RunID = kmscall.NewRunID(time.Now())
	opts.Logf = stderrLogf
	return nil
}

// confirmAWS checks the credentials (STS), prints who the run acts as,
// what it will create and the predicted requests and cost, and asks for
// confirmation unless --yes. A stdin that is not a terminal, without
// --yes, refuses.
func confirmAWS(ctx context.Context, d *driver.Driver, opts driver.Options, g guardFlags, in *os.File, w io.Writer) error {
	ids, err := d.CheckAccess(ctx)
	if err != nil {
		if errors.Is(err, guard.ErrCredentials) {
			return err
		}
		return usageErr(err)
	}
	p := d.Predict(plan.DefaultPricing())
	if err := p.Check(opts.Limits); err != nil {
		return usageErr(err)
	}
	fmt.Fprintf(w, "kmsload: --target aws: real AWS KMS; run id %s\n", opts.RunID)
	for _, id := range ids {
		fmt.Fprintf(w, "  account %-12s %s, through %s\n", id.Name, id.Account, id.Via)
	}
	fmt.Fprintf(w, "  keys: %d created (tagged %s=%s, aliases %s*, deleted after the run with a %d-day waiting period), %d existing or AWS managed (not changed)\n",
		p.CreatedKeys, guard.RunIDTag, opts.RunID, guard.AWSAliasPrefix, kmscall.CleanupWindowDays, p.ExistingKeys)
	fmt.Fprintf(w, "  predicted requests: %d (provisioning %d, measured %d in %d window(s), clean-up %d); up to %d with every retry\n",
		p.Requests, p.ProvisionRequests, p.MeasuredRequests, p.Windows, p.CleanupRequests, p.RequestsWithRetries)
	fmt.Fprintf(w, "  predicted cost: $%.4f at list prices (up to $%.4f with every retry; keys prorated over %.0f h; free tier not deducted)\n",
		p.CostUSD, p.CostWithRetriesUSD, p.Hours)
	fmt.Fprintf(w, "  limits: --max-requests %s, --max-cost-usd %s, --abort-on-throttle %s\n",
		orNone(opts.Limits.MaxRequests > 0, fmt.Sprint(opts.Limits.MaxRequests)),
		orNone(opts.Limits.MaxCostUSD > 0, fmt.Sprintf("%g", opts.Limits.MaxCostUSD)), opts.Limits.AbortOnThrottle)
	fmt.Fprintf(w, "  leftovers of a killed run: kmsload cleanup --run-id %s\n", opts.RunID)
	if g.yes {
		return nil
	}
	if !term.IsTerminal(int(in.Fd())) {
		return usageErr(errors.New("--target aws needs confirmation: stdin is not a terminal, so pass --yes"))
	}
	fmt.Fprint(w, "Start the run? [y/N] ")
	answer := make(chan string, 1)
	go func() { // ends when stdin has a line or is closed (the process exits first on Ctrl-C)
		line, _ := bufio.NewReader(in).ReadString('\n')
		answer <- line
	}()
	select {
	case <-ctx.Done():
		return usageErr(errors.New("not confirmed: nothing was created"))
	case line := <-answer:
		switch strings.ToLower(strings.TrimSpace(line)) {
		case "y", "yes":
			return nil
		}
	}
	return usageErr(errors.New("not confirmed: nothing was created"))
}

func orNone(ok bool, s string) string {
	if ok {
		return s
	}
	return "none"
}

// partialError is the exit error of a run that stopped early.
func partialError(res *report.Results) error {
	why := "run interrupted"
	if res.StopReason != "" && res.StopReason != guard.StopInterrupted {
		why = "run stopped (" + res.StopReason + "): " + res.StopDetail
	}
	return &exitError{code: exitRuntime, err: errors.New(why + ": partial results written")}
}
