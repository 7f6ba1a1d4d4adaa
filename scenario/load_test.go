package scenario_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kmsload/kmsload/scenario"
)

// want is one expected problem: exact position, and a substring of the
// message.
type want struct {
	line, col int
	msg       string
}

func TestLoadBad(t *testing.T) {
	tests := []struct {
		file string
		want []want
	}{
		{"unknown_field.yaml", []want{
			{2, 1, `unknown field "duraton"; did you mean "duration"?`},
			{5, 22, `keys.k: unknown field "alais"; did you mean "alias"?`},
			{7, 3, `workloads.w.rate: required`},
			{11, 5, `workloads.w: unknown field "ratee"; did you mean "rate"?`},
			{12, 5, `workloads.w: unknown field "colour" (known fields: caller, key,`},
		}},
		{"wrong_types.yaml", []want{
			{1, 7, `name: want a string, got a list`},
			{2, 8, `scale: want a number, got "fast"`},
			{3, 7, `seed: want an integer, got the number 1.5`},
			{6, 36, `keys.k.multi_region: want true or false, got "yes"`},
			{6, 53, `keys.k.replicas: want a list of strings, got "us-west-2"`},
			{8, 75, `workloads.w.max_in_flight: want an integer, got "lots"`},
			{8, 101, `workloads.w.encryption_context: want a mapping, got a list`},
			{9, 6, `workloads.v: want a mapping, got "just-a-string"`},
			{11, 6, `thresholds.w: want a list of strings, got "p99 < 50ms"`},
		}},
		{"rates.yaml", []want{
			{5, 55, `workloads.a.rate: invalid rate "600/sec": want N/s, N/min, N/h or a bare number`},
			{6, 55, `workloads.b.rate: invalid rate "fast"`},
			{7, 55, `workloads.c.rate: must be > 0 (got 0/s)`},
			{8, 55, `workloads.d.rate: must be > 0 (got -5/s)`},
			{9, 3, `workloads.e.rate: required`},
			{10, 55, `workloads.f.rate: want a rate such as "600/s", got a list`},
		}},
		{"durations.yaml", []want{
			{2, 11, `duration: bare number 90 is ambiguous: write a duration with a unit`},
			{11, 31, `workloads.w.data_key_cache.max_age: invalid duration "5 minutes"`},
			{13, 10, `events[0].at: bare number 5 is ambiguous`},
			{14, 10, `events[1].at: must be >= 0 (got -1s)`},
		}},
		{"references.yaml", []want{
			{6, 23, `keys.env-prod.account: unknown account "prd"; did you mean "prod"?`},
			{7, 53, `keys.other.allow_accounts[1]: unknown account "nobody" (defined: prod, security)`},
			{8, 55, `keys.granted.grant_accounts[1]: account prod owns key granted and needs no grant`},
			{8, 61, `keys.granted.grant_accounts[2]: unknown account "nobody" (defined: prod, security)`},
			{10, 27, `workloads.w1.key: unknown key "env-prd"; did you mean "env-prod"?`},
			{11, 16, `workloads.w2.caller: unknown account "securty"; did you mean "security"?`},
			{12, 27, `workloads.w3.key: unknown alias "alias/prd" (none defined)`},
			{14, 47, `events[0].workload: unknown workload "w4"`},
			{15, 40, `events[1].key: unknown key "missing" (defined: env-prod, granted, other)`},
		}},
		{"accounts.yaml", []want{
			{3, 6, `accounts.a.id: invalid account id "12345": want 12 digits`},
			{4, 6, `accounts.b.id: want a quoted 12-digit account id`},
			{5, 37, `accounts.c.role_arn: role ARN is in account 333333333333, not in account c`},
			{6, 6, `accounts.d.id: account id 222222222222 is also account c`},
			{7, 3, `accounts.e.id: required`},
			{8, 37, `accounts.f.role_arn: invalid role ARN "not-an-arn"`},
		}},
		{"operations.yaml", []want{
			{9, 45, `workloads.sign.operation: key sym (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT) cannot serve Sign: Sign needs an asymmetric key with usage SIGN_VERIFY`},
			{10, 44, `workloads.enc.operation: key ecc (ECC_NIST_P384, SIGN_VERIFY) cannot serve Encrypt`},
			{11, 44, `workloads.gdk.operation: key rsa (RSA_2048, ENCRYPT_DECRYPT) cannot serve GenerateDataKey: GenerateDataKey needs a SYMMETRIC_DEFAULT key`},
			{12, 44, `workloads.mac.operation: key sym (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT) cannot serve GenerateMac: GenerateMac needs an HMAC key`},
			{13, 47, `workloads.verify.operation: key rsa (RSA_2048, ENCRYPT_DECRYPT) cannot serve Verify`},
			{14, 29, `workloads.rand.key: GenerateRandom takes no key`},
			{15, 45, `workloads.typo.operation: unknown operation "Decrpyt"; did you mean "Decrypt"?`},
			{16, 3, `workloads.nokey.key: required`},
			{17, 3, `workloads.noop.operation: required: one of Encrypt, Decrypt,`},
		}},
		{"team.yaml", []want{
			{7, 69, `workloads.long.team: invalid team "a team whose name goes on and on`},
			{8, 72, `workloads.control.team: invalid team "tab\there": want at most 64 characters and no control characters`},
		}},
		{"cross_account.yaml", []want{
			{9, 50, `workloads.by-alias.key_ref: caller app does not own key central (account security): KMS requires a key ARN or alias ARN for cross-account use, so key_ref must be arn or alias-arn, not alias`},
			{10, 47, `workloads.by-id.key_ref: caller app does not own key central (account security): KMS requires a key ARN or alias ARN for cross-account use`},
			{12, 53, `workloads.no-alias.key_ref: key_ref alias-arn needs key plain to have an alias`},
			{13, 52, `workloads.bad-ref.key_ref: unknown key_ref "name" (want id, arn, alias or alias-arn)`},
		}},
		{"aliases.yaml", []want{
			{5, 29, `keys.b.alias: alias alias/shared is already used by key a`},
			{6, 29, `keys.c.alias: alias "prod-key" must start with alias/`},
			{7, 29, `keys.d.alias: alias "alias/aws/s3": the alias/aws/ prefix is reserved for AWS managed keys`},
			{8, 29, `keys.e.alias: invalid alias "alias/has space"`},
		}},
		{"regions.yaml", []want{
			{2, 9, `region: unknown Region "us-east"`},
			{5, 56, `keys.single.replicas: replicas need multi_region: true`},
			{6, 87, `keys.multi.replicas[1]: unknown Region "US-WEST-2"`},
			{6, 98, `keys.multi.replicas[2]: replica Region us-east-1 is the key's own Region`},
			{9, 40, `workloads.far.region: key ok exists only in us-east-1; KMS keys are regional, so requests in eu-west-1 would fail (make it multi_region with a replica in eu-west-1)`},
			{10, 44, `workloads.mfar.region: key multi exists in us-east-1 and its replicas eu-west-1, US-WEST-2, us-east-1; KMS keys are regional, so requests in ap-south-1 would fail (add ap-south-1 to its replicas)`},
		}},
		{"arrivals.yaml", []want{
			{5, 73, `workloads.burst.arrival: unknown arrival "burst" (want constant, poisson, phases or trace)`},
			{6, 71, `workloads.retry.retry: unknown retry mode "aggressive"`},
			{7, 3, `workloads.nophases.phases: required by arrival: phases`},
			{13, 13, `workloads.stray.phases: phases are used only with arrival: phases`},
			{20, 31, `workloads.mixed.phases[0].rate: a phase gives either rate (hold or step) or from/to (ramp), not both`},
			{21, 9, `workloads.mixed.phases[1]: duration is required`},
			{22, 9, `workloads.mixed.phases[2]: a phase needs rate (hold or step) or to (ramp`},
			{23, 20, `workloads.mixed.phases[3].duration: must be > 0 (got 0s)`},
		}},
		{"events.yaml", []want{
			{10, 10, `events[0].at: 1m1s is after the end of the run (duration 1m0s)`},
			{11, 22, `events[1].action: unknown action "explode" (want one of: disable-key,`},
			{12, 5, `events[2].key: required by enable-key`},
			{13, 70, `events[3].pending_window_days: must be 7 to 30 (got 3)`},
			{14, 53, `events[4].workload: not used by action disable-key (it takes key)`},
			{15, 5, `events[5].allow_accounts: required by put-key-policy`},
			{16, 61, `events[6].to_region: key k of workload w exists only in us-east-1; requests in eu-west-1 would fail`},
			{17, 35, `events[7].key: key ecc is ECC_NIST_P256: on-demand rotation needs a SYMMETRIC_DEFAULT key`},
			{18, 5, `events[8].at: required`},
			{19, 70, `events[9].allow_accounts[1]: unknown account "ghost"`},
			{20, 5, `events[10].workload: required by shift-traffic`},
			{20, 5, `events[10].to_region: required`},
		}},
		{"thresholds.yaml", []want{
			{7, 3, `thresholds.orders-apu: unknown workload "orders-apu" (want a workload name or "all"); did you mean "orders-api"?`},
			{8, 23, `thresholds.all[1]: empty threshold expression`},
			{9, 3, `thresholds.orders-api: empty list`},
		}},
		{"keys.yaml", []want{
			{4, 28, `keys.a.spec: unknown key spec "SYMETRIC_DEFAULT"; did you mean "SYMMETRIC_DEFAULT"?`},
			{5, 45, `keys.b.usage: usage SIGN_VERIFY is not valid for spec HMAC_256 (valid: GENERATE_VERIFY_MAC)`},
			{6, 53, `keys.c.rotation: automatic rotation needs a SYMMETRIC_DEFAULT key`},
			{7, 40, `keys.d.custom_key_store: multi-Region keys cannot live in a custom key store`},
			{8, 29, `keys.e.usage: unknown key usage "ENCRYPT"`},
			{9, 3, `keys.f.account: required`},
			{10, 3, `invalid key name "bad.name"`},
			{11, 34, `keys.g.xks_key_id: xks_key_id needs custom_key_store_type: EXTERNAL_KEY_STORE`},
			{12, 98, `keys.h.xks_key_id: xks_key_id "bad id!" is not an external key id`},
			{14, 84, `workloads.w.encryption_context: DescribeKey takes no encryption context`},
			{15, 73, `workloads.x.data_key_cache: data-key caching applies to GenerateDataKey and Decrypt, not Sign`},
			{15, 93, `workloads.x.via: invalid service name "S3!"`},
		}},
		{"managed_by.yaml", []want{
			{4, 3, `keys.a.alias: required by managed_by: aws`},
			{5, 34, `keys.b.managed_by: unknown managed_by "AWS" (want customer or aws); did you mean "aws"?`},
			{6, 46, `keys.c.alias: alias "alias/aws/S3": an AWS-managed key is named alias/aws/<service>`},
			{7, 71, `keys.d.rotation: not allowed with managed_by: aws: AWS rotates AWS-managed keys every year`},
			{7, 93, `keys.d.grant_accounts: not allowed with managed_by: aws`},
			{8, 67, `keys.e.spec: AWS-managed keys are SYMMETRIC_DEFAULT (spec is RSA_2048)`},
			{8, 91, `keys.e.multi_region: not allowed with managed_by: aws: AWS-managed keys are single-Region`},
			{10, 29, `keys.g.alias: alias "alias/aws/lambda": the alias/aws/ prefix is reserved for AWS managed keys (add managed_by: aws`},
			{12, 19, `workloads.cross.caller: key f is AWS managed: its fixed policy allows only its own account (prod), not other`},
			{15, 40, `events[0].key: key f is AWS managed: KMS lets only AWS change its state or policy, so disable-key would fail`},
		}},
		{"ranges.yaml", []want{
			{2, 8, `scale: must be > 0 (got 0)`},
			{3, 11, `duration: must be > 0 (got -5s)`},
			{12, 20, `workloads.w.max_in_flight: must be >= 1 (got 0)`},
			{13, 20, `workloads.w.payload_bytes: GenerateDataKey accepts at most 1024 bytes (got 2048)`},
			{14, 19, `workloads.w.max_attempts: must be >= 1 (got -1)`},
			{15, 31, `workloads.w.data_key_cache.max_age: must be > 0`},
			{15, 45, `workloads.w.data_key_cache.max_uses: must be >= 1, or left out for no limit (got -3)`},
			{16, 75, `workloads.n.payload_bytes: must be >= 1 (got 0)`},
			{16, 105, `workloads.n.max_attempts: retry none sends one attempt per request`},
			{17, 3, `workloads.all: the workload name "all" is reserved`},
		}},
		{"clients.yaml", []want{
			{2, 17, `client.retry: unknown retry mode "agressive" (want standard, adaptive or none)`},
			{2, 42, `client.max_attempts: must be >= 1 (got 0)`},
			{2, 59, `client.retry_bucket: want a number of tokens (the SDK's default is 500) or none`},
			{6, 95, `workloads.a.client.max_backoff: must be > 0`},
			{7, 76, `workloads.b.client.shared: workloads a (caller prod) and b (caller dev) share client app but call from different accounts`},
			{8, 67, `workloads.d.retry: give the retry mode once: client.retry is adaptive`},
			{8, 113, `workloads.d.client.retry_bucket: must be >= 1 token, or none for no retry quota (got -4)`},
			{9, 96, `workloads.e.client.max_attempts: retry none sends one attempt per request; max_attempts 3 contradicts it`},
			{9, 107, `workloads.e.client.shared: invalid client name "a b"`},
			{9, 114, `workloads.e.client: unknown field "tries"`},
			{11, 98, `workloads.f.client.shared: workloads g (retry adaptive, shared app2) and f (retry sdk-standard, shared app2) share client app2 but set different retry settings`},
			{13, 28, `variants.client.retry[1]: value standard is listed twice`},
			{14, 3, `variants.client.max_attempt: unknown setting "client.max_attempt"`},
			{15, 24, `variants.client.max_backoff[0]: client.max_backoff "fast": want a duration > 0`},
			{16, 3, `variants.client.shared: empty list`},
		}},
		{"duplicates.yaml", []want{
			{6, 3, `workloads.w: given twice (first at line 5)`},
			{7, 1, `name: given twice (first at line 1)`},
		}},
		{"syntax.yaml", []want{{2, 1, `invalid YAML: did not find expected ',' or '}'`}}},
		{"empty.yaml", []want{{1, 1, `empty scenario file`}}},
		{"not_mapping.yaml", []want{{1, 1, `want a mapping, got a list`}}},
		{"multidoc.yaml", []want{{2, 1, `only one YAML document is allowed`}}},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", "bad", tt.file)
			s, err := scenario.Load(path)
			if err == nil {
				t.Fatalf("Load(%s) = %v, nil; want errors", path, s)
			}
			if s != nil {
				t.Errorf("Load(%s) returned a scenario with its error", path)
			}
			var errs scenario.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Load(%s) error %T is not scenario.Errors: %v", path, err, err)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(errs) {
				t.Errorf("Errors.Error() has %d lines, want one per problem (%d)", len(lines), len(errs))
			}
			used := make([]bool, len(errs))
		next:
			for _, w := range tt.want {
				prefix := fmt.Sprintf("%s:%d:%d: ", path, w.line, w.col)
				for i, e := range errs {
					if !used[i] && strings.HasPrefix(e.Error(), prefix) && strings.Contains(e.Msg, w.msg) {
						used[i] = true
						continue next
					}
				}
				t.Errorf("missing %s...%s", prefix, w.msg)
			}
			for i, e := range errs {
				if !used[i] {
					t.Errorf("unexpected problem: %v", e)
				}
			}
			if t.Failed() {
				t.Logf("all problems:\n%v", err)
			}
		})
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "bad", "*.yaml"))
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			t.Errorf("%s has no entry in the table", f)
		}
	}
}

