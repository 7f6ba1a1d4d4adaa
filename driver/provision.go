package driver

import (
	"context"
	"errors"
	"fmt"
	"maps"
	mrand "math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsload/kmsload/guard"
	"github.com/kmsload/kmsload/kmscall"
	"github.com/kmsload/kmsload/scenario"
)

// provisioned is what provisioning made: key ids, pools and payloads.
type provisioned struct {
	runID    string
	keyIDs   map[string]string // scenario key name -> key id
	created  []createdKey      // every key and replica, for clean-up
	pools    []*kmscall.Pool   // by workload index; nil when none needed
	payloads [][]byte          // by workload index
	pacer    *kmscall.Pacer
	mu       sync.Mutex
	clients  map[string]*kms.Client // "account/region" -> unmeasured client
	// cleanupFailed counts keys clean-up could not schedule for deletion.
	cleanupFailed int
}

type createdKey struct{ account, region, id string }

// provClient returns the unmeasured, patiently retrying client of account in
// region.
func (d *Driver) provClient(ctx context.Context, prov *provisioned, account, region string) (*kms.Client, error) {
	prov.mu.Lock()
	defer prov.mu.Unlock()
	k := account + "/" + region
	if c := prov.clients[k]; c != nil {
		return c, nil
	}
	c, err := d.newClient(ctx, account, region, kmscall.PatientRetryer(), false)
	if err != nil {
		return nil, err
	}
	prov.clients[k] = c
	return c, nil
}

// provision creates every scenario key with its policy, alias, replicas and
// rotation, then fills the pools of Decrypt, ReEncrypt, VerifyMac and Verify
// workloads. Nothing is measured.
func (d *Driver) provision(ctx context.Context) (*provisioned, error) {
	prov := &provisioned{
		runID:    d.runID,
		keyIDs:   map[string]string{},
		pools:    make([]*kmscall.Pool, len(d.wls)),
		payloads: make([][]byte, len(d.wls)),
		clients:  map[string]*kms.Client{},
	}
	if d.opts.Target.Kind != TargetEmbedded {
		prov.pacer = kmscall.NewPacer(nil) // the embedded emulator provisions with quotas off
	}
	d.infof("provisioning run %s: %d keys", prov.runID, len(d.res.Scenario.Keys))
	for _, name := range slices.Sorted(maps.Keys(d.res.Scenario.Keys)) {
		if err := d.createKey(ctx, prov, name); err != nil {
			return prov, fmt.Errorf("%w: key %q: %w", ErrProvision, name, err)
		}
	}
	rng := mrand.New(mrand.NewPCG(uint64(d.res.Seed), 0x6b6d736c6f6164))
	for i, w := range d.wls {
		prov.payloads[i] = randomBytes(rng, w.PayloadBytes)
		if !kmscall.NeedsPool(w.Spec.Operation) {
			continue
		}
		p, err := d.fillPool(ctx, prov, w, rng)
		if err != nil {
			return prov, fmt.Errorf("%w: workload %q: pool: %w", ErrProvision, w.Spec.Name, err)
		}
		prov.pools[i] = p
	}
	return prov, nil
}

