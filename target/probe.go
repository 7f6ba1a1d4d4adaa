package target

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/kmsload/kmsload/failure"
	"github.com/kmsload/kmsload/kmscall"
	"github.com/kmsload/kmsload/scenario"
)

// Probe is what Preflight needs of a run.
type Probe struct {
	// Resolved is the run's scenario.
	Resolved *scenario.Resolved
	// Endpoint is the target's URL; Server what Identify found there.
	Endpoint, Server string
	// Client returns an unmeasured client of the target signing as
	// account in region, with retryer.
	Client func(ctx context.Context, account, region string, retryer aws.Retryer) (*kms.Client, error)
}

// Preflight checks, before anything is provisioned, that the target can do
// what the scenario needs: for every scenario key it creates a stand-in
// key (tagged ProbeTag) with the same spec, usage, multi-Region setting,
// owner and Region, checks the account and Region in its ARN, and sets its
// key policy, alias, grants, rotation and replicas as provisioning would;
// it calls each workload's operation once as the workload's caller in
// each of its Regions; and for each key event it checks the target honours
// the key state (a Disabled or PendingDeletion key must refuse use). The
// stand-in keys are scheduled for deletion afterwards. Calls are paced as
// provisioning paces them (kmscall.ProvisionRate). It returns a
// *TargetError listing every missing feature, or nil.
func Preflight(ctx context.Context, pr Probe) error {
	p := &prober{
		pr:      pr,
		sc:      pr.Resolved.Scenario,
		clients: map[string]*kms.Client{},
		pacer:   kmscall.NewPacer(nil),
		keys:    map[string]*probeKey{},
		tag:     kmscall.NewRunID(time.Now()),
	}
	defer p.cleanup(ctx)
	for _, name := range slices.Sorted(maps.Keys(p.sc.Keys)) {
		p.key(ctx, name)
	}
	owners := map[string]bool{}
	for _, pk := range p.keys {
		owners[pk.owner] = true
	}
	for i := range pr.Resolved.Workloads {
		w := &pr.Resolved.Workloads[i]
		if !owners[w.Caller.ID] {
			owners[w.Caller.ID] = true
			p.account(ctx, w.Caller.ID, w.Region(), fmt.Sprintf("workload %s (caller account %s)", w.Spec.Name, w.Caller.ID))
		}
	}
	for i := range pr.Resolved.Workloads {
		p.workload(ctx, &pr.Resolved.Workloads[i])
	}
	p.events(ctx)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("target: preflight: %w", err)
	}
	if len(p.lacks) == 0 {
		return nil
	}
	return &TargetError{Endpoint: pr.Endpoint, Server: pr.Server, Scenario: p.sc.Name, Lacks: p.lacks}
}

// prober holds the state of one Preflight.
type prober struct {
	pr      Probe
	sc      *scenario.Scenario
	clients map[string]*kms.Client // "account/region"
	pacer   *kmscall.Pacer
	keys    map[string]*probeKey // scenario key name
	aliases []probeAlias
	lacks   []Lack
	tag     string
}

type probeKey struct {
	id, owner, region string
	replicas          []string
	alias             string // probe alias standing in for the key's alias
	managed           bool   // an AWS-managed key: used, never changed
}

type probeAlias struct{ account, region, name string }

// lack records a missing feature; a feature already recorded only gains
// needer.
func (p *prober) lack(feature, needer, evidence string) {
	for i := range p.lacks {
		if p.lacks[i].Feature == feature {
			if !slices.Contains(p.lacks[i].NeededBy, needer) {
				p.lacks[i].NeededBy = append(p.lacks[i].NeededBy, needer)
			}
			return
		}
	}
	p.lacks = append(p.lacks, Lack{Feature: feature, NeededBy: []string{needer}, Evidence: evidence})
}

// probeRetryer retries throttling and transient errors a few times, without
// a retry quota; an unimplemented operation (HTTP 501) is not retried.
func probeRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 5
		o.MaxBackoff = 2 * time.Second
		o.RateLimiter = ratelimit.None
	})
}

