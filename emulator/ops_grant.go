package emulator

import "strings"

// grantOperations are the operation names a grant may allow.
var grantOperations = map[string]bool{
	"Decrypt": true, "Encrypt": true, "GenerateDataKey": true,
	"GenerateDataKeyWithoutPlaintext": true, "ReEncryptFrom": true, "ReEncryptTo": true,
	"Sign": true, "Verify": true, "GetPublicKey": true, "CreateGrant": true,
	"RetireGrant": true, "DescribeKey": true, "GenerateDataKeyPair": true,
	"GenerateDataKeyPairWithoutPlaintext": true, "GenerateMac": true, "VerifyMac": true,
	"DeriveSharedSecret": true,
}

type createGrantIn struct {
	KeyId             string
	GranteePrincipal  string
	RetiringPrincipal string
	Operations        []string
	Constraints       *struct {
		EncryptionContextSubset   map[string]string
		EncryptionContextEquals   map[string]string
		EncryptionContextCategory map[string]string
	}
	GrantTokens []string
	Name        string
	DryRun      bool
}

type createGrantOut struct {
	GrantToken string
	GrantId    string
}

func opCreateGrant(c *call, in *createGrantIn, k *key) (any, *apiError) {
	if in.GranteePrincipal == "" {
		return nil, errNull("granteePrincipal")
	}
	if len(in.Operations) == 0 {
		return nil, errNull("operations")
	}
	for _, op := range in.Operations {
		if !grantOperations[op] {
			return nil, errEnum("operations", op)
		}
	}
	if in.Constraints != nil && (in.Constraints.EncryptionContextEquals != nil || in.Constraints.EncryptionContextSubset != nil) {
		return nil, kerr("UnsupportedOperationException", "the emulator does not support grant constraints")
	}
	if e := k.notPending(); e != nil {
		return nil, e
	}
	if in.DryRun {
		return nil, errDryRun()
	}
	// A grant with the same name and the same settings is returned again.
	if in.Name != "" {
		for _, g := range k.grants {
			if g.Name == in.Name && g.Grantee == in.GranteePrincipal && g.Retiring == in.RetiringPrincipal && strings.Join(g.Operations, ",") == strings.Join(in.Operations, ",") {
				return createGrantOut{GrantToken: g.Token, GrantId: g.ID}, nil
			}
		}
	}
	if len(k.grants) >= 50000 {
		return nil, kerr("LimitExceededException", "too many grants on %s", k.arn)
	}
	g := &grant{
		ID: randomHex(32), Token: randomToken(), Name: in.Name,
		Grantee: in.GranteePrincipal, Retiring: in.RetiringPrincipal,
		Operations: append([]string{}, in.Operations...), IssuingAccount: "arn:aws:iam::" + c.account + ":root",
		Created: c.now, granteeAccountStr: accountOfPrincipal(in.GranteePrincipal),
	}
	k.grants = append(k.grants, g)
	return createGrantOut{GrantToken: g.Token, GrantId: g.ID}, nil
}

type listGrantsIn struct {
	KeyId            string
	Limit            *int
	Marker           string
	GrantId          string
	GranteePrincipal string
}

type grantEntry struct {
	KeyId             string
	GrantId           string
	Name              string `json:",omitempty"`
	CreationDate      epoch
	GranteePrincipal  string
	RetiringPrincipal string `json:",omitempty"`
	IssuingAccount    string
	Operations        []string
}

type listGrantsOut struct {
	Grants []grantEntry
	pageOut
}

func opListGrants(c *call, in *listGrantsIn, k *key) (any, *apiError) {
	var all []grantEntry
	for _, g := range k.grants {
		if in.GrantId != "" && g.ID != in.GrantId {
			continue
		}
		if in.GranteePrincipal != "" && g.Grantee != in.GranteePrincipal {
			continue
		}
		all = append(all, grantEntry{KeyId: k.arn, GrantId: g.ID, Name: g.Name, CreationDate: epoch(g.Created),
			GranteePrincipal: g.Grantee, RetiringPrincipal: g.Retiring, IssuingAccount: g.IssuingAccount, Operations: g.Operations})
	}
	grants, p, e := page(all, in.Limit, in.Marker)
	if e != nil {
		return nil, e
	}
	return listGrantsOut{Grants: grants, pageOut: p}, nil
}

type retireGrantIn struct {
	GrantToken string
	KeyId      string
	GrantId    string
	DryRun     bool
}

func (k *key) removeGrant(i int) {
	k.grants = append(k.grants[:i:i], k.grants[i+1:]...)
}

func opRetireGrant(c *call, in *retireGrantIn) (any, *apiError) {
	s := c.s
	if in.GrantToken != "" {
		for _, k := range s.st.keys {
			for i, g := range k.grants {
				if g.Token == in.GrantToken {
					k.removeGrant(i)
					return nil, nil
				}
			}
		}
		return nil, kerr("InvalidGrantTokenException", "Invalid grant token")
	}
	if in.KeyId == "" || in.GrantId == "" {
		return nil, kerr("ValidationException", "Either GrantToken or both KeyId and GrantId must be specified")
	}
	k, e := c.resolve(in.KeyId, "keyId")
	if e != nil {
		return nil, e
	}
	for i, g := range k.grants {
		if g.ID == in.GrantId {
			// The retiring principal, the grantee (when the grant allows
			// RetireGrant) and the key's owner may retire a grant.
			if accountOfPrincipal(g.Retiring) != c.account && c.account != k.account &&
				!(g.granteeAccountStr == c.account && contains(g.Operations, "RetireGrant")) {
				return nil, kerr("AccessDeniedException", "User: %s is not authorized to retire grant %s", c.principal(), g.ID)
			}
			k.removeGrant(i)
			return nil, nil
		}
	}
	return nil, kerr("InvalidGrantIdException", "Grant %s does not exist", in.GrantId)
}

type revokeGrantIn struct {
	KeyId   string
	GrantId string
	DryRun  bool
}

func opRevokeGrant(c *call, in *revokeGrantIn, k *key) (any, *apiError) {
	if in.GrantId == "" {
		return nil, errNull("grantId")
	}
	for i, g := range k.grants {
		if g.ID == in.GrantId {
			k.removeGrant(i)
			return nil, nil
		}
	}
	return nil, kerr("InvalidGrantIdException", "Grant %s does not exist", in.GrantId)
}
