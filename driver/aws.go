package driver

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/kmsload/kmsload/internal/conns"
	"github.com/kmsload/kmsload/scenario"
)

// AWSAliasPrefix replaces "alias/" in the aliases a run creates on real
// AWS: the scenario's alias/prod becomes alias/kmsload-prod, so a run never
// takes or moves an alias production uses. AWS-managed aliases
// (alias/aws/...) are not changed.
const AWSAliasPrefix = "alias/kmsload-"

// Errors of the real-AWS guards; New and CheckAccess wrap them.
var (
	// ErrAccountNotAllowed: the run would touch an account that
	// Options.AllowAccounts does not list.
	ErrAccountNotAllowed = errors.New("driver: account not allowed")
	// ErrAccountMismatch: credentials resolve to another account than the
	// scenario says.
	ErrAccountMismatch = errors.New("driver: credentials belong to another account")
	// ErrExistingKey: an Options.ExistingKeys entry is unusable, or the
	// scenario would change an existing key.
	ErrExistingKey = errors.New("driver: existing key")
	// ErrCredentials: the default credential chain or an assumed role
	// failed.
	ErrCredentials = errors.New("driver: aws credentials")
)

// AWSAlias returns the alias a run on real AWS uses for a scenario alias.
func AWSAlias(alias string) string {
	if alias == "" || strings.HasPrefix(alias, "alias/aws/") || strings.HasPrefix(alias, AWSAliasPrefix) {
		return alias
	}
	return AWSAliasPrefix + strings.TrimPrefix(alias, "alias/")
}

// awsManaged reports whether k is an AWS-managed key (alias/aws/...),
// which a run never creates.
func awsManaged(k scenario.Key) bool { return strings.HasPrefix(k.Alias, "alias/aws/") }

var keyARNRE = regexp.MustCompile(`^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):key/([A-Za-z0-9-]+)$`)

// existingKey is a key named by Options.ExistingKeys.
type existingKey struct{ arn, region, account, id string }

// parseExistingKey reads a key ARN.
func parseExistingKey(arn string) (existingKey, error) {
	m := keyARNRE.FindStringSubmatch(arn)
	if m == nil {
		return existingKey{}, fmt.Errorf("%q is not a key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)", arn)
	}
	return existingKey{arn: arn, region: m[1], account: m[2], id: m[3]}, nil
}

// Touched is an account a run would touch, and why.
type Touched struct {
	ID      string
	Name    string   // scenario account name
	Reasons []string // "caller of workload w", "owner of key k", ...
}

// TouchedAccounts lists every account the run touches, sorted by id:
// callers of workloads, owners of keys (existing keys included), and
// accounts a key policy or grant gives use of a key.
func (d *Driver) TouchedAccounts() []Touched {
	by := map[string]*Touched{}
	add := func(name, reason string) {
		id := d.res.Scenario.Accounts[name].ID
		if id == "" {
			return
		}
		t := by[id]
		if t == nil {
			t = &Touched{ID: id, Name: name}
			by[id] = t
		}
		if !slices.Contains(t.Reasons, reason) {
			t.Reasons = append(t.Reasons, reason)
		}
	}
	for _, w := range d.res.Scenario.Workloads {
		add(w.Caller, "caller of workload "+w.Name)
	}
	for _, name := range slices.Sorted(maps.Keys(d.res.Scenario.Keys)) {
		k := d.res.Scenario.Keys[name]
		add(k.Account, "owner of key "+name)
		for _, a := range k.AllowAccounts {
			add(a, "allowed by the policy of key "+name)
		}
		for _, a := range k.GrantAccounts {
			add(a, "granted key "+name)
		}
	}
	for _, ev := range d.res.Scenario.Events {
		for _, a := range ev.AllowAccounts {
			add(a, "allowed by a put-key-policy event on key "+ev.Key)
		}
	}
	out := make([]Touched, 0, len(by))
	for _, t := range by {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// checkAWS runs New's static checks for target aws: allowed accounts,
// role ARNs, existing keys.
func (d *Driver) checkAWS() error {
	allowed := map[string]bool{}
	for _, a := range d.opts.AllowAccounts {
		allowed[strings.TrimSpace(a)] = true
	}
	var missing []string
	for _, t := range d.TouchedAccounts() {
		if !allowed[t.ID] {
			missing = append(missing, fmt.Sprintf("%s (%s: %s)", t.ID, t.Name, strings.Join(t.Reasons, ", ")))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: --allow-account must list every account the run touches; missing %s",
			ErrAccountNotAllowed, strings.Join(missing, "; "))
	}
	var defaults []string
	for _, name := range d.signers() {
		a := d.res.Scenario.Accounts[name]
		if a.RoleARN == "" {
			if !slices.Contains(defaults, a.ID) {
				defaults = append(defaults, a.ID)
			}
			continue
		}
		if !strings.HasPrefix(a.RoleARN, "arn:") || roleAccount(a.RoleARN) != a.ID {
			return fmt.Errorf("%w: account %s: role_arn %q is not a role of account %s", ErrAccountMismatch, name, a.RoleARN, a.ID)
		}
	}
	if len(defaults) > 1 {
		return fmt.Errorf("%w: accounts %s have no role_arn, so all would use the default credentials, which belong to one account; give the others a role_arn",
			ErrAccountMismatch, strings.Join(defaults, ", "))
	}
	d.existing = map[string]existingKey{}
	for _, name := range slices.Sorted(maps.Keys(d.opts.ExistingKeys)) {
		if err := d.checkExisting(name, d.opts.ExistingKeys[name]); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrExistingKey, name, err)
		}
	}
	return nil
}