// call paces op like provisioning, then runs f with the unmeasured client
// of account in region and returns its error. Preflight discards what it
// recorded once ctx is done.
func (p *prober) call(ctx context.Context, account, region, op string, f func(*kms.Client) error) error {
	if err := p.pacer.Wait(ctx, op); err != nil {
		return err
	}
	k := account + "/" + region
	c := p.clients[k]
	if c == nil {
		var err error
		if c, err = p.pr.Client(ctx, account, region, probeRetryer()); err != nil {
			return err
		}
		p.clients[k] = c
	}
	return f(c)
}

// describe renders a target's error for a Lack.
func describe(op string, err error) string {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotImplemented {
		return op + " is not implemented (HTTP 501)"
	}
	switch _, code := kmscall.Classify(err); code {
	case failure.CodeConnection:
		return op + ": the target closed the connection without an answer (each attempt)"
	case failure.CodeTimeout:
		return op + ": the target did not answer in time"
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		msg := api.ErrorMessage()
		if len(msg) > 160 {
			msg = msg[:160] + "..."
		}
		if msg != "" {
			return fmt.Sprintf("%s: %s: %s", op, api.ErrorCode(), msg)
		}
		return fmt.Sprintf("%s: %s", op, api.ErrorCode())
	}
	return fmt.Sprintf("%s: %v", op, err)
}

// arnParts returns the Region and account of a KMS ARN.
func arnParts(arn string) (region, account string) {
	f := strings.SplitN(arn, ":", 6)
	if len(f) < 6 {
		return "", ""
	}
	return f[3], f[4]
}

