package guard

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"golang.org/x/time/rate"

	"github.com/kmsload/kmsload/kmscall"
	"github.com/kmsload/kmsload/scenario"
)

// SweepRate is the pace, per API, of the list calls (ListKeys,
// ListResourceTags, DescribeKey) a sweep makes: a fifth of KMS's 100/s
// ListResourceTags quota, which production callers share.
const SweepRate = 20

// SweepAccount is an account a sweep searches.
type SweepAccount struct {
	ID string
	// RoleARN is assumed through STS; "" = the default credentials, which
	// must belong to ID.
	RoleARN string
}

// Sweep finds the keys that runs created (RunIDTag) on real AWS, in every
// account and Region given, and schedules them for deletion: the leftovers
// of runs that were killed before their clean-up. Build it with NewSweep.
type Sweep struct {
	regions  []string
	accounts []SweepAccount
	acc      *Access
	limiters map[string]*rate.Limiter
	logf     func(format string, args ...any)
}

// RunKey is a key a run created, as a sweep found it.
type RunKey struct {
	RunID   string
	Account string
	Region  string
	KeyID   string
	ARN     string
	State   string // KMS key state, e.g. Enabled, PendingDeletion
	Created time.Time
	// DeletionDate is set for a key pending deletion.
	DeletionDate time.Time
}

// ErrSweep is wrapped by the sweep's errors.
var ErrSweep = errors.New("guard: sweep")

// NewSweep loads the default credentials (and assumes each account's role)
// and checks through STS that each account's credentials belong to it.
// With no accounts, it searches the default credentials' account. hc may
// be nil (the SDK's client, which honours AWS_CA_BUNDLE); logf receives progress (nil = silent).
func NewSweep(ctx context.Context, hc aws.HTTPClient, accounts []SweepAccount, regions []string, logf func(string, ...any)) (*Sweep, error) {
	if len(regions) == 0 {
		return nil, fmt.Errorf("%w: no Region", ErrSweep)
	}
	if hc == nil {
		hc = BuildableClient(nil, nil)
	}
	if logf == nil {
		logf = func(string, ...any) {}
	}
	s := &Sweep{regions: regions, limiters: map[string]*rate.Limiter{}, logf: logf}
	byID := map[string]scenario.Account{}
	for _, a := range accounts {
		byID[a.ID] = scenario.Account{Name: a.ID, ID: a.ID, RoleARN: a.RoleARN}
	}
	acc, err := LoadAccess(ctx, hc, regions[0], "kmsload-cleanup", byID)
	if err != nil {
		return nil, err
	}
	s.acc = acc
	if len(accounts) == 0 {
		out, err := sts.NewFromConfig(acc.base).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return nil, fmt.Errorf("%w: default credentials: %w", ErrCredentials, err)
		}
		accounts = []SweepAccount{{ID: aws.ToString(out.Account)}}
	}
	for _, a := range accounts {
		if a.RoleARN != "" && roleAccount(a.RoleARN) != a.ID {
			return nil, fmt.Errorf("%w: role %s is not in account %s", ErrAccountMismatch, a.RoleARN, a.ID)
		}
		out, err := sts.NewFromConfig(acc.Config(a.ID, regions[0])).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return nil, fmt.Errorf("%w: account %s: %w", ErrCredentials, a.ID, err)
		}
		if got := aws.ToString(out.Account); got != a.ID {
			return nil, fmt.Errorf("%w: the credentials for account %s belong to %s", ErrAccountMismatch, a.ID, got)
		}
	}
	s.accounts = accounts
	return s, nil
}

// SweepAccountsOf returns the accounts (with their roles) and Regions
// (keys, replicas, workloads, shift-traffic targets) of a scenario, for a
// sweep of its runs' leftovers.
func SweepAccountsOf(sc *scenario.Scenario) ([]SweepAccount, []string) {
	var accts []SweepAccount
	seen := map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(sc.Accounts)) {
		a := sc.Accounts[name]
		if !seen[a.ID] {
			seen[a.ID] = true
			accts = append(accts, SweepAccount{ID: a.ID, RoleARN: a.RoleARN})
		}
	}
	regions := map[string]bool{}
	if sc.Region != "" {
		regions[sc.Region] = true
	}
	for _, k := range sc.Keys {
		if k.Region != "" {
			regions[k.Region] = true
		}
		for _, r := range k.Replicas {
			regions[r] = true
		}
	}
	for _, w := range sc.Workloads {
		if w.Region != "" {
			regions[w.Region] = true
		}
	}
	for _, ev := range sc.Events {
		if ev.ToRegion != "" {
			regions[ev.ToRegion] = true
		}
	}
	return accts, slices.Sorted(maps.Keys(regions))
}

