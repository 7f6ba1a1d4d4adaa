// Package trailgen writes a synthetic CloudTrail trail of KMS traffic, for
// tests, benchmarks and the worked example of `kmsload import`. The trail
// is what an organisation's trail bucket holds: gzipped delivery files
// ({"Records": [...]}) under AWSLogs/<account>/CloudTrail/<Region>/
// YYYY/MM/DD/, one per account, Region and five minutes, records shaped
// as the AWS KMS Developer Guide's "Examples of AWS KMS log entries".
//
// The traffic, at Rate 1 (calls per second, each a Poisson stream whose
// rate swings ±30% over an hour):
//
//   - orders-api, a role of account 111122223333, decrypts with the
//     orders key (120/s);
//   - ingest, a role whose S3 uploads use SSE-KMS: S3 calls
//     GenerateDataKey for it (invokedBy s3.amazonaws.com) on the data key
//     (60/s), and the trail holds the S3 PutObject events too;
//   - payments, a role of account 444455556666, encrypts (30/s) and
//     decrypts (40/s) with a key of the security account 999988887777,
//     named by ARN; each cross-account call is logged in both accounts
//     with one sharedEventID;
//   - signer, a role of 111122223333, signs with an RSA_2048 key at 50/s,
//     and at BurstAt for BurstFor at BurstRate (default 1,600/s): more
//     than the account's RSA quota of 1,000/s, so KMS throttles - it and
//     license-check, a role of the same account that verifies signatures
//     with that key (150/s): the noisy neighbour;
//   - reporting, a role of 444455556666 that may not use the orders key:
//     1 Decrypt per second, AccessDeniedException;
//   - a little key management: DescribeKey, CreateGrant, ListAliases.
//
// Throttling follows AWS's rules (KMS-FACTS): per caller account, Region
// and quota class, in 1-second windows; a throttled attempt is logged
// with errorCode ThrottlingException and retried by the caller's SDK
// (standard mode: up to 3 attempts, full-jitter exponential backoff).
// Everything is drawn from Seed, so a Config always writes the same
// trail.
package trailgen

import (
	"math"
	"math/rand/v2"
	"time"
)

// Accounts and keys of the trail.
const (
	AccountApps     = "111122223333"
	AccountPayments = "444455556666"
	AccountSecurity = "999988887777"
	Region          = "ca-central-1"
	OrdersKey       = "arn:aws:kms:ca-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	DataKey         = "arn:aws:kms:ca-central-1:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321"
	CentralKey      = "arn:aws:kms:ca-central-1:999988887777:key/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"
	SigningKey      = "arn:aws:kms:ca-central-1:111122223333:key/5f6e7d8c-1a2b-3c4d-5e6f-EXAMPLE22222"
)

// Quotas the generator throttles at (AWS's, for ca-central-1).
const (
	SymmetricQuota = 10000
	RSAQuota       = 1000
	maxAttempts    = 3
)

// Config shapes a trail. Zero fields take the defaults.
type Config struct {
	Start    time.Time     // default 2026-11-30T09:00:00Z
	Duration time.Duration // default 10m
	// Rate multiplies every steady rate (default 1); the burst keeps its
	// own rate.
	Rate float64
	// The signing burst: BurstAt (default Duration/2) for BurstFor
	// (default 20s) at BurstRate Sign calls per second (default 1,600;
	// below 0 = no burst).
	BurstAt, BurstFor time.Duration
	BurstRate         float64
	Seed              uint64
	// Plain writes .json files instead of .json.gz.
	Plain bool
}

func (c Config) withDefaults() Config {
	if c.Start.IsZero() {
		c.Start = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Minute
	}
	if c.Rate == 0 {
		c.Rate = 1
	}
	if c.BurstAt == 0 {
		c.BurstAt = c.Duration / 2
	}
	if c.BurstFor == 0 {
		c.BurstFor = 20 * time.Second
	}
	if c.BurstRate == 0 {
		c.BurstRate = 1600
	}
	return c
}