// key creates the stand-in of scenario key name with everything that hangs
// off it.
func (p *prober) key(ctx context.Context, name string) {
	k, _ := p.sc.ResolvedKey(name)
	owner := p.sc.Accounts[k.Account].ID
	needer := "key " + name
	if k.AWSManaged() {
		p.awsManaged(ctx, name, k, owner)
		return
	}
	if k.Alias != "" {
		if _, err := p.describeKey(ctx, owner, k.Region, k.Alias); err == nil {
			p.lack("unused alias names", needer, fmt.Sprintf("%s already exists in account %s, %s (an earlier run on this server left it): restart the server", k.Alias, owner, k.Region))
		}
	}
	in := &kms.CreateKeyInput{
		KeySpec:     types.KeySpec(k.Spec),
		KeyUsage:    types.KeyUsageType(k.Usage),
		MultiRegion: aws.Bool(k.MultiRegion),
		Tags:        []types.Tag{{TagKey: aws.String(ProbeTag), TagValue: aws.String("preflight")}},
		Description: aws.String("kmsload preflight " + p.tag),
	}
	what := "CreateKey " + k.Spec
	if k.MultiRegion {
		what += " multi-Region"
	}
	if k.CustomKeyStore != "" {
		in.CustomKeyStoreId = aws.String(k.CustomKeyStore)
		in.Origin = types.OriginType(k.CustomKeyStoreType)
		if k.XksKeyID != "" {
			in.XksKeyId = aws.String(k.XksKeyID)
		}
		what += " in custom key store " + k.CustomKeyStore
	}
	var md *types.KeyMetadata
	err := p.call(ctx, owner, k.Region, "CreateKey", func(c *kms.Client) error {
		out, err := c.CreateKey(ctx, in)
		if err == nil {
			md = out.KeyMetadata
		}
		return err
	})
	if err != nil || md == nil {
		feature := "key spec " + k.Spec
		switch {
		case k.CustomKeyStore != "":
			feature = "custom key stores"
		case k.MultiRegion && k.Spec == "SYMMETRIC_DEFAULT":
			feature = "multi-Region keys"
		}
		p.lack(feature, needer, describe(what, err))
		return
	}
	id := aws.ToString(md.KeyId)
	pk := &probeKey{id: id, owner: owner, region: k.Region}
	p.keys[name] = pk
	region, account := arnParts(aws.ToString(md.Arn))
	if account != owner {
		p.lack("accounts", needer+" (account "+owner+")",
			fmt.Sprintf("CreateKey signed as account %s made %s, a key of account %s", owner, aws.ToString(md.Arn), account))
	}
	if region != k.Region {
		p.lack("Regions", needer+" (Region "+k.Region+")",
			fmt.Sprintf("CreateKey signed for %s made %s, a key in %s", k.Region, aws.ToString(md.Arn), region))
	}
	if k.MultiRegion && (!aws.ToBool(md.MultiRegion) || !strings.HasPrefix(id, "mrk-")) {
		p.lack("multi-Region keys", needer, fmt.Sprintf("CreateKey with MultiRegion=true made single-Region key %s", id))
	}
	policy := kmscall.KeyPolicy(owner, p.sc.AccountIDs(owner, p.sc.PolicyAccounts(name)))
	if err := p.call(ctx, owner, k.Region, "PutKeyPolicy", func(c *kms.Client) error {
		_, err := c.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: aws.String(id), PolicyName: aws.String("default"), Policy: aws.String(policy)})
		return err
	}); err != nil {
		p.lack("key policies", needer, describe("PutKeyPolicy", err))
	}
	if k.Alias != "" {
		pk.alias = "alias/kmsload-probe-" + p.tag + "-" + safeAliasPart(name)
		if err := p.call(ctx, owner, k.Region, "CreateAlias", func(c *kms.Client) error {
			_, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(pk.alias), TargetKeyId: aws.String(id)})
			return err
		}); err != nil {
			p.lack("aliases", needer, describe("CreateAlias", err))
		} else {
			p.aliases = append(p.aliases, probeAlias{owner, k.Region, pk.alias})
		}
	}
	if grantees := p.sc.AccountIDs(owner, k.GrantAccounts); len(grantees) > 0 {
		if err := p.call(ctx, owner, k.Region, "CreateGrant", func(c *kms.Client) error {
			_, err := c.CreateGrant(ctx, &kms.CreateGrantInput{
				KeyId: aws.String(id), GranteePrincipal: aws.String("arn:aws:iam::" + grantees[0] + ":root"),
				Operations: kmscall.GrantOperations(k.Usage), Name: aws.String("kmsload-probe"),
			})
			return err
		}); err != nil {
			p.lack("grants", needer, describe("CreateGrant", err))
		}
	}
	if k.Rotation {
		if err := p.call(ctx, owner, k.Region, "EnableKeyRotation", func(c *kms.Client) error {
			_, err := c.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: aws.String(id)})
			return err
		}); err != nil {
			p.lack("automatic key rotation", needer, describe("EnableKeyRotation", err))
		}
	}
	for _, r := range k.Replicas {
		p.replica(ctx, pk, r, policy, needer)
	}
}

// account checks that the target keeps account apart from the others: a
// key created as account must belong to it. It is used for caller
// accounts that own no scenario key.
func (p *prober) account(ctx context.Context, account, region, needer string) {
	var md *types.KeyMetadata
	err := p.call(ctx, account, region, "CreateKey", func(c *kms.Client) error {
		out, err := c.CreateKey(ctx, &kms.CreateKeyInput{
			Tags:        []types.Tag{{TagKey: aws.String(ProbeTag), TagValue: aws.String("preflight")}},
			Description: aws.String("kmsload preflight " + p.tag),
		})
		if err == nil {
			md = out.KeyMetadata
		}
		return err
	})
	if err != nil {
		p.lack("accounts", needer, describe("CreateKey", err))
		return
	}
	p.keys["\x00account "+account] = &probeKey{id: aws.ToString(md.KeyId), owner: account, region: region}
	if _, got := arnParts(aws.ToString(md.Arn)); got != account {
		p.lack("accounts", needer, fmt.Sprintf("CreateKey signed as account %s made %s, a key of account %s", account, aws.ToString(md.Arn), got))
	}
}