// TestAllProblemsAtOnce checks that one file with problems of every kind
// reports each of them, in position order, in one error.
func TestAllProblemsAtOnce(t *testing.T) {
	src := `name: many
duration: 10
accounts: {prod: "1234"}
keys:
  k: {account: prod, spec: HMAC_256}
workloads:
  w: {caller: prod, key: k, operation: Encrypt, rate: 5/fortnight, colour: red}
events:
  - {at: 1h, action: disable-key, key: k}
thresholds:
  nope: ["p99 < 1s"]
`
	_, err := scenario.Parse("many.yaml", []byte(src))
	var errs scenario.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Parse error %T is not scenario.Errors: %v", err, err)
	}
	wantPrefixes := []string{
		"many.yaml:2:11: duration: bare number",
		"many.yaml:3:18: accounts.prod.id: invalid account id",
		"many.yaml:7:40: workloads.w.operation: key k (HMAC_256, GENERATE_VERIFY_MAC) cannot serve Encrypt",
		"many.yaml:7:55: workloads.w.rate: invalid rate",
		"many.yaml:7:68: workloads.w: unknown field \"colour\"",
		"many.yaml:11:3: thresholds.nope: unknown workload",
	}
	if len(errs) != len(wantPrefixes) {
		t.Fatalf("Parse reported %d problems, want %d:\n%v", len(errs), len(wantPrefixes), err)
	}
	for i, p := range wantPrefixes {
		if got := errs[i].Error(); !strings.HasPrefix(got, p) {
			t.Errorf("problem %d = %q; want prefix %q", i, got, p)
		}
	}
	var first *scenario.Error
	if !errors.As(err, &first) || first.Line != 2 || first.Col != 11 || first.File != "many.yaml" {
		t.Errorf("errors.As(err, *Error) = %+v; want the first problem at many.yaml:2:11", first)
	}
}

