package emulator

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"time"
)

// awsManagedAliasPrefix starts the alias of every AWS-managed key.
const awsManagedAliasPrefix = "alias/aws/"

// awsManagedRotationDays is the fixed rotation period of AWS-managed keys.
const awsManagedRotationDays = 365

// awsManagedAliasRE matches the alias of an AWS-managed key:
// alias/aws/<service>.
var awsManagedAliasRE = regexp.MustCompile(`^alias/aws/[a-z0-9-]+$`)

// awsManagedMarker is looked for in request bodies before any decoding, so
// requests that name no AWS-managed alias pay nothing.
var awsManagedMarker = []byte(awsManagedAliasPrefix)

// ensureAWSManaged creates, on first use, the AWS-managed key of a service
// when the request names its alias (alias/aws/<service>, by name or by
// alias ARN) in the caller's own account and Region and the alias does not
// exist yet, as KMS does when a service first encrypts for the account or
// when DescribeKey names a predefined AWS alias. It looks at the KeyId and
// DestinationKeyId fields only; everything else is left to the operation.
// The caller holds no lock.
func (c *call) ensureAWSManaged() {
	if !bytes.Contains(c.body, awsManagedMarker) {
		return
	}
	var in struct {
		KeyId            string
		DestinationKeyId string
	}
	if json.Unmarshal(c.body, &in) != nil {
		return // the operation reports the bad body
	}
	for _, ref := range []string{in.KeyId, in.DestinationKeyId} {
		if name, ok := c.ownAWSManagedAlias(ref); ok {
			c.s.createAWSManaged(c.account, c.region, name, c.now)
		}
	}
}

// ownAWSManagedAlias returns the alias name ref names when ref is an
// AWS-managed alias in the caller's account and Region.
func (c *call) ownAWSManagedAlias(ref string) (string, bool) {
	name := ref
	if strings.HasPrefix(ref, "arn:") {
		parts := strings.SplitN(ref, ":", 6)
		if len(parts) != 6 || parts[2] != "kms" || parts[3] != c.region || parts[4] != c.account {
			return "", false
		}
		name = parts[5]
	}
	return name, awsManagedAliasRE.MatchString(name)
}

// createAWSManaged creates the AWS-managed key alias names in account and
// region unless the alias already names a live key.
func (s *Server) createAWSManaged(account, region, name string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.sweep(now)
	loc := aliasLoc{account, region, name}
	if a := s.st.aliases[loc]; a != nil && s.st.lookup(keyLoc{account, region, a.keyID}, now) != nil {
		return
	}
	mat, err := newMaterial(specSymmetric)
	if err != nil {
		s.logf("emulator: AWS-managed key %s: %v", name, err)
		return
	}
	service := strings.TrimPrefix(name, awsManagedAliasPrefix)
	doc := awsManagedKeyPolicy(account, service)
	pol, aerr := parseKeyPolicy(doc)
	if aerr != nil { // a fixed document: cannot happen
		s.logf("emulator: AWS-managed key policy: %s", aerr.Message)
		return
	}
	id := randomUUID()
	k := &key{
		id: id, account: account, region: region, arn: keyARN(region, account, id),
		spec: specSymmetric, usage: usageEncrypt, origin: "AWS_KMS",
		description: "Default key that protects my " + service + " resources when no other key is defined",
		created:     now, state: stateEnabled, mat: mat, policy: doc, pol: pol,
		rotation: true, rotationDays: awsManagedRotationDays,
		nextRotation: now.Add(awsManagedRotationDays * 24 * time.Hour),
		awsManaged:   true,
	}
	s.st.keys[keyLoc{account, region, id}] = k
	s.st.aliases[loc] = &alias{name: name, keyID: id, created: now, updated: now}
}

// awsManagedKeyPolicy returns the fixed key policy of an AWS-managed key:
// the account may use the key for cryptography and read its metadata, and
// nothing else, so DisableKey, ScheduleKeyDeletion, PutKeyPolicy,
// EnableKeyRotation and every other change are refused with
// AccessDeniedException, as KMS refuses them. The AWS policy also
// restricts use to calls made through the service (kms:ViaService and
// kms:CallerAccount conditions); the emulator does not evaluate
// conditions, so it allows the account's direct calls, as if they came
// through the service.
func awsManagedKeyPolicy(account, service string) string {
	root := "arn:aws:iam::" + account + ":root"
	type statement struct {
		Sid       string            `json:"Sid"`
		Effect    string            `json:"Effect"`
		Principal map[string]string `json:"Principal"`
		Action    []string          `json:"Action"`
		Resource  string            `json:"Resource"`
	}
	doc := struct {
		Version   string      `json:"Version"`
		ID        string      `json:"Id"`
		Statement []statement `json:"Statement"`
	}{
		Version: "2012-10-17",
		ID:      "auto-" + service + "-2",
		Statement: []statement{
			{
				Sid:       "Allow access through " + service + " for all principals in the account that are authorized to use " + service,
				Effect:    "Allow",
				Principal: map[string]string{"AWS": root},
				Action:    []string{"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey"},
				Resource:  "*",
			},
			{
				Sid:       "Allow direct access to key metadata to the account",
				Effect:    "Allow",
				Principal: map[string]string{"AWS": root},
				Action:    []string{"kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"},
				Resource:  "*",
			},
		},
	}
	b, _ := json.MarshalIndent(doc, "", "  ") // plain strings: cannot fail
	return string(b)
}
