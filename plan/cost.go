package plan

import (
	"sort"
	"time"

	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/scenario"
)

// Pricing holds the list prices the cost uses (AWS KMS pricing page).
type Pricing struct {
	// KeyMonthUSD is the monthly fee of a customer-managed key; each
	// multi-Region replica is billed as a key.
	KeyMonthUSD float64 `json:"key_month_usd"`
	// RotationMonthUSD is added per key per month for each rotation of
	// its key material, for the first BilledRotations rotations.
	RotationMonthUSD float64 `json:"rotation_month_usd"`
	BilledRotations  int     `json:"billed_rotations"`
	// SymmetricPer10k prices 10,000 requests with symmetric and HMAC
	// keys, GenerateRandom and management APIs (DescribeKey, ...).
	SymmetricPer10k float64 `json:"symmetric_per_10k_usd"`
	// AsymmetricPer10k prices 10,000 requests with RSA, ECC and ML-DSA
	// keys (some RSA operations cost more; none of them is a scenario
	// operation).
	AsymmetricPer10k float64 `json:"asymmetric_per_10k_usd"`
	// FreeRequestsPerMonth is the free tier, applied once per caller
	// account.
	FreeRequestsPerMonth float64 `json:"free_requests_per_month"`
	// HoursPerMonth turns rates into monthly counts.
	HoursPerMonth float64 `json:"hours_per_month"`
}

// DefaultPricing returns the list prices: $1 per key-month, $1 per
// rotation-month for the first two rotations, $0.03 and $0.15 per 10,000
// symmetric and asymmetric requests, 20,000 free requests a month, 730
// hours a month.
func DefaultPricing() Pricing {
	return Pricing{
		KeyMonthUSD:          1,
		RotationMonthUSD:     1,
		BilledRotations:      2,
		SymmetricPer10k:      0.03,
		AsymmetricPer10k:     0.15,
		FreeRequestsPerMonth: 20_000,
		HoursPerMonth:        730,
	}
}

// RequestUSD is the price of one request, asymmetric or not.
func (p Pricing) RequestUSD(asym bool) float64 {
	if asym {
		return p.AsymmetricPer10k / 10_000
	}
	return p.SymmetricPer10k / 10_000
}

// KeyHourUSD is the price of one key for one started hour: the key-month
// fee prorated over HoursPerMonth.
func (p Pricing) KeyHourUSD() float64 { return p.KeyMonthUSD / p.HoursPerMonth }

// Cost is the monthly bill of a scenario's key layout and workloads at
// real size (the scenario's rates, not scaled).
//
// Assumptions, also listed in Assumptions: the window's time-weighted
// mean rate (phases, shift-traffic and data-key cache included) holds all
// month; AWS-managed keys (managed_by: aws) have no monthly or rotation
// fee, their requests are charged; requests are first attempts (retries and throttled attempts are
// not counted); the caller account pays for its requests, the owner
// account for its keys; the free tier is applied once per caller account
// to its cheapest requests first (under consolidated billing an
// organization may get it only once); a new layout has rotated no key
// material yet, so TotalUSD counts only the rotations the window's rotate
// events make, and SteadyTotalUSD counts two rotations (the billed
// maximum) for every key with rotation on or rotated on demand — with
// yearly automatic rotation that is the bill from the third year; each
// multi-Region replica pays for rotated material like its primary;
// custom key stores' own costs (CloudHSM, external key managers) are not
// included.
type Cost struct {
	Pricing Pricing `json:"pricing"`
	// Keys counts billed customer-managed keys, replicas included;
	// Replicas the replicas among them; AWSManagedKeys the keys without a
	// monthly fee; RotatingKeys the billed keys whose material rotates.
	Keys           int `json:"keys"`
	Replicas       int `json:"replicas"`
	AWSManagedKeys int `json:"aws_managed_keys"`
	RotatingKeys   int `json:"rotating_keys"`
	// Usage is the key fees and requests of all accounts.
	Usage
	// SymmetricUSD and AsymmetricUSD price the requests of each class,
	// free requests deducted; RequestUSD is their sum.
	SymmetricUSD  float64 `json:"symmetric_usd"`
	AsymmetricUSD float64 `json:"asymmetric_usd"`
	RequestUSD    float64 `json:"request_usd"`
	// TotalUSD is KeyUSD + RotationUSD + RequestUSD; SteadyTotalUSD has
	// SteadyRotationUSD instead of RotationUSD.
	TotalUSD       float64 `json:"total_usd"`
	SteadyTotalUSD float64 `json:"steady_total_usd"`
	// Accounts splits the bill per scenario account, sorted by name.
	Accounts []AccountCost `json:"accounts"`
	// Assumptions lists what the figures assume, in plain words.
	Assumptions []string `json:"assumptions"`
}

// AccountCost is one account's share of the monthly bill: the keys it
// owns and the requests it makes.
type AccountCost struct {
	Account string `json:"account"`
	ID      string `json:"id"`
	Keys    int    `json:"keys"`
	// Usage is the fees of the keys the account owns and the requests
	// it makes.
	Usage
	RequestUSD     float64 `json:"request_usd"`
	TotalUSD       float64 `json:"total_usd"`
	SteadyTotalUSD float64 `json:"steady_total_usd"`
}

