package driver

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/kmsload/kmsload/target"
)

// Preflight probes the endpoint target with target.Preflight, through the
// driver's unmeasured clients, before anything is provisioned; it returns
// a *target.TargetError listing everything the target lacks for the
// scenario, or nil. Run calls it for endpoint targets.
func (d *Driver) Preflight(ctx context.Context) error {
	return target.Preflight(ctx, target.Probe{
		Resolved: d.res,
		Endpoint: d.opts.Target.Endpoint,
		Server:   d.opts.Target.Server,
		Client: func(ctx context.Context, account, region string, r aws.Retryer) (*kms.Client, error) {
			return d.newClient(ctx, account, region, r, false)
		},
	})
}
