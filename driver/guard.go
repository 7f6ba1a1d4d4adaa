package driver

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/kmsload/kmsload/guard"
	"github.com/kmsload/kmsload/kmscall"
	"github.com/kmsload/kmsload/report"
)

// initGuards resolves the run id, checks the limits and, for target aws,
// the allowed accounts and existing keys. Called by New.
func (d *Driver) initGuards() error {
	d.runID = cmp.Or(d.opts.RunID, kmscall.NewRunID(time.Now()))
	lim := d.opts.Limits
	if err := lim.Check(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadOptions, err)
	}
	if d.opts.Target.Kind == TargetAWS {
		existing, err := guard.CheckAccounts(d.res.Scenario, d.opts.AllowAccounts, d.opts.ExistingKeys)
		if err != nil {
			return err
		}
		d.existing = existing
	} else if len(d.opts.ExistingKeys) > 0 {
		return fmt.Errorf("%w: existing keys are for target aws", ErrBadOptions)
	}
	d.g = guard.New(lim, d.Predict(lim.Prices).Hours)
	return nil
}

// guarded reports whether the run's requests go through the guard: on
// real AWS always (its spend is reported), elsewhere when a limit is set.
func (d *Driver) guarded() bool {
	return d.opts.Target.Kind == TargetAWS || d.opts.Limits.Set()
}

// finish completes Run: a panic in a driver goroutine becomes an error,
// and the results get the run id, the spend and why the run stopped.
func (d *Driver) finish(ctx context.Context, out *report.Output, err error) (*report.Output, error) {
	spend, stop, perr := d.g.Result()
	if perr != nil {
		return nil, perr
	}
	if err != nil {
		return nil, err
	}
	res := out.Results
	res.RunID = d.runID
	if d.guarded() {
		res.Spend = &spend
	}
	if res.Partial {
		if stop != nil {
			res.StopReason, res.StopDetail = stop.Reason, stop.Detail
		} else {
			res.StopReason, res.StopDetail = guard.StopInterrupted, "interrupted: "+context.Cause(ctx).Error()
		}
	}
	return out, nil
}