// Usage is the part of a monthly bill that adds up over accounts as it
// is: key fees and requests per month by price class.
type Usage struct {
	// KeyUSD is the billed keys x KeyMonthUSD.
	KeyUSD float64 `json:"key_usd"`
	// RotationUSD is rotated material from the window's rotate events;
	// SteadyRotationUSD after every rotating key's billed rotations.
	RotationUSD       float64 `json:"rotation_usd"`
	SteadyRotationUSD float64 `json:"steady_rotation_usd"`
	// Requests per month by price class, and the free tier's share of
	// them.
	SymmetricRequests  float64 `json:"symmetric_requests"`
	AsymmetricRequests float64 `json:"asymmetric_requests"`
	FreeRequests       float64 `json:"free_requests"`
}

// add adds v's fees and requests to u.
func (u *Usage) add(v Usage) {
	u.KeyUSD += v.KeyUSD
	u.RotationUSD += v.RotationUSD
	u.SteadyRotationUSD += v.SteadyRotationUSD
	u.SymmetricRequests += v.SymmetricRequests
	u.AsymmetricRequests += v.AsymmetricRequests
	u.FreeRequests += v.FreeRequests
}

// costAssumptions are the Cost doc's assumptions, for reports.
var costAssumptions = []string{
	"real size: the scenario's rates (not scaled); the window's time-weighted mean rate holds all month (730 h)",
	"requests are first attempts that reach KMS (after the data-key cache); retries and throttled attempts are not counted",
	"the caller account pays for requests, the owner account for keys; each multi-Region replica is billed as a key; AWS-managed keys have no monthly fee",
	"free tier: 20,000 requests a month once per caller account, taken from its cheapest requests",
	"rotated material: none yet for a new layout (only the window's rotate events count); steady state = two billed rotations per rotating key",
	"management APIs are priced as symmetric requests; custom key store (CloudHSM, external) costs are not included",
}

// asymmetric reports whether requests charged to class are priced as
// asymmetric.
func asymmetric(c quota.Class) bool {
	return c == quota.RSA || c == quota.ECC || c == quota.MLDSA
}

func monthlyCost(s *scenario.Scenario, profiles []profile, dur time.Duration, pr Pricing, model *quota.Model) Cost {
	c := Cost{Pricing: pr, Assumptions: costAssumptions}
	by := map[string]*AccountCost{}
	acct := func(name string) *AccountCost {
		a := by[name]
		if a == nil {
			a = &AccountCost{Account: name, ID: s.Accounts[name].ID}
			by[name] = a
		}
		return a
	}
	for name := range s.Accounts {
		acct(name)
	}

	rotations := map[string]int{}
	for _, ev := range s.Events {
		if ev.Action == scenario.ActionRotate && ev.At < dur {
			rotations[ev.Key]++
		}
	}
	for name, k := range s.Keys {
		if k.AWSManaged() { // no monthly fee; AWS rotates it at no charge
			c.AWSManagedKeys++
			continue
		}
		n := 1
		if k.MultiRegion {
			n += len(k.Replicas)
			c.Replicas += len(k.Replicas)
		}
		a := acct(k.Account)
		a.Keys += n
		c.Keys += n
		a.KeyUSD += float64(n) * pr.KeyMonthUSD
		if k.Rotation || rotations[name] > 0 {
			c.RotatingKeys += n
			done := min(rotations[name], pr.BilledRotations)
			a.RotationUSD += float64(n*done) * pr.RotationMonthUSD
			a.SteadyRotationUSD += float64(n*pr.BilledRotations) * pr.RotationMonthUSD
		}
	}

	sps := stepsPerSecond(dur.Seconds())
	perMonth := pr.HoursPerMonth * 3600
	for i, w := range s.Workloads {
		p := profiles[i]
		n := p.meanCalls(1, sps) * perMonth
		charges := model.Buckets(p.rw.Request(p.region))
		a := acct(w.Caller)
		if asymmetric(charges[0].Key.Class) {
			a.AsymmetricRequests += n
		} else {
			a.SymmetricRequests += n
		}
	}

	names := make([]string, 0, len(by))
	for n := range by {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		a := by[n]
		free := min(pr.FreeRequestsPerMonth, a.SymmetricRequests+a.AsymmetricRequests)
		a.FreeRequests = free
		sym := max(0, a.SymmetricRequests-free)
		asym := a.AsymmetricRequests - max(0, free-a.SymmetricRequests)
		symUSD := sym / 10_000 * pr.SymmetricPer10k
		asymUSD := asym / 10_000 * pr.AsymmetricPer10k
		a.RequestUSD = symUSD + asymUSD
		a.TotalUSD = a.KeyUSD + a.RotationUSD + a.RequestUSD
		a.SteadyTotalUSD = a.KeyUSD + a.SteadyRotationUSD + a.RequestUSD

		c.Usage.add(a.Usage)
		c.SymmetricUSD += symUSD
		c.AsymmetricUSD += asymUSD
		c.RequestUSD += a.RequestUSD
		c.TotalUSD += a.TotalUSD
		c.SteadyTotalUSD += a.SteadyTotalUSD
		c.Accounts = append(c.Accounts, *a)
	}
	return c
}