func TestLoadMinimalDefaults(t *testing.T) {
	s, err := scenario.Load(filepath.Join("testdata", "good", "minimal.yaml"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"Name", s.Name, "minimal"},
		{"Region", s.Region, scenario.DefaultRegion},
		{"Scale", s.Scale, 1.0},
		{"Duration", s.Duration, 60 * time.Second},
		{"Seed", s.Seed, int64(1)},
		{"Quotas", s.Quotas, scenario.Quotas{Mode: "aws", Algorithm: "fixed-window"}},
		{"Accounts", s.Accounts, map[string]scenario.Account{"prod": {Name: "prod", ID: "111111111111"}}},
		{"Keys", s.Keys, map[string]scenario.Key{"k": {
			Name: "k", Account: "prod", Region: "us-east-1", ManagedBy: scenario.ManagedByCustomer, Spec: "SYMMETRIC_DEFAULT", Usage: "ENCRYPT_DECRYPT",
		}}},
		{"Workloads", s.Workloads, []scenario.Workload{{
			Name: "w", Caller: "prod", Key: "k", KeyRef: scenario.KeyRefID, Region: "us-east-1",
			Operation: "Encrypt", Rate: 10, Arrival: scenario.ArrivalConstant, MaxInFlight: 1000,
			PayloadBytes: 32,
		}}},
		{"Events", len(s.Events), 0},
		{"Thresholds", len(s.Thresholds), 0},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v; want %#v", c.name, c.got, c.want)
		}
	}
	if got := s.File; got != filepath.Join("testdata", "good", "minimal.yaml") {
		t.Errorf("File = %q", got)
	}
}

