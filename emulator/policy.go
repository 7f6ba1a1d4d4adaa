package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// maxPolicyBytes is the KMS limit on the size of a key policy document.
const maxPolicyBytes = 32 * 1024

// errUnsupportedPolicy marks policy elements that real KMS would evaluate
// but the emulator does not (Condition, NotAction, NotPrincipal,
// NotResource). Ignoring them would grant or refuse access differently from
// KMS, so documents that use them are refused outright.
var errUnsupportedPolicy = errors.New("emulator: policy element not supported")

// errMalformedPolicy marks documents that are not a valid key policy.
var errMalformedPolicy = errors.New("emulator: malformed key policy")

// policyError is a parsePolicy error: kind is errMalformedPolicy or
// errUnsupportedPolicy, msg the explanation.
type policyError struct {
	kind error
	msg  string
}

func (e *policyError) Error() string { return "emulator: " + e.msg }
func (e *policyError) Unwrap() error { return e.kind }

func policyMalformed(format string, args ...any) *policyError {
	return &policyError{kind: errMalformedPolicy, msg: fmt.Sprintf(format, args...)}
}

func policyUnsupported(format string, args ...any) *policyError {
	return &policyError{kind: errUnsupportedPolicy, msg: fmt.Sprintf(format, args...)}
}

// keyPolicy is a parsed key policy: the statements the emulator evaluates.
// It is immutable after parsePolicy returns and safe for concurrent use.
type keyPolicy struct {
	statements []policyStatement
}

// policyStatement is one statement of a key policy.
type policyStatement struct {
	deny bool
	// anyPrincipal is set by Principal "*" or {"AWS": "*"}.
	anyPrincipal bool
	// accounts holds account ids whose every principal matches
	// ("111122223333" or "arn:aws:iam::111122223333:root").
	accounts []string
	// arns holds principal ARNs that must match exactly.
	arns []string
	// actions holds lower-cased action patterns ("kms:*", "kms:gen*").
	actions []string
}

// parsePolicy parses a JSON key policy document.
//
// Supported: Version (optional) and Id; Statement as one object or a list;
// per statement Sid, Effect ("Allow" or "Deny"), Principal ("*" or
// {"AWS": principal or list of principals}, {"Service": ...} principals are
// accepted and match no caller), Action (string or list of patterns with
// "*" and "?" wildcards, matched case-insensitively) and Resource (accepted
// and ignored: a key policy applies to its own key). A principal is "*", a
// 12-digit account id, the account root ARN arn:PARTITION:iam::ACCT:root
// (both meaning every principal of that account), or any other IAM ARN,
// which must match the caller's ARN exactly.
//
// Condition, NotAction, NotPrincipal and NotResource are refused with an
// error wrapping errUnsupportedPolicy: KMS would evaluate them, and an
// emulator that skipped them would give wrong answers. Every other problem
// wraps errMalformedPolicy.
func parsePolicy(doc string) (*keyPolicy, error) {
	if len(doc) > maxPolicyBytes {
		return nil, policyMalformed("key policy is %d bytes, the limit is %d", len(doc), maxPolicyBytes)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &top); err != nil {
		return nil, policyMalformed("key policy is not a JSON object: %v", err)
	}
	if top == nil {
		return nil, policyMalformed("key policy is null")
	}
	for _, k := range sortedKeys(top) {
		switch k {
		case "Version":
			var v string
			if err := json.Unmarshal(top[k], &v); err != nil {
				return nil, policyMalformed("key policy Version must be a string")
			}
			if v != "2012-10-17" && v != "2008-10-17" {
				return nil, policyMalformed("key policy Version %q is not 2012-10-17 or 2008-10-17", v)
			}
		case "Id":
			var v string
			if err := json.Unmarshal(top[k], &v); err != nil {
				return nil, policyMalformed("key policy Id must be a string")
			}
		case "Statement":
		default:
			return nil, policyMalformed("key policy has unknown top-level element %q", k)
		}
	}
	raw, ok := top["Statement"]
	if !ok {
		return nil, policyMalformed("key policy has no Statement")
	}
	var raws []json.RawMessage
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '[' {
		if err := json.Unmarshal(raw, &raws); err != nil {
			return nil, policyMalformed("key policy Statement: %v", err)
		}
	} else {
		raws = []json.RawMessage{raw}
	}
	if len(raws) == 0 {
		return nil, policyMalformed("key policy Statement list is empty")
	}
	p := &keyPolicy{statements: make([]policyStatement, 0, len(raws))}
	for i, r := range raws {
		st, err := parseStatement(r)
		if err != nil {
			return nil, &policyError{kind: err.kind, msg: fmt.Sprintf("key policy statement %d%s: %s", i+1, sidOf(r), err.msg)}
		}
		p.statements = append(p.statements, st)
	}
	return p, nil
}

