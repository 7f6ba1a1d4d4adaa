package emulator

import (
	"sort"
	"strings"
	"time"
)

// Key states.
const (
	stateEnabled         = "Enabled"
	stateDisabled        = "Disabled"
	statePendingDeletion = "PendingDeletion"
)

// keyLoc locates a key: keys live per account and Region.
type keyLoc struct{ account, region, id string }

// aliasLoc locates an alias by account, Region and name ("alias/x").
type aliasLoc struct{ account, region, name string }

// store holds every key, alias and grant. All access goes through
// Server.mu: read lock for lookups and cryptography, write lock for changes.
type store struct {
	keys    map[keyLoc]*key
	aliases map[aliasLoc]*alias
}

func newStore() *store {
	return &store{keys: map[keyLoc]*key{}, aliases: map[aliasLoc]*alias{}}
}

// key is one KMS key in one account and Region. A multi-Region replica is a
// separate key sharing its material with the primary.
type key struct {
	id, account, region, arn string
	spec, usage              string
	origin                   string
	description              string
	created                  time.Time
	state                    string
	deletionDate             time.Time
	pendingDays              int
	mat                      *material
	policy                   string     // "" = the default key policy
	pol                      *keyPolicy // nil = the default key policy
	tags                     []tag
	rotation                 bool
	rotationDays             int
	onDemandRotation         time.Time
	nextRotation             time.Time // when automatic rotation is next due
	customKeyStore           string
	grants                   []*grant
	awsManaged               bool      // an AWS-managed key (alias/aws/<service>)
	xksKeyID                 string    // origin EXTERNAL_KEY_STORE: the external key
	imp                      *imported // origin EXTERNAL: the import state
}

// tag is one resource tag.
type tag struct {
	TagKey   string
	TagValue string
}

// alias names a key in its account and Region.
type alias struct {
	name    string
	keyID   string
	created time.Time
	updated time.Time
}

// grant hands the use of a key to a principal.
type grant struct {
	ID                string
	Token             string
	Name              string
	Grantee           string
	Retiring          string
	Operations        []string
	IssuingAccount    string
	Created           time.Time
	granteeAccountStr string
}

// mrkGroup ties a multi-Region primary to its replicas.
type mrkGroup struct {
	primaryRegion string
	regions       []string // primary first, then replicas in creation order
}

func keyARN(region, account, id string) string {
	return "arn:aws:kms:" + region + ":" + account + ":key/" + id
}

func aliasARN(region, account, name string) string {
	return "arn:aws:kms:" + region + ":" + account + ":" + name
}

// gone reports whether k has passed the end of its deletion window.
func (k *key) gone(now time.Time) bool {
	return k.state == statePendingDeletion && !now.Before(k.deletionDate)
}

// sweep removes keys whose deletion window has ended, and the aliases
// that pointed at them. Callers hold the write lock.
func (st *store) sweep(now time.Time) {
	for _, k := range st.keys {
		k.expire(now)
		// Automatic rotation, applied lazily like deletion; a long clock
		// jump rotates once per elapsed period.
		for k.rotation && k.rotationDays > 0 && !k.nextRotation.IsZero() && !now.Before(k.nextRotation) && !k.gone(now) {
			if err := k.mat.rotate(k.nextRotation, rotationAutomatic); err != nil {
				break
			}
			k.nextRotation = k.nextRotation.Add(time.Duration(k.rotationDays) * 24 * time.Hour)
		}
	}
	for loc, k := range st.keys {
		if k.gone(now) {
			delete(st.keys, loc)
			if g := k.mat.group; g != nil {
				for i, r := range g.regions {
					if r == k.region {
						g.regions = append(g.regions[:i:i], g.regions[i+1:]...)
						break
					}
				}
			}
		}
	}
	for loc, a := range st.aliases {
		if _, ok := st.keys[keyLoc{loc.account, loc.region, a.keyID}]; !ok {
			delete(st.aliases, loc)
		}
	}
}

// lookup returns the live key at loc.
func (st *store) lookup(loc keyLoc, now time.Time) *key {
	k := st.keys[loc]
	if k == nil || k.gone(now) {
		return nil
	}
	return k
}

// crossAccountOps are the operations that accept a key in another account
// (named by key ARN or alias ARN), as in KMS.
var crossAccountOps = map[string]bool{
	"Encrypt": true, "Decrypt": true, "ReEncrypt": true,
	"GenerateDataKey": true, "GenerateDataKeyWithoutPlaintext": true,
	"GenerateDataKeyPair": true, "GenerateDataKeyPairWithoutPlaintext": true,
	"GenerateMac": true, "VerifyMac": true, "Sign": true, "Verify": true, "DeriveSharedSecret": true,
	"GetPublicKey": true, "DescribeKey": true, "CreateGrant": true,
	"ListGrants": true, "RetireGrant": true, "RevokeGrant": true,
	"GetKeyRotationStatus": true,
}

