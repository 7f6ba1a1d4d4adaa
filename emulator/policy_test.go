package emulator

import (
	"errors"
	"strings"
	"testing"
)

func TestPolicyAllows(t *testing.T) {
	const (
		owner = "111111111111"
		other = "222222222222"
		third = "333333333333"
	)
	type check struct {
		account, arn, action string
		want                 bool
	}
	tests := []struct {
		name   string
		doc    string
		checks []check
	}{
		{
			name: "default policy allows every principal of the owner only",
			doc:  defaultKeyPolicy(owner),
			checks: []check{
				{owner, "arn:aws:iam::111111111111:root", "kms:Decrypt", true},
				{owner, "arn:aws:iam::111111111111:role/app", "kms:CreateGrant", true},
				{owner, "", "kms:Encrypt", true},
				{other, "arn:aws:iam::222222222222:root", "kms:Decrypt", false},
			},
		},
		{
			name: "root of other account, list of principals",
			doc: `{"Version":"2012-10-17","Statement":[
				{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"kms:*","Resource":"*"},
				{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::222222222222:root"]},"Action":["kms:Encrypt","kms:Decrypt"],"Resource":"*"}]}`,
			checks: []check{
				{other, "arn:aws:iam::222222222222:user/alice", "kms:Decrypt", true},
				{other, "arn:aws:iam::222222222222:root", "kms:Encrypt", true},
				{other, "arn:aws:iam::222222222222:root", "kms:ScheduleKeyDeletion", false},
				{third, "arn:aws:iam::333333333333:root", "kms:Decrypt", false},
			},
		},
		{
			name: "bare account id principal",
			doc:  `{"Statement":{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"kms:Decrypt","Resource":"*"}}`,
			checks: []check{
				{other, "", "kms:Decrypt", true},
				{third, "", "kms:Decrypt", false},
			},
		},
		{
			name: "deny beats allow",
			doc: `{"Statement":[
				{"Effect":"Allow","Principal":"*","Action":"kms:*"},
				{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"kms:Decrypt"}]}`,
			checks: []check{
				{other, "arn:aws:iam::222222222222:role/r", "kms:Decrypt", false},
				{other, "arn:aws:iam::222222222222:role/r", "kms:Encrypt", true},
				{third, "", "kms:Decrypt", true},
			},
		},
		{
			name: "deny first in document still wins",
			doc: `{"Statement":[
				{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"kms:ScheduleKeyDeletion"},
				{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"kms:*"}]}`,
			checks: []check{
				{owner, "", "kms:ScheduleKeyDeletion", false},
				{owner, "", "kms:DisableKey", true},
			},
		},
		{
			name: "wildcard actions, case-insensitive",
			doc: `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},
				"Action":["kms:Gen*","kms:*Key","KMS:decrypt","kms:Re?ncrypt"]}]}`,
			checks: []check{
				{owner, "", "kms:GenerateDataKey", true},
				{owner, "", "kms:GenerateMac", true},
				{owner, "", "kms:generaterandom", true},
				{owner, "", "kms:DescribeKey", true},
				{owner, "", "kms:EnableKey", true},
				{owner, "", "kms:Decrypt", true},
				{owner, "", "kms:ReEncrypt", true},
				{owner, "", "kms:Encrypt", false},
				{owner, "", "kms:Sign", false},
				{owner, "", "kms:DescribeKeys", false},
			},
		},
		{
			name: "star action",
			doc:  `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"*"}]}`,
			checks: []check{
				{owner, "", "kms:Sign", true},
			},
		},
		{
			name: "role ARN principal matches exactly",
			doc: `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:role/decrypter"},
				"Action":"kms:Decrypt","Resource":"*"}]}`,
			checks: []check{
				{other, "arn:aws:iam::222222222222:role/decrypter", "kms:Decrypt", true},
				{other, "arn:aws:sts::222222222222:assumed-role/decrypter/session-1", "kms:Decrypt", true},
				{other, "arn:aws:iam::222222222222:role/decrypter2", "kms:Decrypt", false},
				{other, "arn:aws:iam::222222222222:role/other", "kms:Decrypt", false},
				{other, "arn:aws:iam::222222222222:root", "kms:Decrypt", false},
				{other, "", "kms:Decrypt", false},
				{other, "arn:aws:iam::222222222222:role/decrypter", "kms:Encrypt", false},
			},
		},
		{
			name: "service principal matches no caller",
			doc:  `{"Statement":[{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"kms:*"}]}`,
			checks: []check{
				{owner, "arn:aws:iam::111111111111:root", "kms:Decrypt", false},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parsePolicy(tt.doc)
			if err != nil {
				t.Fatalf("parsePolicy: %v", err)
			}
			for _, c := range tt.checks {
				if got := p.allows(c.account, c.arn, c.action); got != c.want {
					t.Errorf("allows(%q, %q, %q) = %v; want %v", c.account, c.arn, c.action, got, c.want)
				}
			}
		})
	}
}