func (s *Sweep) wait(ctx context.Context, op string) error {
	l := s.limiters[op]
	if l == nil {
		r := rate.Limit(SweepRate)
		if op == "ScheduleKeyDeletion" {
			r = kmscall.ManagementRate
		}
		l = rate.NewLimiter(r, 1)
		s.limiters[op] = l
	}
	return l.Wait(ctx)
}

func (s *Sweep) client(account, region string) *kms.Client {
	return kms.NewFromConfig(s.acc.Config(account, region), func(o *kms.Options) { o.Retryer = kmscall.PatientRetryer() })
}

// Find lists the keys tagged RunIDTag in every account and Region, with
// the tag's value runID ("" = any run), sorted by run id, account, Region
// and key id. Keys whose tags cannot be read (other keys' policies may
// deny it) are skipped and counted in the log.
func (s *Sweep) Find(ctx context.Context, runID string) ([]RunKey, error) {
	var found []RunKey
	for _, a := range s.accounts {
		for _, region := range s.regions {
			keys, err := s.findIn(ctx, a.ID, region, runID)
			if err != nil {
				return found, fmt.Errorf("%w: %s/%s: %w", ErrSweep, a.ID, region, err)
			}
			found = append(found, keys...)
		}
	}
	sort.Slice(found, func(i, j int) bool {
		x, y := found[i], found[j]
		if x.RunID != y.RunID {
			return x.RunID < y.RunID
		}
		if x.Account != y.Account {
			return x.Account < y.Account
		}
		if x.Region != y.Region {
			return x.Region < y.Region
		}
		return x.KeyID < y.KeyID
	})
	return found, nil
}

func (s *Sweep) findIn(ctx context.Context, account, region, runID string) ([]RunKey, error) {
	c := s.client(account, region)
	var found []RunKey
	skipped := 0
	p := kms.NewListKeysPaginator(c, &kms.ListKeysInput{})
	for p.HasMorePages() {
		if err := s.wait(ctx, "ListKeys"); err != nil {
			return nil, err
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("ListKeys: %w", err)
		}
		for _, k := range page.Keys {
			id := aws.ToString(k.KeyId)
			tag, err := s.runTag(ctx, c, id)
			if err != nil {
				skipped++
				continue
			}
			if tag == "" || runID != "" && tag != runID {
				continue
			}
			if err := s.wait(ctx, "DescribeKey"); err != nil {
				return nil, err
			}
			out, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)})
			if err != nil {
				return nil, fmt.Errorf("DescribeKey %s: %w", id, err)
			}
			md := out.KeyMetadata
			found = append(found, RunKey{
				RunID: tag, Account: account, Region: region, KeyID: id, ARN: aws.ToString(md.Arn),
				State: string(md.KeyState), Created: aws.ToTime(md.CreationDate), DeletionDate: aws.ToTime(md.DeletionDate),
			})
		}
	}
	if skipped > 0 {
		s.logf("%s/%s: %d keys skipped: their tags could not be read", account, region, skipped)
	}
	return found, nil
}

// runTag returns the value of key id's RunIDTag ("" = none).
func (s *Sweep) runTag(ctx context.Context, c *kms.Client, id string) (string, error) {
	p := kms.NewListResourceTagsPaginator(c, &kms.ListResourceTagsInput{KeyId: aws.String(id)})
	for p.HasMorePages() {
		if err := s.wait(ctx, "ListResourceTags"); err != nil {
			return "", err
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", err
		}
		for _, t := range page.Tags {
			if aws.ToString(t.TagKey) == RunIDTag {
				return aws.ToString(t.TagValue), nil
			}
		}
	}
	return "", nil
}

// Schedule schedules every key of keys that is not already pending
// deletion for deletion after kmscall.CleanupWindowDays, and returns how many it
// scheduled. It goes on after a failure and returns every failure joined.
func (s *Sweep) Schedule(ctx context.Context, keys []RunKey) (int, error) {
	n := 0
	var errs []error
	for _, k := range keys {
		switch types.KeyState(k.State) {
		case types.KeyStatePendingDeletion, types.KeyStatePendingReplicaDeletion:
			continue
		}
		if err := s.wait(ctx, "ScheduleKeyDeletion"); err != nil {
			return n, err
		}
		_, err := s.client(k.Account, k.Region).ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{
			KeyId: aws.String(k.KeyID), PendingWindowInDays: aws.Int32(kmscall.CleanupWindowDays),
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: %s: %w", ErrSweep, k.ARN, err))
			continue
		}
		n++
		s.logf("scheduled %s (run %s) for deletion in %d days", k.ARN, k.RunID, kmscall.CleanupWindowDays)
	}
	return n, errors.Join(errs...)
}