// sidOf returns ` (Sid "x")` for a statement that has a string Sid, for
// error messages, or "".
func sidOf(raw json.RawMessage) string {
	var s struct{ Sid string }
	if json.Unmarshal(raw, &s) != nil || s.Sid == "" {
		return ""
	}
	return fmt.Sprintf(" (Sid %q)", s.Sid)
}

func parseStatement(raw json.RawMessage) (policyStatement, *policyError) {
	var st policyStatement
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return st, policyMalformed("a statement must be a JSON object")
	}
	for _, k := range sortedKeys(m) {
		switch k {
		case "Sid", "Effect", "Principal", "Action", "Resource":
		case "Condition":
			return st, policyUnsupported("Condition: the emulator does not evaluate policy conditions; " +
				"KMS would apply them, so ignoring the condition would give wrong answers " +
				"(remove the Condition or express the rule with principals and actions only)")
		case "NotAction", "NotPrincipal", "NotResource":
			return st, policyUnsupported("%s: the emulator does not evaluate %s; "+
				"KMS would apply it, so ignoring it would give wrong answers "+
				"(list the principals, actions and resources explicitly instead)", k, k)
		default:
			return st, policyMalformed("unknown element %q", k)
		}
	}
	if sid, ok := m["Sid"]; ok {
		var s string
		if err := json.Unmarshal(sid, &s); err != nil {
			return st, policyMalformed("Sid must be a string")
		}
	}

	var effect string
	if err := json.Unmarshal(m["Effect"], &effect); err != nil || m["Effect"] == nil {
		return st, policyMalformed("Effect must be \"Allow\" or \"Deny\"")
	}
	switch effect {
	case "Allow":
	case "Deny":
		st.deny = true
	default:
		return st, policyMalformed("Effect %q is not \"Allow\" or \"Deny\"", effect)
	}

	if err := st.parsePrincipal(m["Principal"]); err != nil {
		return st, err
	}

	actions, err := stringOrList(m["Action"])
	if err != nil || len(actions) == 0 {
		return st, policyMalformed("Action must be a non-empty string or list of strings")
	}
	for _, a := range actions {
		if a != "*" && !strings.Contains(a, ":") {
			return st, policyMalformed("Action %q is not of the form service:action", a)
		}
		st.actions = append(st.actions, strings.ToLower(a))
	}

	if r, ok := m["Resource"]; ok {
		if res, err := stringOrList(r); err != nil || len(res) == 0 {
			return st, policyMalformed("Resource must be a non-empty string or list of strings")
		}
	}
	return st, nil
}