// Result counts what Generate wrote.
type Result struct {
	Files int
	// Records is every record written, copies and other services'
	// events included.
	Records int64
	// Calls counts the KMS calls by actor (a call logged in two accounts
	// counts once; every attempt is a call).
	Calls map[string]int64
	// Throttled counts the throttled attempts by actor.
	Throttled map[string]int64
	// Requests counts the requests by actor: first attempts.
	Requests map[string]int64
	// ThrottledBySecond counts throttled attempts per second from Start,
	// for every actor.
	ThrottledBySecond []int64
}

// actor is one stream of calls.
type actor struct {
	name, account, role, op, key string
	invokedBy                    string
	rate                         float64
	errorCode                    string
	burst                        bool
}

var actors = []actor{
	{name: "orders-api", account: AccountApps, role: "orders-api", op: "Decrypt", key: OrdersKey, rate: 120},
	{name: "ingest", account: AccountApps, role: "ingest", op: "GenerateDataKey", key: DataKey, rate: 60, invokedBy: "s3.amazonaws.com"},
	{name: "payments-encrypt", account: AccountPayments, role: "payments", op: "Encrypt", key: CentralKey, rate: 30},
	{name: "payments-decrypt", account: AccountPayments, role: "payments", op: "Decrypt", key: CentralKey, rate: 40},
	{name: "signer", account: AccountApps, role: "signer", op: "Sign", key: SigningKey, rate: 50, burst: true},
	{name: "license-check", account: AccountApps, role: "license-check", op: "Verify", key: SigningKey, rate: 150},
	{name: "reporting", account: AccountPayments, role: "reporting", op: "Decrypt", key: OrdersKey, rate: 1, errorCode: "AccessDeniedException"},
	{name: "admin-describe", account: AccountApps, role: "platform-admin", op: "DescribeKey", key: OrdersKey, rate: 0.2},
	{name: "admin-grant", account: AccountApps, role: "platform-admin", op: "CreateGrant", key: DataKey, rate: 0.05},
	{name: "admin-list", account: AccountApps, role: "platform-admin", op: "ListAliases", rate: 0.05},
}

// attempt is one call attempt to log.
type attempt struct {
	at    time.Duration // from Start
	actor int
	n     int // attempt number, from 1
}

// class is the quota bucket class of an actor's calls ("" = none
// modelled: management APIs and denied calls).
func (a actor) class() string {
	switch {
	case a.errorCode != "" || a.op == "DescribeKey" || a.op == "CreateGrant" || a.op == "ListAliases":
		return ""
	case a.key == SigningKey:
		return "rsa"
	}
	return "symmetric"
}

func quotaOf(class string) int {
	if class == "rsa" {
		return RSAQuota
	}
	return SymmetricQuota
}

// arrivals draws second s's first attempts of every actor.
func arrivals(c Config, rng *rand.Rand, s int) []attempt {
	var out []attempt
	t := float64(s)
	swing := 1 + 0.3*math.Sin(2*math.Pi*t/3600)
	for i, a := range actors {
		rate := a.rate * c.Rate * swing
		if a.burst && c.BurstRate > 0 && time.Duration(s)*time.Second >= c.BurstAt && time.Duration(s)*time.Second < c.BurstAt+c.BurstFor {
			rate += c.BurstRate
		}
		for at := rng.ExpFloat64() / rate; at < 1; at += rng.ExpFloat64() / rate {
			out = append(out, attempt{at: time.Duration((t + at) * float64(time.Second)), actor: i, n: 1})
		}
	}
	return out
}

// admit counts attempt at against its bucket's quota for the second
// (used: attempts per account and class so far) and reports whether KMS
// throttles it: per account and class, the first quota attempts of the
// second pass.
func admit(used map[[2]string]int, at attempt) (throttled bool) {
	a := actors[at.actor]
	cl := a.class()
	if cl == "" {
		return false
	}
	k := [2]string{a.account, cl}
	used[k]++
	return used[k] > quotaOf(cl)
}

// backoff is the SDK's standard full-jitter backoff before attempt n+1:
// uniform in [0, min(2^(n-1), 20)) seconds.
func backoff(rng *rand.Rand, n int) time.Duration {
	return time.Duration(rng.Float64() * math.Min(math.Pow(2, float64(n-1)), 20) * float64(time.Second))
}