func TestLoadFull(t *testing.T) {
	path := filepath.Join("testdata", "good", "full.yaml")
	s, err := scenario.Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if s.Region != "eu-west-1" || s.Scale != 0.5 || s.Duration != 2*time.Minute || s.Seed != 42 {
		t.Errorf("top level = %s %g %s %d; want eu-west-1 0.5 2m 42", s.Region, s.Scale, s.Duration, s.Seed)
	}
	if want := (scenario.Quotas{Mode: "quotas.json", Algorithm: "token-bucket"}); s.Quotas != want {
		t.Errorf("Quotas = %+v; want %+v", s.Quotas, want)
	}
	if got, want := s.Accounts["security"], (scenario.Account{Name: "security", ID: "999999999999", RoleARN: "arn:aws:iam::999999999999:role/kmsload"}); got != want {
		t.Errorf("Accounts[security] = %+v; want %+v", got, want)
	}
	if got := s.Accounts["tenant"].ID; got != "012345678901" {
		t.Errorf("Accounts[tenant].ID = %q; want the leading zero kept", got)
	}
	central := scenario.Key{Name: "central", Account: "security", Region: "eu-west-1", Alias: "alias/central", ManagedBy: scenario.ManagedByCustomer,
		Spec: "SYMMETRIC_DEFAULT", Usage: "ENCRYPT_DECRYPT", MultiRegion: true,
		Replicas: []string{"us-west-2", "ap-southeast-2"}, Rotation: true, AllowAccounts: []string{"prod"}, GrantAccounts: []string{"tenant"}}
	if got := s.Keys["central"]; !reflect.DeepEqual(got, central) {
		t.Errorf("Keys[central] = %+v; want %+v", got, central)
	}
	usages := map[string]string{"signer": "SIGN_VERIFY", "rsa-enc": "ENCRYPT_DECRYPT", "rsa-sign": "SIGN_VERIFY", "mac": "GENERATE_VERIFY_MAC", "hsm": "ENCRYPT_DECRYPT"}
	for k, u := range usages {
		if got := s.Keys[k].Usage; got != u {
			t.Errorf("Keys[%s].Usage = %q; want %q", k, got, u)
		}
	}
	s3 := scenario.Key{Name: "s3", Account: "prod", Region: "eu-west-1", Alias: "alias/aws/s3", ManagedBy: scenario.ManagedByAWS,
		Spec: "SYMMETRIC_DEFAULT", Usage: "ENCRYPT_DECRYPT"}
	if got := s.Keys["s3"]; !reflect.DeepEqual(got, s3) || !got.AWSManaged() || s.Keys["central"].AWSManaged() {
		t.Errorf("Keys[s3] = %+v (AWSManaged %v); want %+v, AWS managed", got, got.AWSManaged(), s3)
	}
	if got := s.Keys["s3"].String(); !strings.Contains(got, "alias/aws/s3, AWS managed") {
		t.Errorf("Keys[s3].String() = %q; want it to say AWS managed", got)
	}
	if got := s.Keys["rsa-enc"].Region; got != "us-east-2" {
		t.Errorf("Keys[rsa-enc].Region = %q; want us-east-2", got)
	}

	var names []string
	byName := map[string]scenario.Workload{}
	for _, w := range s.Workloads {
		names = append(names, w.Name)
		byName[w.Name] = w
	}
	wantOrder := []string{"ingest", "reader", "cross", "sign", "verify", "rsa", "macs", "random", "describe", "store", "sse-s3"}
	if !reflect.DeepEqual(names, wantOrder) {
		t.Errorf("workload order = %v; want file order %v", names, wantOrder)
	}
	ingest := byName["ingest"]
	if ingest.Key != "central" || ingest.KeyRef != scenario.KeyRefAliasARN {
		t.Errorf("ingest key = %q by %q; want central by alias-arn (alias named, caller is not the owner)", ingest.Key, ingest.KeyRef)
	}
	if ingest.Rate != 600 || ingest.PayloadBytes != 64 || ingest.Via != "s3" || ingest.Region != "eu-west-1" {
		t.Errorf("ingest = %+v", ingest)
	}
	if want := map[string]string{"bucket": "logs", "tenant": "42"}; !reflect.DeepEqual(ingest.EncryptionContext, want) {
		t.Errorf("ingest.EncryptionContext = %v; want %v", ingest.EncryptionContext, want)
	}
	if want := (scenario.DataKeyCache{MaxAge: 5 * time.Minute, MaxUses: 1000}); ingest.DataKeyCache == nil || *ingest.DataKeyCache != want {
		t.Errorf("ingest.DataKeyCache = %v; want %+v", ingest.DataKeyCache, want)
	}
	reader := byName["reader"]
	if reader.KeyRef != scenario.KeyRefID || reader.Region != "us-west-2" || reader.Arrival != scenario.ArrivalPhases ||
		reader.Retry != scenario.RetryAdaptive || reader.MaxAttempts != 5 || reader.MaxInFlight != 64 || reader.Rate != 0 {
		t.Errorf("reader = %+v", reader)
	}
	r1000, r500 := scenario.Rate(1000), scenario.Rate(500)
	wantPhases := []scenario.Phase{
		{Duration: 30 * time.Second, To: 1000},
		{Duration: time.Minute, From: &r1000, To: 1000},
		{Duration: 30 * time.Second, From: &r500, To: 0},
	}
	if !reflect.DeepEqual(reader.Phases, wantPhases) {
		t.Errorf("reader.Phases = %v; want %v", reader.Phases, wantPhases)
	}
	refs := map[string]string{"cross": "alias-arn", "sign": "id", "macs": "alias", "describe": "arn", "random": "", "sse-s3": "alias"}
	for w, ref := range refs {
		if got := byName[w].KeyRef; got != ref {
			t.Errorf("%s.KeyRef = %q; want %q", w, got, ref)
		}
	}
	rates := map[string]scenario.Rate{"cross": 5.0 / 3600, "sign": 100, "verify": 50, "rsa": 2.5, "macs": 10}
	for w, r := range rates {
		if got := byName[w].Rate; got != r {
			t.Errorf("%s.Rate = %v; want %v", w, got, r)
		}
	}
	if got := byName["random"].Key; got != "" {
		t.Errorf("random.Key = %q; want none", got)
	}
	if got := byName["rsa"].Region; got != "us-east-2" {
		t.Errorf("rsa.Region = %q; want the key's Region us-east-2", got)
	}

	var at []time.Duration
	for _, e := range s.Events {
		at = append(at, e.At)
	}
	for i := 1; i < len(at); i++ {
		if at[i] < at[i-1] {
			t.Errorf("events not sorted by time: %v", at)
		}
	}
	if len(s.Events) != 8 {
		t.Fatalf("len(Events) = %d; want 8", len(s.Events))
	}
	wantEvents := map[time.Duration]scenario.Event{
		40 * time.Second:  {At: 40 * time.Second, Action: scenario.ActionEnableKey, Key: "central"},
		50 * time.Second:  {At: 50 * time.Second, Action: scenario.ActionPutKeyPolicy, Key: "central", AllowAccounts: []string{"prod", "tenant"}},
		70 * time.Second:  {At: 70 * time.Second, Action: scenario.ActionScheduleDelete, Key: "mac", PendingWindowDays: 7},
		90 * time.Second:  {At: 90 * time.Second, Action: scenario.ActionShiftTraffic, Workload: "ingest", ToRegion: "us-west-2"},
		120 * time.Second: {At: 120 * time.Second, Action: scenario.ActionScheduleDelete, Key: "rsa-enc", PendingWindowDays: 30},
	}
	for _, e := range s.Events {
		if w, ok := wantEvents[e.At]; ok && !reflect.DeepEqual(e, w) {
			t.Errorf("event at %s = %+v; want %+v", e.At, e, w)
		}
	}
	wantThresholds := map[string][]string{"all": {"errors < 1%"}, "reader": {"p99 < 50ms", "throttled_requests < 1%"}}
	if !reflect.DeepEqual(s.Thresholds, wantThresholds) {
		t.Errorf("Thresholds = %v; want %v", s.Thresholds, wantThresholds)
	}
	if err := s.Validate(); err != nil {
		t.Errorf("Validate() of a loaded scenario = %v; want nil", err)
	}
}