// awsManaged finds the AWS-managed key k (alias/aws/<service>) as
// provisioning does, through DescribeKey of its alias; its stand-in is the
// key itself, which the probe neither changes nor deletes.
func (p *prober) awsManaged(ctx context.Context, name string, k scenario.Key, owner string) {
	md, err := p.describeKey(ctx, owner, k.Region, k.Alias)
	switch {
	case err != nil:
		p.lack("AWS-managed keys", "key "+name, describe("DescribeKey "+k.Alias, err))
	case md.KeyManager != types.KeyManagerTypeAws:
		p.lack("AWS-managed keys", "key "+name, fmt.Sprintf("DescribeKey %s answered a key managed by %s, not AWS", k.Alias, md.KeyManager))
	default:
		p.keys[name] = &probeKey{id: aws.ToString(md.KeyId), owner: owner, region: k.Region, alias: k.Alias, managed: true}
	}
}

// describeKey returns the metadata of key id (or alias) as account sees
// it in region.
func (p *prober) describeKey(ctx context.Context, account, region, id string) (*types.KeyMetadata, error) {
	var md *types.KeyMetadata
	err := p.call(ctx, account, region, "DescribeKey", func(c *kms.Client) error {
		out, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)})
		if err == nil {
			md = out.KeyMetadata
		}
		return err
	})
	return md, err
}