// do paces op, then runs f.
func (prov *provisioned) do(ctx context.Context, op string, f func() error) error {
	if err := prov.pacer.Wait(ctx, op); err != nil {
		return err
	}
	if err := f(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// createKey makes scenario key name and everything that hangs off it.
func (d *Driver) createKey(ctx context.Context, prov *provisioned, name string) error {
	k := d.resolveKey(name)
	owner := d.res.Scenario.Accounts[k.Account]
	c, err := d.provClient(ctx, prov, owner.ID, k.Region)
	if err != nil {
		return err
	}
	if k.AWSManaged() {
		return d.resolveAWSManaged(ctx, prov, c, name, k, owner.ID)
	}
	if ek, ok := d.existing[name]; ok {
		return d.useExisting(ctx, prov, c, name, ek)
	}
	tags := []types.Tag{{TagKey: aws.String(guard.RunIDTag), TagValue: aws.String(prov.runID)}}
	in := &kms.CreateKeyInput{
		KeySpec:     types.KeySpec(k.Spec),
		KeyUsage:    types.KeyUsageType(k.Usage),
		MultiRegion: aws.Bool(k.MultiRegion),
		Tags:        tags,
		Description: aws.String(fmt.Sprintf("kmsload %s key %s (run %s)", d.res.Scenario.Name, name, prov.runID)),
	}
	if k.CustomKeyStore != "" {
		in.CustomKeyStoreId = aws.String(k.CustomKeyStore)
		in.Origin = types.OriginType(k.CustomKeyStoreType)
		if k.XksKeyID != "" {
			in.XksKeyId = aws.String(k.XksKeyID)
		}
	}
	var id string
	err = prov.do(ctx, "CreateKey", func() error {
		out, err := c.CreateKey(context.WithoutCancel(ctx), in) // a key made must be known, to be deleted
		if err == nil {
			id = aws.ToString(out.KeyMetadata.KeyId)
		}
		return err
	})
	if err != nil {
		return err
	}
	prov.keyIDs[name] = id
	prov.created = append(prov.created, createdKey{owner.ID, k.Region, id})
	d.infof("created key %s (%s) in %s/%s", name, id, owner.ID, k.Region)
	policy := kmscall.KeyPolicy(owner.ID, d.allowedAccounts(name))
	if err := putPolicy(ctx, prov, c, id, policy); err != nil {
		return err
	}
	if k.Alias != "" {
		if err := createAlias(ctx, prov, c, k.Alias, id); err != nil {
			return err
		}
	}
	if err := d.createGrants(ctx, prov, c, name, id); err != nil {
		return err
	}
	if k.Rotation {
		err := prov.do(ctx, "EnableKeyRotation", func() error {
			_, err := c.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: aws.String(id)})
			return err
		})
		if err != nil {
			return err
		}
	}
	for _, region := range k.Replicas {
		err := prov.do(ctx, "ReplicateKey", func() error {
			_, err := c.ReplicateKey(context.WithoutCancel(ctx), &kms.ReplicateKeyInput{
				KeyId: aws.String(id), ReplicaRegion: aws.String(region),
				Policy: aws.String(policy), Tags: tags,
			})
			return err
		})
		if err != nil {
			return err
		}
		prov.created = append(prov.created, createdKey{owner.ID, region, id})
		rc, err := d.provClient(ctx, prov, owner.ID, region)
		if err != nil {
			return err
		}
		if err := waitEnabled(ctx, prov, rc, id); err != nil {
			return fmt.Errorf("replica in %s: %w", region, err)
		}
		if k.Alias != "" {
			if err := createAlias(ctx, prov, rc, k.Alias, id); err != nil {
				return fmt.Errorf("replica in %s: %w", region, err)
			}
		}
		if err := d.createGrants(ctx, prov, rc, name, id); err != nil {
			return fmt.Errorf("replica in %s: %w", region, err)
		}
	}
	return nil
}

// resolveAWSManaged finds the AWS-managed key k (alias/aws/<service>) of
// the owner account through DescribeKey, which makes KMS create it when
// no service has used it yet. The run neither creates nor cleans it up.
func (d *Driver) resolveAWSManaged(ctx context.Context, prov *provisioned, c *kms.Client, name string, k scenario.Key, owner string) error {
	err := prov.do(ctx, "DescribeKey", func() error {
		out, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(k.Alias)})
		if err != nil {
			return err
		}
		if out.KeyMetadata.KeyManager != types.KeyManagerTypeAws {
			return fmt.Errorf("%s is managed by %s, not AWS", k.Alias, out.KeyMetadata.KeyManager)
		}
		prov.keyIDs[name] = aws.ToString(out.KeyMetadata.KeyId)
		return nil
	})
	if err != nil {
		return err
	}
	d.infof("resolved AWS-managed key %s (%s) in %s/%s", name, prov.keyIDs[name], owner, k.Region)
	return nil
}