// parsePrincipal fills the principal fields of st from the Principal element.
func (st *policyStatement) parsePrincipal(raw json.RawMessage) *policyError {
	if raw == nil {
		return policyMalformed("a key policy statement needs a Principal")
	}
	var star string
	if json.Unmarshal(raw, &star) == nil {
		if star != "*" {
			return policyMalformed("Principal %q: a string principal must be \"*\"; use {\"AWS\": ...}", star)
		}
		st.anyPrincipal = true
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || len(m) == 0 {
		return policyMalformed("Principal must be \"*\" or an object such as {\"AWS\": \"arn:aws:iam::111122223333:root\"}")
	}
	for _, k := range sortedKeys(m) {
		vals, err := stringOrList(m[k])
		if err != nil || len(vals) == 0 {
			return policyMalformed("Principal %s must be a non-empty string or list of strings", k)
		}
		switch k {
		case "AWS":
			for _, v := range vals {
				if err := st.addAWSPrincipal(v); err != nil {
					return err
				}
			}
		case "Service":
			// Service principals (e.g. "s3.amazonaws.com") are valid but
			// never match a caller identified by account and IAM ARN.
		default:
			return policyUnsupported("Principal type %q is not supported (want \"AWS\" or \"Service\")", k)
		}
	}
	return nil
}

func (st *policyStatement) addAWSPrincipal(v string) *policyError {
	if v == "*" {
		st.anyPrincipal = true
		return nil
	}
	if IsAccount(v) {
		st.accounts = append(st.accounts, v)
		return nil
	}
	acct, resource, ok := parseIAMARN(v)
	if !ok {
		return policyMalformed("Principal %q is not \"*\", a 12-digit account id or an IAM ARN", v)
	}
	if resource == "root" {
		st.accounts = append(st.accounts, acct)
		return nil
	}
	st.arns = append(st.arns, v)
	return nil
}

// allows reports whether the policy lets the principal principalARN of
// account callerAccount perform action (for example "kms:Decrypt"). An
// explicit Deny in any matching statement wins over every Allow; without a
// matching Allow the answer is no. The account-root principal matches every
// principal of its account. An STS assumed-role session ARN
// (arn:aws:sts::ACCT:assumed-role/NAME/SESSION) also matches the role
// principal arn:aws:iam::ACCT:role/NAME, as in IAM.
func (p *keyPolicy) allows(callerAccount, principalARN, action string) bool {
	if p == nil {
		return false
	}
	roleARN := assumedRoleARN(principalARN)
	allowed := false
	for i := range p.statements {
		st := &p.statements[i]
		if !st.matchesPrincipal(callerAccount, principalARN, roleARN) || !st.matchesAction(action) {
			continue
		}
		if st.deny {
			return false
		}
		allowed = true
	}
	return allowed
}

func (st *policyStatement) matchesPrincipal(account, arn, roleARN string) bool {
	if st.anyPrincipal {
		return true
	}
	for _, a := range st.accounts {
		if a == account {
			return true
		}
	}
	if arn == "" {
		return false
	}
	for _, a := range st.arns {
		if a == arn || (roleARN != "" && a == roleARN) {
			return true
		}
	}
	return false
}

func (st *policyStatement) matchesAction(action string) bool {
	action = strings.ToLower(action)
	for _, pat := range st.actions {
		if wildcardMatch(pat, action) {
			return true
		}
	}
	return false
}

// wildcardMatch matches s against pattern, where '*' matches any run of
// characters (including none) and '?' any single character. Both are
// expected in the same case. It runs in O(len(pattern)*len(s)) at worst.
func wildcardMatch(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// defaultKeyPolicy returns the key policy KMS attaches when CreateKey gets
// none: it lets the owning account's IAM policies control access to the key.
func defaultKeyPolicy(account string) string {
	return `{
  "Version" : "2012-10-17",
  "Id" : "key-default-1",
  "Statement" : [ {
    "Sid" : "Enable IAM User Permissions",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:aws:iam::` + account + `:root"
    },
    "Action" : "kms:*",
    "Resource" : "*"
  } ]
}`
}

// stringOrList decodes a JSON string or list of strings.
func stringOrList(raw json.RawMessage) ([]string, error) {
	if raw == nil {
		return nil, errors.New("missing")
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return []string{s}, nil
	}
	var l []string
	if err := json.Unmarshal(raw, &l); err != nil {
		return nil, err
	}
	return l, nil
}

// parseIAMARN splits arn:PARTITION:iam::ACCOUNT:RESOURCE.
func parseIAMARN(s string) (account, resource string, ok bool) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] != "iam" || parts[3] != "" ||
		!IsAccount(parts[4]) || parts[5] == "" {
		return "", "", false
	}
	return parts[4], parts[5], true
}

// assumedRoleARN maps arn:PART:sts::ACCT:assumed-role/NAME/SESSION to
// arn:PART:iam::ACCT:role/NAME, or returns "".
func assumedRoleARN(s string) string {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sts" || !IsAccount(parts[4]) {
		return ""
	}
	rest, ok := strings.CutPrefix(parts[5], "assumed-role/")
	if !ok {
		return ""
	}
	name, _, ok := strings.Cut(rest, "/")
	if !ok || name == "" {
		return ""
	}
	return "arn:" + parts[1] + ":iam::" + parts[4] + ":role/" + name
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