// TestScenariosDir loads every scenario shipped in ../scenarios; a broken
// example fails here.
func TestScenariosDir(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "scenarios", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios found in ../scenarios (err %v)", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			s, err := scenario.Load(f)
			if err != nil {
				t.Fatalf("Load(%s):\n%v", f, err)
			}
			if err := s.Validate(); err != nil {
				t.Errorf("Validate(%s) = %v", f, err)
			}
		})
	}
}

func TestQuickstart(t *testing.T) {
	s, err := scenario.Load(filepath.Join("..", "scenarios", "quickstart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "quickstart" || s.Region != "us-east-1" || s.Scale != 0.01 || s.Duration != 10*time.Second {
		t.Errorf("quickstart = %s %s %g %s; want quickstart us-east-1 0.01 10s", s.Name, s.Region, s.Scale, s.Duration)
	}
	if !strings.Contains(s.Description, "per caller account and Region, not per key") {
		t.Errorf("Description = %q; want the claim stated", s.Description)
	}
	if len(s.Workloads) != 2 {
		t.Fatalf("len(Workloads) = %d; want 2", len(s.Workloads))
	}
	var total float64
	for _, w := range s.Workloads {
		if w.Caller != "prod" || w.Key != "env-prod" {
			t.Errorf("workload %s: caller %s key %s; want prod, env-prod", w.Name, w.Caller, w.Key)
		}
		total += w.Rate.PerSecond()
	}
	// 120% of the 100,000/s symmetric quota of us-east-1.
	if total != 120000 {
		t.Errorf("offered load = %g/s; want 120000/s", total)
	}
	if w := s.Workloads[1]; w.Name != "orders-api" || w.Operation != "Decrypt" || w.Arrival != "poisson" {
		t.Errorf("second workload = %+v; want orders-api Decrypt poisson", w)
	}
	if got, want := s.Thresholds["orders-api"], []string{"p99 < 50ms", "failures < 1%", "goodput > 30000/s"}; !reflect.DeepEqual(got, want) {
		t.Errorf("thresholds = %v; want %v", got, want)
	}
	if got := s.Keys["env-prod"].Alias; got != "alias/prod" {
		t.Errorf("env-prod alias = %q", got)
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		want scenario.Rate
		ok   bool
	}{
		{"600/s", 600, true},
		{"36000/min", 600, true},
		{"5/h", 5.0 / 3600, true},
		{"2.5", 2.5, true},
		{".5/s", 0.5, true},
		{"600", 600, true},
		{"600/sec", 0, false},
		{"600 /s", 0, false},
		{"1e3/s", 0, false},
		{"0x10", 0, false},
		{"", 0, false},
		{"NaN", 0, false},
	}
	for _, tt := range tests {
		got, err := scenario.ParseRate(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "600/s") {
			t.Errorf("ParseRate(%q) error %q does not name the accepted forms", tt.in, err)
		}
	}
}

func TestSHA256AndString(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "scenarios", "quickstart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := scenario.Parse("q.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	b, err := scenario.Parse("q.yaml", append(append([]byte(nil), data...), "\n# changed\n"...))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.SHA256()) != 64 {
		t.Errorf("SHA256() = %q; want 64 hex digits", a.SHA256())
	}
	if a.SHA256() == b.SHA256() {
		t.Errorf("SHA256() is the same for different file bytes")
	}
	if (&scenario.Scenario{}).SHA256() != "" {
		t.Errorf("SHA256() of a scenario built in code should be empty")
	}
	str := a.String()
	for _, want := range []string{"scenario quickstart", "sha256 " + a.SHA256()[:12], "scale 0.01", "s3-ingest", "80000/s", "(scaled 800/s)", "orders-api", "poisson", "p99 < 50ms"} {
		if !strings.Contains(str, want) {
			t.Errorf("String() lacks %q:\n%s", want, str)
		}
	}
}