// replica replicates pk into region and checks the replica answers there.
func (p *prober) replica(ctx context.Context, pk *probeKey, region, policy, needer string) {
	needer += " (replica in " + region + ")"
	if err := p.call(ctx, pk.owner, pk.region, "ReplicateKey", func(c *kms.Client) error {
		_, err := c.ReplicateKey(ctx, &kms.ReplicateKeyInput{KeyId: aws.String(pk.id), ReplicaRegion: aws.String(region), Policy: aws.String(policy)})
		return err
	}); err != nil {
		p.lack("multi-Region replicas", needer, describe("ReplicateKey", err))
		return
	}
	pk.replicas = append(pk.replicas, region)
	deadline := time.Now().Add(30 * time.Second)
	for ctx.Err() == nil {
		md, err := p.describeKey(ctx, pk.owner, region, pk.id)
		switch {
		case err != nil:
			p.lack("multi-Region replicas", needer, describe("DescribeKey of the replica in "+region, err))
			return
		case md.KeyState == types.KeyStateEnabled:
			if r, _ := arnParts(aws.ToString(md.Arn)); r != region {
				p.lack("Regions", needer, fmt.Sprintf("DescribeKey in %s of the replica answered %s", region, aws.ToString(md.Arn)))
			}
			return
		case time.Now().After(deadline):
			p.lack("multi-Region replicas", needer, fmt.Sprintf("replica still %s after 30s", md.KeyState))
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func safeAliasPart(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '-'
	}, s)
}

// workload calls w's operation once as its caller in each of its Regions,
// on the stand-in of its key.
func (p *prober) workload(ctx context.Context, w *scenario.ResolvedWorkload) {
	op := w.Spec.Operation
	pw := *w
	var pk *probeKey
	if w.Key.Name != "" {
		if pk = p.keys[w.Key.Name]; pk == nil {
			return // the key could not be made: already reported
		}
		pw.Key.Alias = pk.alias
		if w.Key.Alias != "" && pk.alias == "" && (w.KeyRef == scenario.KeyRefAlias || w.KeyRef == scenario.KeyRefAliasARN) {
			return // the alias could not be made: already reported
		}
	}
	payload := make([]byte, w.PayloadBytes)
	var pl *kmscall.Pool
	if kmscall.NeedsPool(op) {
		it, ok := p.poolItem(ctx, pk, w, payload)
		if !ok {
			return
		}
		pl = &kmscall.Pool{Items: []kmscall.Item{it}}
	}
	for _, region := range w.Regions {
		ref := ""
		if pk != nil {
			ref = kmscall.KeyRef(&pw, region, pk.id)
		}
		err := p.call(ctx, w.Caller.ID, region, op, func(c *kms.Client) error {
			return kmscall.New(&pw, c, ref, payload, pl)(ctx)
		})
		if err != nil {
			p.lackUse(w, pk, region, err)
		}
	}
}

// lackUse records the feature a failed call of w in region shows missing.
func (p *prober) lackUse(w *scenario.ResolvedWorkload, pk *probeKey, region string, err error) {
	needer := "workload " + w.Spec.Name
	op := w.Spec.Operation
	what := fmt.Sprintf("%s by account %s in %s", op, w.Caller.ID, region)
	switch {
	case pk != nil && w.Caller.ID != pk.owner:
		p.lack("cross-account key use", needer, describe(what+" on a key of account "+pk.owner, err))
	case pk != nil && region != pk.region:
		p.lack("multi-Region replicas", needer+" (Region "+region+")", describe(what+" on the replica", err))
	case pk != nil && w.Key.MultiRegion:
		p.lack("operation "+op+" on multi-Region keys", needer, describe(what, err))
	case pk != nil && w.Key.Spec != "SYMMETRIC_DEFAULT":
		p.lack("operation "+op+" on "+w.Key.Spec+" keys", needer, describe(what, err))
	default:
		p.lack("operation "+op, needer, describe(what, err))
	}
}

// poolItem makes the one ciphertext, MAC or signature a probe of w needs,
// as the key's owner; false when the target cannot (recorded as a Lack).
func (p *prober) poolItem(ctx context.Context, pk *probeKey, w *scenario.ResolvedWorkload, msg []byte) (kmscall.Item, bool) {
	var it kmscall.Item
	op, mk := kmscall.MakeItem(w, pk.id, msg)
	if err := p.call(ctx, pk.owner, pk.region, op, func(c *kms.Client) (err error) {
		it, err = mk(ctx, c)
		return err
	}); err != nil {
		p.lack("operation "+op+" on "+w.Key.Spec+" keys", "workload "+w.Spec.Name+" (its pool)", describe(op, err))
		return it, false
	}
	return it, true
}

// events checks each key event of the scenario once per key: the API call
// works and the key state it sets is honoured.
func (p *prober) events(ctx context.Context) {
	evs := append([]scenario.Event(nil), p.sc.Events...)
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].At < evs[j].At })
	done := map[string]bool{}
	for _, ev := range evs {
		if ev.Action == scenario.ActionShiftTraffic {
			continue
		}
		pk := p.keys[ev.Key]
		kind := ev.Action
		switch kind {
		case scenario.ActionEnableKey:
			kind = scenario.ActionDisableKey // enabling is checked by disabling first
		case scenario.ActionCancelDeletion:
			kind = scenario.ActionScheduleDelete
		}
		if pk == nil || pk.managed || done[kind+"/"+ev.Key] {
			continue
		}
		done[kind+"/"+ev.Key] = true
		needer := fmt.Sprintf("event %s at %v on key %s", ev.Action, ev.At, ev.Key)
		switch kind {
		case scenario.ActionDisableKey:
			p.stateEvent(ctx, pk, ev.Key, needer, kmscall.OpDisableKey, types.KeyStateDisabled)
		case scenario.ActionScheduleDelete:
			p.stateEvent(ctx, pk, ev.Key, needer, kmscall.OpScheduleKeyDeletion, types.KeyStatePendingDeletion)
		case scenario.ActionPutKeyPolicy:
			p.keyCall(ctx, pk, needer, kmscall.OpPutKeyPolicy, kmscall.KeyPolicy(pk.owner, p.sc.AccountIDs(pk.owner, ev.AllowAccounts)))
		default:
			p.keyCall(ctx, pk, needer, kmscall.EventOp(kind), "")
		}
	}
}