func errKeyNotFound(arn string) *apiError {
	return kerr("NotFoundException", "Key '%s' does not exist", arn)
}

func errAliasNotFound(arn string) *apiError {
	return kerr("NotFoundException", "Alias '%s' is not found.", arn)
}

// resolve finds the key ref names for the caller: a key id, key ARN, alias
// name or alias ARN. A bare id or alias name resolves only in the caller's
// account; an ARN may name another account for operations that KMS allows
// cross-account. The caller holds at least the read lock.
func (c *call) resolve(ref, field string) (*key, *apiError) {
	if ref == "" {
		return nil, errNull(field)
	}
	if len(ref) > 2048 {
		return nil, errMaxLen(field, 2048)
	}
	st := c.s.st
	account, region := c.account, c.region
	name := ref
	if strings.HasPrefix(ref, "arn:") {
		parts := strings.SplitN(ref, ":", 6)
		if len(parts) != 6 || parts[2] != "kms" {
			return nil, kerr("NotFoundException", "Invalid arn %s", ref)
		}
		region, account, name = parts[3], parts[4], parts[5]
		if account != c.account && !crossAccountOps[c.op] {
			return nil, kerr("NotFoundException", "Invalid arn %s", ref)
		}
		if region != c.region {
			return nil, kerr("NotFoundException", "Invalid arn %s", ref)
		}
		if id, ok := strings.CutPrefix(name, "key/"); ok {
			k := st.lookup(keyLoc{account, region, id}, c.now)
			if k == nil {
				return nil, errKeyNotFound(ref)
			}
			return k, nil
		}
		if !strings.HasPrefix(name, "alias/") {
			return nil, kerr("NotFoundException", "Invalid arn %s", ref)
		}
	}
	if strings.HasPrefix(name, "alias/") {
		a := st.aliases[aliasLoc{account, region, name}]
		if a == nil {
			return nil, errAliasNotFound(aliasARN(region, account, name))
		}
		k := st.lookup(keyLoc{account, region, a.keyID}, c.now)
		if k == nil {
			return nil, errAliasNotFound(aliasARN(region, account, name))
		}
		return k, nil
	}
	k := st.lookup(keyLoc{account, region, name}, c.now)
	if k == nil {
		return nil, errKeyNotFound(keyARN(region, account, name))
	}
	return k, nil
}

// authorize checks that the caller may perform action (a KMS operation
// name such as "Decrypt") on k: the key policy or a grant must allow it.
// IAM in the caller's account is modelled as allowing everything.
func (c *call) authorize(k *key, action string) *apiError {
	if k.pol == nil {
		// Default key policy: the owner account's root, i.e. its IAM.
		if c.account == k.account {
			return nil
		}
	} else if k.pol.allows(c.account, c.principal(), "kms:"+action) {
		return nil
	}
	for _, g := range k.grants {
		if g.granteeAccountStr != c.account {
			continue
		}
		for _, op := range g.Operations {
			if op == action {
				return nil
			}
		}
	}
	return kerr("AccessDeniedException", "User: %s is not authorized to perform: kms:%s on resource: %s because no resource-based policy allows the kms:%s action", c.principal(), action, k.arn, action)
}

// usable checks the key state at now for cryptographic use.
func (k *key) usable(now time.Time) *apiError {
	switch k.stateAt(now) {
	case stateEnabled:
		return nil
	case stateDisabled:
		return kerr("DisabledException", "%s is disabled.", k.arn)
	case statePendingDeletion:
		return kerr("KMSInvalidStateException", "%s is pending deletion.", k.arn)
	case statePendingImport:
		return kerr("KMSInvalidStateException", "%s is pending import.", k.arn)
	default:
		return kerr("KMSInvalidStateException", "%s is %s.", k.arn, k.state)
	}
}

// notPending rejects management changes on keys pending deletion.
func (k *key) notPending() *apiError {
	if k.state == statePendingDeletion {
		return kerr("KMSInvalidStateException", "%s is pending deletion.", k.arn)
	}
	return nil
}