func TestValidateInCode(t *testing.T) {
	s := scenario.NewScenario()
	s.Name = "code"
	s.Accounts["app"] = scenario.Account{Name: "app", ID: "111111111111"}
	s.Accounts["sec"] = scenario.Account{Name: "sec", ID: "222222222222"}
	k := scenario.NewKey()
	k.Name, k.Account = "central", "sec"
	s.Keys["central"] = k
	w := scenario.NewWorkload()
	w.Name, w.Caller, w.Key, w.Operation, w.Rate = "w", "app", "central", scenario.OpDecrypt, 10
	s.Workloads = []scenario.Workload{w}
	if err := s.Validate(); err != nil {
		t.Fatalf("Validate() = %v; want nil (derived defaults filled)", err)
	}
	if s.Workloads[0].KeyRef != "" {
		t.Errorf("Validate modified the scenario: KeyRef = %q", s.Workloads[0].KeyRef)
	}
	s.Workloads[0].KeyRef = scenario.KeyRefID
	err := s.Validate()
	var errs scenario.Errors
	if !errors.As(err, &errs) || len(errs) != 1 {
		t.Fatalf("Validate() = %v; want one problem", err)
	}
	if e := errs[0]; e.Line != 0 || !strings.HasPrefix(e.Error(), "workloads.w.key_ref: caller app does not own key central") {
		t.Errorf("problem = %q (line %d); want the cross-account key_ref problem without position", e.Error(), e.Line)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := scenario.Load(filepath.Join("testdata", "does-not-exist.yaml"))
	var errs scenario.Errors
	if err == nil || errors.As(err, &errs) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v; want a wrapped fs.ErrNotExist", err)
	}
	if err != nil && !strings.HasPrefix(err.Error(), "scenario: ") {
		t.Errorf("Load(missing) error %q lacks the package prefix", err)
	}
}
