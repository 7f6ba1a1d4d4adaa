package lint_test

import (
	"testing"

	"github.com/kmsload/kmsload/lint"
	"github.com/kmsload/kmsload/quota"
)

// rateHead has one account per Region class of quota: prod in us-east-1
// (symmetric 100,000/s), a key of each kind, and a multi-Region key with a
// replica in eu-north-1 (10,000/s).
const rateHead = `name: rates
duration: 10s
scale: 0.01
accounts: {prod: "111111111111"}
keys:
  sym: {account: prod}
  rsa: {account: prod, spec: RSA_2048, usage: SIGN_VERIFY}
  hsm: {account: prod, custom_key_store: cks-1}
  north: {account: prod, region: eu-north-1}
  mrk: {account: prod, multi_region: true, replicas: [eu-north-1]}
workloads:
`

const throttles = " — it throttles without any other traffic"

func TestRateOverQuota(t *testing.T) {
	tokenBucket := quota.DefaultConfig()
	tokenBucket.Algorithm = quota.TokenBucket
	bigger := quota.DefaultConfig()
	bigger.SymmetricOtherRegions = 20_000
	tests := []struct {
		name string
		body string
		opts lint.Options
		want []finding
	}{
		{"constant over quota, at real size", `  bulk: {caller: prod, key: sym, operation: Encrypt, rate: 120000/s}
`, lint.Options{}, []finding{{12, 60, lint.RuleRateOverQuota,
			`workload "bulk" alone sends 120,000/s to bucket prod/us-east-1/symmetric (quota 100,000/s, fixed-window) in its busiest second: 120%` + throttles}}},
		{"smaller Region", `  bulk: {caller: prod, key: north, operation: Decrypt, region: eu-north-1, rate: 12000/s}
`, lint.Options{}, []finding{{12, 82, lint.RuleRateOverQuota,
			`workload "bulk" alone sends 12,000/s to bucket prod/eu-north-1/symmetric (quota 10,000/s, fixed-window) in its busiest second: 120%` + throttles}}},
		{"under quota", `  bulk: {caller: prod, key: sym, operation: Encrypt, rate: 99000/s}
`, lint.Options{}, nil},
		{"exactly at quota", `  bulk: {caller: prod, key: sym, operation: Encrypt, rate: 100000/s}
`, lint.Options{}, nil},
		{"poisson at quota", `  bulk: {caller: prod, key: sym, operation: Encrypt, rate: 100000/s, arrival: poisson}
`, lint.Options{}, nil},
		{"two workloads over together, neither alone", `  a: {caller: prod, key: sym, operation: Encrypt, rate: 60000/s}
  b: {caller: prod, key: sym, operation: Decrypt, rate: 60000/s}
`, lint.Options{}, nil},
		{"asymmetric bucket", `  signer: {caller: prod, key: rsa, operation: Sign, rate: 1500/s}
`, lint.Options{}, []finding{{12, 59, lint.RuleRateOverQuota,
			`workload "signer" alone sends 1,500/s to bucket prod/us-east-1/rsa (quota 1,000/s, fixed-window) in its busiest second: 150%` + throttles}}},
		{"management API bucket", `  describe: {caller: prod, key: sym, operation: DescribeKey, rate: 2500/s}
`, lint.Options{}, []finding{{12, 68, lint.RuleRateOverQuota,
			`workload "describe" alone sends 2,500/s to bucket prod/us-east-1/api:DescribeKey (quota 2,000/s, fixed-window) in its busiest second: 125%` + throttles}}},
		{"custom key store, weighted", `  cards: {caller: prod, key: hsm, operation: GenerateDataKey, rate: 700/s}
`, lint.Options{}, []finding{{12, 69, lint.RuleRateOverQuota,
			`workload "cards" alone uses 2,100/s of custom key store cks-1 in us-east-1 (quota 1,800/s; each GenerateDataKey counts 3x) in its busiest second: 117%` + throttles}}},
		{"step phase: the phase is named", `  ramp:
    caller: prod
    key: sym
    operation: Encrypt
    arrival: phases
    phases:
      - {duration: 5s, rate: 1000/s}
      - {duration: 5s, rate: 150000/s}
`, lint.Options{}, []finding{{19, 9, lint.RuleRateOverQuota,
			`workload "ramp" alone sends 150,000/s to bucket prod/us-east-1/symmetric (quota 100,000/s, fixed-window) in its busiest second: 150%` + throttles}}},
		{"ramp whose busiest second stays under", `  ramp: {caller: prod, key: sym, operation: Encrypt, arrival: phases, phases: [{duration: 10s, from: 0/s, to: 105000/s}]}
`, lint.Options{}, nil},
		{"data-key cache keeps calls under", `  cached: {caller: prod, key: sym, operation: GenerateDataKey, rate: 200000/s, data_key_cache: {max_age: 5m, max_uses: 1000}}
`, lint.Options{}, nil},
		{"shift-traffic into a smaller Region", `  dr: {caller: prod, key: mrk, operation: Decrypt, rate: 15000/s}
events:
  - {at: 5s, action: shift-traffic, workload: dr, to_region: eu-north-1}
`, lint.Options{}, []finding{{12, 58, lint.RuleRateOverQuota,
			`workload "dr" alone sends 15,000/s to bucket prod/eu-north-1/symmetric (quota 10,000/s, fixed-window) in its busiest second: 150%` + throttles}}},
		{"a one-second burst fits a token bucket", `  burst: {caller: prod, key: sym, operation: Encrypt, arrival: phases, phases: [{duration: 1s, rate: 150000/s}, {duration: 9s, rate: 1000/s}]}
`, lint.Options{Quota: tokenBucket}, nil},
		{"the same burst over a fixed window", `  burst: {caller: prod, key: sym, operation: Encrypt, arrival: phases, phases: [{duration: 1s, rate: 150000/s}, {duration: 9s, rate: 1000/s}]}
`, lint.Options{}, []finding{{12, 81, lint.RuleRateOverQuota,
			`workload "burst" alone sends 150,000/s to bucket prod/us-east-1/symmetric (quota 100,000/s, fixed-window) in its busiest second: 150%` + throttles}}},
		{"sustained over a token bucket", `  bulk: {caller: prod, key: sym, operation: Encrypt, rate: 120000/s}
`, lint.Options{Quota: tokenBucket}, []finding{{12, 60, lint.RuleRateOverQuota,
			`workload "bulk" alone sends 120,000/s to bucket prod/us-east-1/symmetric (quota 100,000/s, token-bucket) in its busiest second: 120%` + throttles}}},
		{"quota override", `  bulk: {caller: prod, key: north, operation: Decrypt, region: eu-north-1, rate: 12000/s}
`, lint.Options{Quota: bigger}, nil},
		{"quotas off", `  bulk: {caller: prod, key: sym, operation: Encrypt, rate: 120000/s}
`, lint.Options{QuotasOff: true}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, rateHead+tt.body, tt.opts, tt.want)
		})
	}
}

func TestLintInvalidQuota(t *testing.T) {
	bad := quota.DefaultConfig()
	bad.SymmetricOtherRegions = -1
	_, err := lintSource(t, rateHead+"  w: {caller: prod, key: sym, operation: Encrypt, rate: 10/s}\n", lint.Options{Quota: bad})
	if err == nil {
		t.Errorf("Lint with a negative quota: no error")
	}
}