// keysOf returns the live keys of an account and Region sorted by id.
func (st *store) keysOf(account, region string, now time.Time) []*key {
	var out []*key
	for loc, k := range st.keys {
		if loc.account == account && loc.region == region && !k.gone(now) {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// accountOfPrincipal returns the account of a principal: a 12-digit id or
// an IAM/STS ARN; "" for service principals.
func accountOfPrincipal(p string) string {
	if IsAccount(p) {
		return p
	}
	parts := strings.SplitN(p, ":", 6)
	if len(parts) == 6 && parts[0] == "arn" && (parts[2] == "iam" || parts[2] == "sts") {
		return parts[4]
	}
	return ""
}

// keyMetadata is KMS's KeyMetadata.
type keyMetadata struct {
	AWSAccountId                string
	KeyId                       string
	Arn                         string
	CreationDate                epoch
	Enabled                     bool
	Description                 string
	KeyUsage                    string
	KeyState                    string
	DeletionDate                *epoch `json:",omitempty"`
	PendingDeletionWindowInDays int    `json:",omitempty"`
	Origin                      string
	KeyManager                  string
	CustomerMasterKeySpec       string
	KeySpec                     string
	EncryptionAlgorithms        []string           `json:",omitempty"`
	SigningAlgorithms           []string           `json:",omitempty"`
	MacAlgorithms               []string           `json:",omitempty"`
	KeyAgreementAlgorithms      []string           `json:",omitempty"`
	MultiRegion                 bool               `json:"MultiRegion"`
	MultiRegionConfiguration    *multiRegionConfig `json:",omitempty"`
	CustomKeyStoreId            string             `json:",omitempty"`
	CloudHsmClusterId           string             `json:",omitempty"`
	XksKeyConfiguration         *xksKeyConfig      `json:",omitempty"`
	ExpirationModel             string             `json:",omitempty"`
	CurrentKeyMaterialId        string             `json:",omitempty"`
	ValidTo                     *epoch             `json:",omitempty"`
}

// xksKeyConfig is KeyMetadata's XksKeyConfiguration: the external key of
// a key in an external key store.
type xksKeyConfig struct {
	Id string
}

type multiRegionConfig struct {
	MultiRegionKeyType string
	PrimaryKey         *multiRegionKey
	ReplicaKeys        []multiRegionKey
}

type multiRegionKey struct {
	Arn    string
	Region string
}

// metadata returns k's KeyMetadata at now. The caller holds at least the
// read lock.
func (k *key) metadata(now time.Time) *keyMetadata {
	state := k.stateAt(now)
	m := &keyMetadata{
		AWSAccountId:          k.account,
		KeyId:                 k.id,
		Arn:                   k.arn,
		CreationDate:          epoch(k.created),
		Enabled:               state == stateEnabled,
		Description:           k.description,
		KeyUsage:              k.usage,
		KeyState:              state,
		Origin:                k.origin,
		KeyManager:            keyManager(k.awsManaged),
		CustomerMasterKeySpec: k.spec,
		KeySpec:               k.spec,
		CustomKeyStoreId:      k.customKeyStore,
		CurrentKeyMaterialId:  k.currentMaterialID(),
	}
	if k.state == statePendingDeletion {
		m.DeletionDate = epochPtr(k.deletionDate)
		m.PendingDeletionWindowInDays = k.pendingDays
	}
	if model, validTo := k.expiry(); state != statePendingImport && model != "" {
		m.ExpirationModel, m.ValidTo = model, epochPtr(validTo)
	}
	if k.xksKeyID != "" {
		m.XksKeyConfiguration = &xksKeyConfig{Id: k.xksKeyID}
	}
	if k.origin == originCloudHSM {
		m.CloudHsmClusterId = clusterOf(k.customKeyStore)
	}
	info := specs[k.spec]
	switch k.usage {
	case usageEncrypt:
		m.EncryptionAlgorithms = info.encAlgs
	case usageSign:
		m.SigningAlgorithms = info.signAlgs
	case usageMac:
		m.MacAlgorithms = info.macAlgs
	case usageAgree:
		m.KeyAgreementAlgorithms = info.agreeAlgs
	}
	if g := k.mat.group; g != nil {
		m.MultiRegion = true
		cfg := &multiRegionConfig{MultiRegionKeyType: "REPLICA",
			PrimaryKey: &multiRegionKey{Arn: keyARN(g.primaryRegion, k.account, k.id), Region: g.primaryRegion}}
		if g.primaryRegion == k.region {
			cfg.MultiRegionKeyType = "PRIMARY"
		}
		cfg.ReplicaKeys = []multiRegionKey{}
		for _, r := range g.regions {
			if r != g.primaryRegion {
				cfg.ReplicaKeys = append(cfg.ReplicaKeys, multiRegionKey{Arn: keyARN(r, k.account, k.id), Region: r})
			}
		}
		m.MultiRegionConfiguration = cfg
	}
	return m
}

// keyManager is KeyMetadata.KeyManager: AWS for AWS-managed keys.
func keyManager(awsManaged bool) string {
	if awsManaged {
		return "AWS"
	}
	return "CUSTOMER"
}