// keyCall makes key management call op on pk (kmscall.KeyCall); a
// failure is recorded as the operation missing, and returned.
func (p *prober) keyCall(ctx context.Context, pk *probeKey, needer, op, policy string) error {
	call := kmscall.KeyCall(op, pk.id, kmscall.CleanupWindowDays, policy)
	err := p.call(ctx, pk.owner, pk.region, op, func(c *kms.Client) error { return call(ctx, c) })
	if err != nil {
		p.lack("operation "+op, needer, describe(op, err))
	}
	return err
}

// stateEvent puts pk into state through op (DisableKey or
// ScheduleKeyDeletion), checks that the key then refuses use, and puts it
// back (CancelKeyDeletion, EnableKey) as the driver does between windows.
func (p *prober) stateEvent(ctx context.Context, pk *probeKey, name, needer, op string, state types.KeyState) {
	if p.keyCall(ctx, pk, needer, op, "") != nil {
		return
	}
	rk, _ := p.sc.ResolvedKey(name)
	useOp, use := useCall(rk, aws.String(pk.id))
	if err := p.call(ctx, pk.owner, pk.region, useOp, func(c *kms.Client) error { return use(ctx, c) }); err == nil && ctx.Err() == nil {
		p.lack("key states", needer, fmt.Sprintf("%s on a %s key succeeded: the target ignores key states, so the event would change nothing", useOp, state))
	}
	restore := []string{kmscall.OpEnableKey}
	if op == kmscall.OpScheduleKeyDeletion {
		restore = []string{kmscall.OpCancelKeyDeletion, kmscall.OpEnableKey}
	}
	for _, rop := range restore {
		_ = p.keyCall(ctx, pk, needer+" (restoring the key between windows)", rop, "")
	}
}

// useCall returns the natural cryptographic call of key k (Encrypt,
// GenerateMac or Sign) on key id.
func useCall(k scenario.Key, id *string) (string, func(context.Context, *kms.Client) error) {
	msg := []byte("kmsload preflight")
	switch k.Usage {
	case scenario.UsageSignVerify:
		return "Sign", func(ctx context.Context, c *kms.Client) error {
			_, err := c.Sign(ctx, &kms.SignInput{KeyId: id, Message: msg, MessageType: types.MessageTypeRaw, SigningAlgorithm: kmscall.SigningAlgorithm(k.Spec)})
			return err
		}
	case scenario.UsageGenerateVerifyMac:
		return "GenerateMac", func(ctx context.Context, c *kms.Client) error {
			_, err := c.GenerateMac(ctx, &kms.GenerateMacInput{KeyId: id, Message: msg, MacAlgorithm: kmscall.MacAlgorithm(k.Spec)})
			return err
		}
	}
	return "Encrypt", func(ctx context.Context, c *kms.Client) error {
		_, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: msg, EncryptionAlgorithm: kmscall.EncryptionAlgorithm(k.Spec)})
		return err
	}
}

// cleanup deletes the probe aliases and schedules the stand-in keys for
// deletion (replicas first). Failures are ignored: these are throwaway
// keys on an emulator.
func (p *prober) cleanup(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	for _, a := range p.aliases {
		_ = p.call(ctx, a.account, a.region, "DeleteAlias", func(c *kms.Client) error {
			_, err := c.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String(a.name)})
			return err
		})
	}
	for _, name := range slices.Sorted(maps.Keys(p.keys)) {
		pk := p.keys[name]
		if pk.managed {
			continue
		}
		for _, r := range append(append([]string(nil), pk.replicas...), pk.region) {
			call := kmscall.KeyCall(kmscall.OpScheduleKeyDeletion, pk.id, kmscall.CleanupWindowDays, "")
			_ = p.call(ctx, pk.owner, r, kmscall.OpScheduleKeyDeletion, func(c *kms.Client) error { return call(ctx, c) })
		}
	}
}