func TestPolicyRejects(t *testing.T) {
	tests := []struct {
		name     string
		doc      string
		sentinel error
		contains []string
	}{
		{"condition", `{"Version":"2012-10-17","Statement":[{"Sid":"ctx","Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"kms:Decrypt","Condition":{"StringEquals":{"kms:EncryptionContext:app":"x"}}}]}`,
			errUnsupportedPolicy, []string{"statement 1", `Sid "ctx"`, "Condition", "does not evaluate", "wrong answers"}},
		{"not action", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*"},{"Effect":"Deny","Principal":"*","NotAction":"kms:Decrypt"}]}`,
			errUnsupportedPolicy, []string{"statement 2", "NotAction", "does not evaluate"}},
		{"not principal", `{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"111111111111"},"Action":"kms:*"}}`,
			errUnsupportedPolicy, []string{"NotPrincipal"}},
		{"not resource", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*","NotResource":"x"}}`,
			errUnsupportedPolicy, []string{"NotResource"}},
		{"federated principal", `{"Statement":{"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"kms:*"}}`,
			errUnsupportedPolicy, []string{"Federated"}},
		{"bad json", `{"Statement":[`, errMalformedPolicy, []string{"JSON"}},
		{"empty", ``, errMalformedPolicy, nil},
		{"not an object", `[1,2]`, errMalformedPolicy, nil},
		{"null", `null`, errMalformedPolicy, nil},
		{"no statement", `{"Version":"2012-10-17"}`, errMalformedPolicy, []string{"Statement"}},
		{"empty statement list", `{"Statement":[]}`, errMalformedPolicy, []string{"empty"}},
		{"statement not object", `{"Statement":["x"]}`, errMalformedPolicy, []string{"object"}},
		{"bad version", `{"Version":"2020-01-01","Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*"}}`, errMalformedPolicy, []string{"Version"}},
		{"unknown top-level", `{"Statment":[],"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*"}}`, errMalformedPolicy, []string{"Statment"}},
		{"bad effect", `{"Statement":{"Effect":"allow","Principal":"*","Action":"kms:*"}}`, errMalformedPolicy, []string{"Effect"}},
		{"missing effect", `{"Statement":{"Principal":"*","Action":"kms:*"}}`, errMalformedPolicy, []string{"Effect"}},
		{"missing principal", `{"Statement":{"Effect":"Allow","Action":"kms:*"}}`, errMalformedPolicy, []string{"Principal"}},
		{"string principal not star", `{"Statement":{"Effect":"Allow","Principal":"111111111111","Action":"kms:*"}}`, errMalformedPolicy, []string{"Principal"}},
		{"bad principal", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"bob"},"Action":"kms:*"}}`, errMalformedPolicy, []string{`"bob"`}},
		{"short account", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"12345"},"Action":"kms:*"}}`, errMalformedPolicy, []string{"12345"}},
		{"principal number", `{"Statement":{"Effect":"Allow","Principal":{"AWS":111111111111},"Action":"kms:*"}}`, errMalformedPolicy, []string{"Principal"}},
		{"missing action", `{"Statement":{"Effect":"Allow","Principal":"*"}}`, errMalformedPolicy, []string{"Action"}},
		{"empty action list", `{"Statement":{"Effect":"Allow","Principal":"*","Action":[]}}`, errMalformedPolicy, []string{"Action"}},
		{"action without service", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"Decrypt"}}`, errMalformedPolicy, []string{`"Decrypt"`}},
		{"unknown element", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*","Actions":"x"}}`, errMalformedPolicy, []string{"Actions"}},
		{"bad resource", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":5}}`, errMalformedPolicy, []string{"Resource"}},
		{"too large", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*","Sid":"` + strings.Repeat("x", maxPolicyBytes) + `"}}`, errMalformedPolicy, []string{"limit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parsePolicy(tt.doc)
			if err == nil {
				t.Fatalf("parsePolicy(%.60q) = %+v, nil; want error", tt.doc, p)
			}
			if !errors.Is(err, tt.sentinel) {
				t.Errorf("parsePolicy(%.60q) error %q does not wrap %v", tt.doc, err, tt.sentinel)
			}
			for _, s := range tt.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("parsePolicy(%.60q) error %q; want it to mention %q", tt.doc, err, s)
				}
			}
		})
	}
}

func TestPolicyNilAllowsNothing(t *testing.T) {
	var p *keyPolicy
	if p.allows("111111111111", "", "kms:Decrypt") {
		t.Errorf("(*keyPolicy)(nil).allows = true; want false")
	}
}

func TestPolicyWildcardMatch(t *testing.T) {
	tests := []struct {
		pat, s string
		want   bool
	}{
		{"*", "", true},
		{"", "", true},
		{"", "a", false},
		{"kms:*", "kms:decrypt", true},
		{"kms:*", "kmsx:decrypt", false},
		{"*key", "kms:describekey", true},
		{"*key", "kms:describekeys", false},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"**a", "bba", true},
	}
	for _, tt := range tests {
		if got := wildcardMatch(tt.pat, tt.s); got != tt.want {
			t.Errorf("wildcardMatch(%q, %q) = %v; want %v", tt.pat, tt.s, got, tt.want)
		}
	}
}

func FuzzParsePolicy(f *testing.F) {
	f.Add(defaultKeyPolicy("111111111111"))
	f.Add(`{"Statement":{"Effect":"Deny","Principal":"*","Action":["kms:*Key","kms:Gen*"]}}`)
	f.Add(`{"Statement":[{"Effect":"Allow","Principal":{"AWS":["222222222222","arn:aws:iam::333333333333:role/x"]},"Action":"kms:Decrypt"}]}`)
	f.Fuzz(func(t *testing.T, doc string) {
		p, err := parsePolicy(doc)
		if err != nil {
			return
		}
		_ = p.allows("222222222222", "arn:aws:iam::222222222222:role/x", "kms:Decrypt")
	})
}
