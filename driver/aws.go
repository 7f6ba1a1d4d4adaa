package driver

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsload/kmsload/guard"
	"github.com/kmsload/kmsload/kmscall"
)

// awsHTTPClient is Target.HTTPClient when set, else the SDK's buildable
// client (which honours AWS_CA_BUNDLE) with as many idle connections per
// host as the run's own client.
func (d *Driver) awsHTTPClient() aws.HTTPClient {
	if d.opts.Target.HTTPClient != nil {
		return d.opts.Target.HTTPClient
	}
	return guard.BuildableClient(d.http, d.conns)
}

// CheckAccess, for target aws, loads the credentials, assumes every role,
// and checks through STS whom each signing account's credentials belong
// to (guard.CheckAccess). It sends no KMS request and logs no secret. Run
// calls it when the caller has not. For other targets it does nothing.
func (d *Driver) CheckAccess(ctx context.Context) ([]guard.Identity, error) {
	if d.opts.Target.Kind != TargetAWS {
		return nil, nil
	}
	d.awsOnce.Lock()
	defer d.awsOnce.Unlock()
	if d.aws != nil {
		return d.identities, nil
	}
	region := d.res.Scenario.Region
	if region == "" && len(d.wls) > 0 {
		region = d.wls[0].Region()
	}
	acc, err := guard.LoadAccess(ctx, d.awsHTTPClient(), region, "kmsload-"+d.runID, d.res.Scenario.Accounts)
	if err != nil {
		return nil, err
	}
	ids, err := guard.CheckAccess(ctx, acc, d.res.Scenario, region, d.opts.AllowAccounts)
	if err != nil {
		return nil, err
	}
	d.aws, d.identities = acc, ids
	return ids, nil
}

// awsState is the part of Driver that target aws uses.
type awsState struct {
	awsOnce    sync.Mutex
	aws        *guard.Access
	identities []guard.Identity
	existing   map[string]guard.ExistingKey // scenario key name -> existing key
}

// useExisting checks, read-only (DescribeKey), that the existing key ek
// for scenario key name is a usable customer-managed key, and uses its id.
// The run creates nothing on it: no policy, alias, grant, or deletion.
func (d *Driver) useExisting(ctx context.Context, prov *provisioned, c *kms.Client, name string, ek guard.ExistingKey) error {
	var md *types.KeyMetadata
	err := prov.do(ctx, "DescribeKey", func() error {
		out, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(ek.ARN)})
		if err == nil {
			md = out.KeyMetadata
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("%w: %s: %w", guard.ErrExistingKey, ek.ARN, err)
	}
	if md.KeyState != types.KeyStateEnabled {
		return fmt.Errorf("%w: %s is %s, not Enabled", guard.ErrExistingKey, ek.ARN, md.KeyState)
	}
	k := d.resolveKey(name)
	if string(md.KeySpec) != k.Spec {
		return fmt.Errorf("%w: %s is %s; the scenario's key %s is %s", guard.ErrExistingKey, ek.ARN, md.KeySpec, name, k.Spec)
	}
	prov.keyIDs[name] = aws.ToString(md.KeyId)
	d.logf("using existing key %s (%s) in %s/%s: not created, changed or deleted", name, prov.keyIDs[name], ek.Account, ek.Region)
	return nil
}

// logCleanup reports the outcome of clean-up.
func (d *Driver) logCleanup(prov *provisioned) {
	n := len(prov.created)
	if n == 0 {
		return
	}
	if prov.cleanupFailed == 0 {
		d.logf("clean-up: %d keys of run %s scheduled for deletion (%d-day waiting period)", n, prov.runID, kmscall.CleanupWindowDays)
		return
	}
	d.logf("clean-up: %d of %d keys of run %s NOT scheduled for deletion; run: kmsload cleanup --run-id %s",
		prov.cleanupFailed, n, prov.runID, prov.runID)
}
