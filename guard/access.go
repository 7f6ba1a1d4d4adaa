package guard

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/kmsload/kmsload/internal/conns"
	"github.com/kmsload/kmsload/scenario"
)

// Access holds the configuration of real AWS: the default credential
// chain and, per account with a role_arn, the role's credentials.
type Access struct {
	base  aws.Config
	creds map[string]aws.CredentialsProvider // account id -> provider
}

// LoadAccess loads the default configuration (credential chain, endpoint
// overrides such as AWS_ENDPOINT_URL_KMS and AWS_ENDPOINT_URL_STS) and sets
// up an assumed-role provider per account with a role ARN.
func LoadAccess(ctx context.Context, hc aws.HTTPClient, region, session string, accounts map[string]scenario.Account) (*Access, error) {
	opts := []func(*config.LoadOptions) error{config.WithHTTPClient(hc)}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCredentials, err)
	}
	a := &Access{base: cfg, creds: map[string]aws.CredentialsProvider{}}
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

// Config returns the configuration signing as account in region.
func (a *Access) Config(account, region string) aws.Config {
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

// CheckAccess asks STS (GetCallerIdentity), in region, which account
// the credentials of each account of sc that signs requests (Signers)
// resolve to: each must be the scenario's account id, and in allow. It
// sends no KMS request and logs no secret.
func CheckAccess(ctx context.Context, acc *Access, sc *scenario.Scenario, region string, allow []string) ([]Identity, error) {
	allowed := allowSet(allow)
	var ids []Identity
	for _, name := range Signers(sc) {
		acct := sc.Accounts[name]
		via := "default credentials"
		if acct.RoleARN != "" {
			via = "role " + acct.RoleARN
		}
		c := sts.NewFromConfig(acc.Config(acct.ID, region))
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
	return ids, nil
}

// BuildableClient returns the SDK's buildable client with the idle
// connection limits of like (nil = defaults), its connections counted and
// capped by counter.
func BuildableClient(like *http.Client, counter *conns.Counter) aws.HTTPClient {
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