// roleAccount returns the account of an IAM role ARN.
func roleAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}

// checkExisting validates the existing key arn for scenario key name: it
// must be the scenario key's account and Region, and nothing in the
// scenario may change it.
func (d *Driver) checkExisting(name, arn string) error {
	k, ok := d.res.Scenario.Keys[name]
	if !ok {
		return fmt.Errorf("no scenario key %q", name)
	}
	ek, err := parseExistingKey(arn)
	if err != nil {
		return err
	}
	rk := d.resolveKey(name)
	if owner := d.res.Scenario.Accounts[k.Account].ID; ek.account != owner {
		return fmt.Errorf("key ARN account %s is not the key's owner %s (%s)", ek.account, owner, k.Account)
	}
	if ek.region != rk.Region {
		return fmt.Errorf("key ARN Region %s is not the key's Region %s", ek.region, rk.Region)
	}
	switch {
	case k.MultiRegion || len(k.Replicas) > 0:
		return errors.New("replicas would be created from it: drop multi_region and replicas")
	case len(k.GrantAccounts) > 0:
		return errors.New("grants would change who may use it: drop grant_accounts")
	case k.Rotation:
		return errors.New("rotation would be changed: drop rotation")
	case awsManaged(k):
		return errors.New("an AWS-managed key is never created: it needs no --use-existing-key")
	}
	for _, ev := range d.res.Scenario.Events {
		if ev.Key == name && ev.Action != scenario.ActionShiftTraffic {
			return fmt.Errorf("the %s event at %v would change it", ev.Action, ev.At)
		}
	}
	for _, w := range d.res.Scenario.Workloads {
		if w.Key == name && (w.KeyRef == scenario.KeyRefAlias || w.KeyRef == scenario.KeyRefAliasARN) {
			return fmt.Errorf("workload %s names it by alias, and the run creates no alias for an existing key: use key_ref id or arn", w.Name)
		}
	}
	d.existing[name] = ek
	return nil
}

// awsAccess holds the configuration of target aws: the default credential
// chain and, per account with a role_arn, the role's credentials.
type awsAccess struct {
	base  aws.Config
	creds map[string]aws.CredentialsProvider // account id -> provider
}

// loadAWS loads the default configuration (credential chain, endpoint
// overrides such as AWS_ENDPOINT_URL_KMS and AWS_ENDPOINT_URL_STS) and sets
// up an assumed-role provider per account with a role ARN.
func loadAWS(ctx context.Context, hc aws.HTTPClient, region, session string, accounts map[string]scenario.Account) (*awsAccess, error) {
	opts := []func(*config.LoadOptions) error{config.WithHTTPClient(hc)}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCredentials, err)
	}
	a := &awsAccess{base: cfg, creds: map[string]aws.CredentialsProvider{}}
	stsClient := sts.NewFromConfig(cfg)
	for _, name := range slices.Sorted(maps.Keys(accounts)) {
		acct := accounts[name]
		if acct.RoleARN == "" {
			a.creds[acct.ID] = cfg.Credentials
			continue
		}
		a.creds[acct.ID] = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsClient, acct.RoleARN,
			func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = session }))
	}
	return a, nil
}

// config returns the configuration signing as account in region.
func (a *awsAccess) config(account, region string) aws.Config {
	cfg := a.base.Copy()
	cfg.Region = region
	if c, ok := a.creds[account]; ok {
		cfg.Credentials = c
	}
	return cfg
}

// Identity is whom a scenario account's credentials resolve to.
type Identity struct {
	Name    string // scenario account name
	Account string // account id STS reports
	Via     string // "default credentials" or "role ARN"
}