// createGrants gives each of key name's GrantAccounts the use of the key
// through a grant to the account's root principal, for the operations the
// key's usage allows.
func (d *Driver) createGrants(ctx context.Context, prov *provisioned, c *kms.Client, name, id string) error {
	k := d.res.Scenario.Keys[name]
	ops := kmscall.GrantOperations(k.Usage)
	for _, acct := range d.res.Scenario.AccountIDs(d.res.Scenario.Accounts[k.Account].ID, k.GrantAccounts) {
		err := prov.do(ctx, "CreateGrant", func() error {
			_, err := c.CreateGrant(ctx, &kms.CreateGrantInput{
				KeyId:            aws.String(id),
				GranteePrincipal: aws.String("arn:aws:iam::" + acct + ":root"),
				Operations:       ops,
				Name:             aws.String("kmsload-" + prov.runID),
			})
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func putPolicy(ctx context.Context, prov *provisioned, c *kms.Client, id, policy string) error {
	return prov.do(ctx, "PutKeyPolicy", func() error {
		_, err := c.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{
			KeyId: aws.String(id), PolicyName: aws.String("default"), Policy: aws.String(policy),
		})
		return err
	})
}

func createAlias(ctx context.Context, prov *provisioned, c *kms.Client, alias, id string) error {
	return prov.do(ctx, "CreateAlias", func() error {
		_, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(alias), TargetKeyId: aws.String(id)})
		return err
	})
}

// ErrReplicaNotReady is returned when a replica key does not become
// Enabled within a minute.
var ErrReplicaNotReady = errors.New("driver: replica key not enabled in time")

// waitEnabled waits until key id is Enabled (replicas start as Creating).
func waitEnabled(ctx context.Context, prov *provisioned, c *kms.Client, id string) error {
	deadline := time.Now().Add(time.Minute)
	for {
		var state types.KeyState
		err := prov.do(ctx, "DescribeKey", func() error {
			out, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)})
			if err == nil {
				state = out.KeyMetadata.KeyState
			}
			return err
		})
		if err != nil {
			return err
		}
		if state == types.KeyStateEnabled {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: state %s", ErrReplicaNotReady, state)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// allowedAccounts returns the account ids key name's initial policy lets
// use the key besides its owner (Scenario.PolicyAccounts).
func (d *Driver) allowedAccounts(name string) []string {
	sc := d.res.Scenario
	return sc.AccountIDs(sc.Accounts[sc.Keys[name].Account].ID, sc.PolicyAccounts(name))
}

// fillPool prepares DefaultPoolSize ciphertexts, MACs or signatures for w,
// made by the key's owner in the key's Region.
func (d *Driver) fillPool(ctx context.Context, prov *provisioned, w *workload, rng *mrand.Rand) (*kmscall.Pool, error) {
	c, err := d.provClient(ctx, prov, w.Owner.ID, w.Key.Region)
	if err != nil {
		return nil, err
	}
	p := &kmscall.Pool{Items: make([]kmscall.Item, DefaultPoolSize)}
	for i := range p.Items {
		op, mk := kmscall.MakeItem(&w.ResolvedWorkload, prov.keyIDs[w.Key.Name], randomBytes(rng, w.PayloadBytes))
		if err := prov.do(ctx, op, func() (err error) {
			p.Items[i], err = mk(ctx, c)
			return err
		}); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// restore puts the keys an event touched back to Enabled with their
// default policy, between measured windows. Failures are logged: a key
// that cannot be restored shows up in the next window's errors.
func (d *Driver) restore(ctx context.Context, prov *provisioned, keys []string) {
	ctx = context.WithoutCancel(ctx)
	for _, name := range keys {
		k := d.resolveKey(name)
		if k.AWSManaged() { // only AWS changes it: nothing to restore
			continue
		}
		owner := d.res.Scenario.Accounts[k.Account].ID
		id := prov.keyIDs[name]
		c, err := d.provClient(ctx, prov, owner, k.Region)
		if err != nil {
			d.logf("restore key %s: %v", name, err)
			continue
		}
		var state types.KeyState
		err = prov.do(ctx, "DescribeKey", func() error {
			out, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)})
			if err == nil {
				state = out.KeyMetadata.KeyState
			}
			return err
		})
		if err != nil {
			d.logf("restore key %s: %v", name, err)
			continue
		}
		var ops []string
		switch state {
		case types.KeyStatePendingDeletion:
			ops = []string{kmscall.OpCancelKeyDeletion, kmscall.OpEnableKey}
		case types.KeyStateDisabled:
			ops = []string{kmscall.OpEnableKey}
		}
		for _, op := range ops {
			call := kmscall.KeyCall(op, id, 0, "")
			if err := prov.do(ctx, op, func() error { return call(ctx, c) }); err != nil {
				d.logf("restore key %s: %v", name, err)
			}
		}
		if err := putPolicy(ctx, prov, c, id, kmscall.KeyPolicy(owner, d.allowedAccounts(name))); err != nil {
			d.logf("restore key %s: %v", name, err)
		}
	}
}

// cleanup schedules every key the run created for deletion after the
// shortest waiting period (7 days), replicas before their primary. It
// runs also after cancellation.
func (d *Driver) cleanup(prov *provisioned) {
	ctx, cancel := context.WithTimeout(guard.WithoutCaps(context.Background()), 2*time.Minute)
	defer cancel()
	defer d.logCleanup(prov)
	for i := len(prov.created) - 1; i >= 0; i-- {
		k := prov.created[i]
		c, err := d.provClient(ctx, prov, k.account, k.region)
		if err == nil {
			call := kmscall.KeyCall(kmscall.OpScheduleKeyDeletion, k.id, kmscall.CleanupWindowDays, "")
			err = prov.do(ctx, kmscall.OpScheduleKeyDeletion, func() error { return call(ctx, c) })
		}
		if err != nil {
			d.logf("clean-up of key %s in %s: %v", k.id, k.region, err)
			prov.cleanupFailed++
		}
	}
}

func randomBytes(rng *mrand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}