// CheckAccess, for target aws, loads the credentials, assumes every role,
// and asks STS (GetCallerIdentity) which account each resolves to: each
// must be the scenario's account id, and an allowed account. It sends no
// KMS request and logs no secret. Run calls it when the caller has not.
// For other targets it does nothing.
func (d *Driver) CheckAccess(ctx context.Context) ([]Identity, error) {
	if d.opts.Target.Kind != TargetAWS {
		return nil, nil
	}
	d.awsOnce.Lock()
	defer d.awsOnce.Unlock()
	if d.aws != nil {
		return d.identities, nil
	}
	region := cmp.Or(d.res.Scenario.Region)
	if region == "" && len(d.wls) > 0 {
		region = d.wls[0].Region()
	}
	acc, err := loadAWS(ctx, d.awsHTTPClient(), region, "kmsload-"+d.runID, d.res.Scenario.Accounts)
	if err != nil {
		return nil, err
	}
	allowed := map[string]bool{}
	for _, a := range d.opts.AllowAccounts {
		allowed[strings.TrimSpace(a)] = true
	}
	var ids []Identity
	for _, name := range d.signers() {
		acct := d.res.Scenario.Accounts[name]
		via := "default credentials"
		if acct.RoleARN != "" {
			via = "role " + acct.RoleARN
		}
		c := sts.NewFromConfig(acc.config(acct.ID, region))
		out, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return nil, fmt.Errorf("%w: account %s (%s): %w", ErrCredentials, name, via, err)
		}
		got := aws.ToString(out.Account)
		if got != acct.ID {
			return nil, fmt.Errorf("%w: account %s is %s in the scenario, but its %s belong to %s", ErrAccountMismatch, name, acct.ID, via, got)
		}
		if !allowed[got] {
			return nil, fmt.Errorf("%w: %s (%s, through %s) is not listed by --allow-account", ErrAccountNotAllowed, got, name, via)
		}
		ids = append(ids, Identity{Name: name, Account: got, Via: via})
	}
	d.aws, d.identities = acc, ids
	return ids, nil
}

// awsHTTPClient is Target.HTTPClient when set, else the SDK's buildable
// client (which honours AWS_CA_BUNDLE) with as many idle connections per
// host as the run's own client.
func (d *Driver) awsHTTPClient() aws.HTTPClient {
	if d.opts.Target.HTTPClient != nil {
		return d.opts.Target.HTTPClient
	}
	return buildableClient(d.http, d.conns)
}

// buildableClient returns the SDK's buildable client with the idle
// connection limits of like (nil = defaults), its connections counted and
// capped by counter.
func buildableClient(like *http.Client, counter *conns.Counter) aws.HTTPClient {
	idle := 1024
	if like != nil {
		if tr, ok := like.Transport.(*http.Transport); ok {
			idle = tr.MaxIdleConnsPerHost
		}
	}
	return awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConns = idle
		tr.MaxIdleConnsPerHost = idle
		counter.Apply(tr)
	})
}

// signers lists the scenario accounts whose credentials sign requests:
// workload callers and owners of keys.
func (d *Driver) signers() []string {
	set := map[string]bool{}
	for _, w := range d.res.Scenario.Workloads {
		set[w.Caller] = true
	}
	for _, k := range d.res.Scenario.Keys {
		set[k.Account] = true
	}
	return slices.Sorted(maps.Keys(set))
}

// awsState is the part of Driver that target aws uses.
type awsState struct {
	awsOnce    sync.Mutex
	aws        *awsAccess
	identities []Identity
	existing   map[string]existingKey // scenario key name -> existing key
}

// useExisting checks, read-only (DescribeKey), that the existing key ek
// for scenario key name is a usable customer-managed key, and uses its id.
// The run creates nothing on it: no policy, alias, grant, or deletion.
func (d *Driver) useExisting(ctx context.Context, prov *provisioned, c *kms.Client, name string, ek existingKey) error {
	var md *types.KeyMetadata
	err := prov.do(ctx, "DescribeKey", func() error {
		out, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(ek.arn)})
		if err == nil {
			md = out.KeyMetadata
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrExistingKey, ek.arn, err)
	}
	if md.KeyState != types.KeyStateEnabled {
		return fmt.Errorf("%w: %s is %s, not Enabled", ErrExistingKey, ek.arn, md.KeyState)
	}
	k := d.resolveKey(name)
	if string(md.KeySpec) != k.Spec {
		return fmt.Errorf("%w: %s is %s; the scenario's key %s is %s", ErrExistingKey, ek.arn, md.KeySpec, name, k.Spec)
	}
	prov.keyIDs[name] = aws.ToString(md.KeyId)
	d.logf("using existing key %s (%s) in %s/%s: not created, changed or deleted", name, prov.keyIDs[name], ek.account, ek.region)
	return nil
}

// logCleanup reports the outcome of clean-up.
func (d *Driver) logCleanup(prov *provisioned) {
	n := len(prov.created)
	if n == 0 {
		return
	}
	if prov.cleanupFailed == 0 {
		d.logf("clean-up: %d keys of run %s scheduled for deletion (%d-day waiting period)", n, prov.runID, CleanupWindowDays)
		return
	}
	d.logf("clean-up: %d of %d keys of run %s NOT scheduled for deletion; run: kmsload cleanup --run-id %s",
		prov.cleanupFailed, n, prov.runID, prov.runID)
}

// CleanupWindowDays is the waiting period of every deletion kmsload
// schedules: the shortest KMS allows.
const CleanupWindowDays = 7
