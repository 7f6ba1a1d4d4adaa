package emulator

import (
	"crypto/sha256"
	"encoding/base32"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/kmsload/kmsload/quota"
)

type tagsIn []tag

// maxTags is how many tags a key may have.
const maxTags = 50

// validate checks tags as KMS does: duplicate keys and more than 50 tags
// are TagException, as is a key beginning with aws: in any case; a key
// over 128 or a value over 256 characters fails the API's length
// constraint (ValidationException).
func (ts tagsIn) validate() *apiError {
	seen := map[string]bool{}
	for _, t := range ts {
		if seen[t.TagKey] {
			return kerr("TagException", "Duplicate tag keys")
		}
		seen[t.TagKey] = true
	}
	if len(ts) > maxTags {
		return kerr("TagException", "Too many tags")
	}
	for i, t := range ts {
		switch {
		case t.TagKey == "":
			return kerr("ValidationException", "1 validation error detected: Value '' at 'tags.%d.member.tagKey' failed to satisfy constraint: Member must have length greater than or equal to 1", i+1)
		case len(t.TagKey) > 128:
			return kerr("ValidationException", "1 validation error detected: Value '%s' at 'tags.%d.member.tagKey' failed to satisfy constraint: Member must have length less than or equal to 128", t.TagKey, i+1)
		case len(t.TagValue) > 256:
			return kerr("ValidationException", "1 validation error detected: Value '%s' at 'tags.%d.member.tagValue' failed to satisfy constraint: Member must have length less than or equal to 256", t.TagValue, i+1)
		case strings.HasPrefix(strings.ToLower(t.TagKey), "aws:"):
			return kerr("TagException", "Tags beginning with aws: are reserved")
		}
	}
	return nil
}

// mergeTags sets or replaces tags on k.
func (k *key) mergeTags(ts []tag) {
outer:
	for _, t := range ts {
		for i := range k.tags {
			if k.tags[i].TagKey == t.TagKey {
				k.tags[i].TagValue = t.TagValue
				continue outer
			}
		}
		k.tags = append(k.tags, t)
	}
}

// parseKeyPolicy validates a policy document for CreateKey, PutKeyPolicy and
// ReplicateKey. "" means the default policy.
func parseKeyPolicy(doc string) (*keyPolicy, *apiError) {
	if doc == "" {
		return nil, nil
	}
	if len(doc) > 32768 {
		return nil, errMaxLen("policy", 32768)
	}
	p, err := parsePolicy(doc)
	if err != nil {
		return nil, kerr("MalformedPolicyDocumentException", "%s", strings.TrimPrefix(err.Error(), "emulator: "))
	}
	return p, nil
}

type createKeyIn struct {
	Policy                         string
	Description                    string
	KeyUsage                       string
	CustomerMasterKeySpec          string
	KeySpec                        string
	Origin                         string
	CustomKeyStoreId               string
	BypassPolicyLockoutSafetyCheck bool
	Tags                           tagsIn
	MultiRegion                    bool
	XksKeyId                       string
}

type keyMetadataOut struct {
	KeyMetadata *keyMetadata
}

func opCreateKey(c *call, in *createKeyIn) (any, *apiError) {
	spec := in.KeySpec
	if spec == "" {
		spec = in.CustomerMasterKeySpec
	} else if in.CustomerMasterKeySpec != "" && in.CustomerMasterKeySpec != spec {
		return nil, kerr("ValidationException", "You cannot specify KeySpec and CustomerMasterKeySpec in the same request.")
	}
	if spec == "" {
		spec = specSymmetric
	}
	info, ok := specs[spec]
	if !ok {
		return nil, errEnum("keySpec", spec)
	}
	usage := in.KeyUsage
	if usage == "" {
		usage = usageEncrypt // KMS's default, where the spec allows it
		if !contains(info.usages, usageEncrypt) {
			usage = info.usages[0]
		}
	}
	if !contains(info.usages, usage) {
		if usage != usageEncrypt && usage != usageSign && usage != usageMac && usage != usageAgree {
			return nil, errEnum("keyUsage", usage)
		}
		return nil, kerr("ValidationException", "KeyUsage %s is not compatible with KeySpec %s", usage, spec)
	}
	origin, e := keyOrigin(in, spec)
	if e != nil {
		return nil, e
	}
	if len(in.Description) > 8192 {
		return nil, errMaxLen("description", 8192)
	}
	if e := in.Tags.validate(); e != nil {
		return nil, e
	}
	pol, e := parseKeyPolicy(in.Policy)
	if e != nil {
		return nil, e
	}
	mat, err := newMaterial(spec)
	state := stateEnabled
	if origin == originExternal { // material comes with ImportKeyMaterial
		mat, err, state = &material{spec: spec}, nil, statePendingImport
	}
	if err != nil {
		return nil, errInternal()
	}
	id := randomUUID()
	if in.MultiRegion {
		id = "mrk-" + randomHex(16)
		mat.group = &mrkGroup{primaryRegion: c.region, regions: []string{c.region}}
	}
	k := &key{
		id: id, account: c.account, region: c.region, arn: keyARN(c.region, c.account, id),
		spec: spec, usage: usage, origin: origin, description: in.Description,
		created: c.now, state: state, mat: mat, policy: in.Policy, pol: pol,
		customKeyStore: in.CustomKeyStoreId, xksKeyID: in.XksKeyId,
	}
	k.mergeTags(in.Tags)
	c.lock(exclusive)
	defer c.unlock(exclusive)
	c.s.st.keys[keyLoc{k.account, k.region, k.id}] = k
	return keyMetadataOut{k.metadata(c.now)}, nil
}

// Origins of keys in custom key stores: the names of the store types the
// quota model weighs requests by.
const (
	originCloudHSM = quota.StoreCloudHSM
	originXKS      = quota.StoreExternal
)

// keyOrigin checks CreateKey's Origin, CustomKeyStoreId and XksKeyId
// against each other and spec and returns the key's origin.
func keyOrigin(in *createKeyIn, spec string) (string, *apiError) {
	origin := in.Origin
	switch origin {
	case "", "AWS_KMS":
		origin = "AWS_KMS"
	case originCloudHSM, originXKS:
		if in.CustomKeyStoreId == "" {
			return "", kerr("ValidationException", "Origin %s requires a CustomKeyStoreId", origin)
		}
	case originExternal:
		if in.CustomKeyStoreId != "" {
			return "", kerr("UnsupportedOperationException", "a key with imported key material cannot be in a custom key store")
		}
	default:
		return "", errEnum("origin", origin)
	}
	switch {
	case origin == originXKS && in.XksKeyId == "":
		return "", kerr("ValidationException", "XksKeyId is required for a KMS key with Origin EXTERNAL_KEY_STORE")
	case origin != originXKS && in.XksKeyId != "":
		return "", kerr("ValidationException", "XksKeyId is valid only for a KMS key with Origin EXTERNAL_KEY_STORE")
	case len(in.XksKeyId) > 128:
		return "", errMaxLen("xksKeyId", 128)
	case in.XksKeyId != "" && !xksKeyIDRE.MatchString(in.XksKeyId):
		return "", kerr("ValidationException", "1 validation error detected: Value '%s' at 'xksKeyId' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9-_.]+$", in.XksKeyId)
	}
	if in.CustomKeyStoreId == "" {
		return origin, nil
	}
	if spec != specSymmetric {
		return "", kerr("UnsupportedOperationException", "custom key stores support only SYMMETRIC_DEFAULT keys")
	}
	if in.MultiRegion {
		return "", kerr("UnsupportedOperationException", "multi-Region keys cannot be created in a custom key store")
	}
	if origin == "AWS_KMS" {
		origin = originCloudHSM
	}
	return origin, nil
}

// xksKeyIDRE is the pattern of an external key id (XksKeyId).
var xksKeyIDRE = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)

// clusterOf is the CloudHSM cluster id the emulator gives custom key
// store store: it keeps no clusters, so the id stands in, the same for
// every key of the store.
func clusterOf(store string) string {
	sum := sha256.Sum256([]byte(store))
	return "cluster-" + strings.ToLower(base32.StdEncoding.EncodeToString(sum[:]))[:11]
}

func opDescribeKey(c *call, in *keyIDIn, k *key) (any, *apiError) {
	return keyMetadataOut{k.metadata(c.now)}, nil
}

type listKeysIn struct {
	Limit  *int
	Marker string
}

type listKeysEntry struct {
	KeyId  string
	KeyArn string
}

type listKeysOut struct {
	Keys []listKeysEntry
	pageOut
}

func opListKeys(c *call, in *listKeysIn) (any, *apiError) {
	keys, p, e := page(c.s.st.keysOf(c.account, c.region, c.now), in.Limit, in.Marker)
	if e != nil {
		return nil, e
	}
	out := listKeysOut{Keys: make([]listKeysEntry, 0, len(keys)), pageOut: p}
	for _, k := range keys {
		out.Keys = append(out.Keys, listKeysEntry{KeyId: k.id, KeyArn: k.arn})
	}
	return out, nil
}

type updateDescriptionIn struct {
	KeyId       string
	Description *string
}

func opUpdateKeyDescription(c *call, in *updateDescriptionIn, k *key) (any, *apiError) {
	if in.Description == nil {
		return nil, errNull("description")
	}
	if len(*in.Description) > 8192 {
		return nil, errMaxLen("description", 8192)
	}
	if e := k.notPending(); e != nil {
		return nil, e
	}
	k.description = *in.Description
	return nil, nil
}

type replicateKeyIn struct {
	KeyId                          string
	ReplicaRegion                  string
	Policy                         string
	Description                    *string
	Tags                           tagsIn
	BypassPolicyLockoutSafetyCheck bool
}

type replicateKeyOut struct {
	ReplicaKeyMetadata *keyMetadata
	ReplicaPolicy      string
	ReplicaTags        []tag
}

func opReplicateKey(c *call, in *replicateKeyIn, k *key) (any, *apiError) {
	if in.ReplicaRegion == "" {
		return nil, errNull("replicaRegion")
	}
	if k.mat.group == nil {
		return nil, kerr("UnsupportedOperationException", "%s is not a multi-Region key", k.arn)
	}
	if k.mat.group.primaryRegion != k.region {
		return nil, kerr("UnsupportedOperationException", "%s is not a multi-region primary key.", k.arn)
	}
	if in.ReplicaRegion == k.region {
		return nil, kerr("ValidationException", "The replica Region must differ from the primary key's Region")
	}
	if e := k.notPending(); e != nil {
		return nil, e
	}
	loc := keyLoc{k.account, in.ReplicaRegion, k.id}
	if c.s.st.keys[loc] != nil {
		return nil, kerr("AlreadyExistsException", "Replica key %s already exists", keyARN(in.ReplicaRegion, k.account, k.id))
	}
	if e := in.Tags.validate(); e != nil {
		return nil, e
	}
	pol, e := parseKeyPolicy(in.Policy)
	if e != nil {
		return nil, e
	}
	var desc string // not a shared property: empty unless given
	if in.Description != nil {
		desc = *in.Description
	}
	r := &key{
		id: k.id, account: k.account, region: in.ReplicaRegion, arn: keyARN(in.ReplicaRegion, k.account, k.id),
		spec: k.spec, usage: k.usage, origin: k.origin, description: desc,
		created: c.now, state: stateEnabled, mat: k.mat, policy: in.Policy, pol: pol,
	}
	if r.origin == originExternal { // the replica imports its primary's material
		r.state = statePendingImport
		r.syncMaterials()
	}
	r.mergeTags(in.Tags)
	k.mat.group.regions = append(k.mat.group.regions, in.ReplicaRegion)
	c.s.st.keys[loc] = r
	policy := r.policy
	if policy == "" {
		policy = defaultKeyPolicy(r.account)
	}
	// AWS answers while the replica is still being made (Creating); here
	// it is ready at once, as if replication took no time.
	md := r.metadata(c.now)
	md.KeyState, md.Enabled, md.CurrentKeyMaterialId = "Creating", false, ""
	return replicateKeyOut{ReplicaKeyMetadata: md, ReplicaPolicy: policy, ReplicaTags: append([]tag{}, r.tags...)}, nil
}

// Lifecycle.

func opEnableKey(c *call, in *keyIDIn, k *key) (any, *apiError) {
	return setKeyState(k, stateEnabled)
}

func opDisableKey(c *call, in *keyIDIn, k *key) (any, *apiError) {
	return setKeyState(k, stateDisabled)
}

// setKeyState enables or disables k (EnableKey, DisableKey); a key pending
// deletion or waiting for imported material stays as it is.
func setKeyState(k *key, state string) (any, *apiError) {
	if e := k.notPending(); e != nil {
		return nil, e
	}
	if k.state == statePendingImport {
		return nil, kerr("KMSInvalidStateException", "%s is pending import.", k.arn)
	}
	k.state = state
	return nil, nil
}

type scheduleDeletionIn struct {
	KeyId               string
	PendingWindowInDays *int
}

type scheduleDeletionOut struct {
	KeyId               string
	DeletionDate        epoch
	KeyState            string
	PendingWindowInDays int
}

func opScheduleKeyDeletion(c *call, in *scheduleDeletionIn, k *key) (any, *apiError) {
	days, e := optInt(in.PendingWindowInDays, 30, "pendingWindowInDays", 7, 30)
	if e != nil {
		return nil, e
	}
	if e := k.notPending(); e != nil {
		return nil, e
	}
	k.state = statePendingDeletion
	k.pendingDays = days
	k.deletionDate = c.now.Add(time.Duration(days) * 24 * time.Hour)
	return scheduleDeletionOut{KeyId: k.arn, DeletionDate: epoch(k.deletionDate), KeyState: k.state, PendingWindowInDays: days}, nil
}

type keyIDOut struct {
	KeyId string
}

func opCancelKeyDeletion(c *call, in *keyIDIn, k *key) (any, *apiError) {
	if k.state != statePendingDeletion {
		return nil, kerr("KMSInvalidStateException", "%s is not pending deletion.", k.arn)
	}
	k.state = stateDisabled
	k.deletionDate = time.Time{}
	k.pendingDays = 0
	return keyIDOut{KeyId: k.arn}, nil
}

// maxOnDemandRotations is how often one key can be rotated on demand
// (RotateKeyOnDemand's reference).
const maxOnDemandRotations = 25

// rotatable rejects rotation on keys KMS cannot rotate (at now). Keys of
// imported material rotate on demand only (onDemand), to material
// imported for it.
func (k *key) rotatable(now time.Time, onDemand bool) *apiError {
	if k.spec != specSymmetric || k.customKeyStore != "" {
		return kerr("UnsupportedOperationException", "%s does not support key rotation", k.arn)
	}
	if k.origin == originExternal && !onDemand {
		return kerr("UnsupportedOperationException", "%s origin is %s which is not valid for this operation.", k.arn, k.origin)
	}
	if k.isReplica() {
		return kerr("UnsupportedOperationException", "%s is a multi-Region replica; rotate its primary key", k.arn)
	}
	return k.usable(now)
}

type enableRotationIn struct {
	KeyId                string
	RotationPeriodInDays *int
}

func opEnableKeyRotation(c *call, in *enableRotationIn, k *key) (any, *apiError) {
	days, e := optInt(in.RotationPeriodInDays, 365, "rotationPeriodInDays", 90, 2560)
	if e != nil {
		return nil, e
	}
	if e := k.rotatable(c.now, false); e != nil {
		return nil, e
	}
	k.rotation = true
	k.rotationDays = days
	k.nextRotation = c.now.Add(time.Duration(days) * 24 * time.Hour)
	return nil, nil
}

func opDisableKeyRotation(c *call, in *keyIDIn, k *key) (any, *apiError) {
	if e := k.rotatable(c.now, false); e != nil {
		return nil, e
	}
	k.rotation = false
	k.rotationDays = 0
	k.nextRotation = time.Time{}
	return nil, nil
}

type rotationStatusOut struct {
	KeyRotationEnabled        bool
	KeyId                     string
	RotationPeriodInDays      int    `json:",omitempty"`
	NextRotationDate          *epoch `json:",omitempty"`
	OnDemandRotationStartDate *epoch `json:",omitempty"`
}

func opGetKeyRotationStatus(c *call, in *keyIDIn, k *key) (any, *apiError) {
	if e := k.notPending(); e != nil {
		return nil, e
	}
	out := rotationStatusOut{KeyRotationEnabled: k.rotation, KeyId: k.arn}
	if k.rotation {
		out.RotationPeriodInDays = k.rotationDays
		out.NextRotationDate = epochPtr(k.nextRotation)
	}
	out.OnDemandRotationStartDate = epochPtr(k.onDemandRotation)
	return out, nil
}

func opRotateKeyOnDemand(c *call, in *keyIDIn, k *key) (any, *apiError) {
	if e := k.rotatable(c.now, true); e != nil {
		return nil, e
	}
	if k.mat.onDemandRotations() >= maxOnDemandRotations {
		return nil, kerr("LimitExceededException", "The on-demand rotations limit has been reached for the given keyId. No more on-demand rotations can be performed for this key: %s", k.arn)
	}
	if k.origin == originExternal {
		if e := c.rotateImported(k); e != nil {
			return nil, e
		}
	} else if err := k.mat.rotate(c.now, rotationOnDemand); err != nil {
		return nil, errInternal()
	}
	k.onDemandRotation = c.now
	return keyIDOut{KeyId: k.arn}, nil
}

// rotateImported makes the material pending rotation k's current one, in
// every Region of its group; each must have imported it.
func (c *call) rotateImported(k *key) *apiError {
	m, next := k.mat, k.importState().next
	if next == nil || !next.imported() || m.next == nil {
		return kerr("KMSInvalidStateException", "No available key material pending rotation for the key: %s.", k.arn)
	}
	if c.nextState(k) != materialPendingRotation {
		return kerr("KMSInvalidStateException", "Key material %s pending rotation of %s is not yet imported into every replica key.", next.id, k.arn)
	}
	if err := m.addVersion(m.next); err != nil {
		return errInternal()
	}
	m.versions[len(m.versions)-1] = materialVersion{ID: m.nextID, At: c.now, Kind: rotationOnDemand}
	for _, kk := range c.group(k) {
		kk.syncMaterials()
		kk.imp.mats[len(kk.imp.mats)-1] = *kk.imp.next
		kk.imp.next = nil
	}
	m.next, m.nextID = nil, ""
	return nil
}

// Tags.

type tagResourceIn struct {
	KeyId string
	Tags  tagsIn
}

func opTagResource(c *call, in *tagResourceIn, k *key) (any, *apiError) {
	if in.Tags == nil {
		return nil, errNull("tags")
	}
	if e := in.Tags.validate(); e != nil {
		return nil, e
	}
	if e := k.notPending(); e != nil {
		return nil, e
	}
	before := k.tags
	k.tags = slices.Clone(k.tags)
	k.mergeTags(in.Tags)
	if len(k.tags) > maxTags {
		k.tags = before // a refused request changes nothing
		return nil, kerr("TagException", "Too many tags")
	}
	return nil, nil
}

type untagResourceIn struct {
	KeyId   string
	TagKeys []string
}

func opUntagResource(c *call, in *untagResourceIn, k *key) (any, *apiError) {
	if in.TagKeys == nil {
		return nil, errNull("tagKeys")
	}
	if e := k.notPending(); e != nil {
		return nil, e
	}
	kept := k.tags[:0]
	for _, t := range k.tags {
		if !contains(in.TagKeys, t.TagKey) {
			kept = append(kept, t)
		}
	}
	k.tags = kept
	return nil, nil
}

type listTagsIn struct {
	KeyId  string
	Limit  *int
	Marker string
}

type listTagsOut struct {
	Tags []tag
	pageOut
}

func opListResourceTags(c *call, in *listTagsIn, k *key) (any, *apiError) {
	tags, p, e := page(k.tags, in.Limit, in.Marker)
	if e != nil {
		return nil, e
	}
	return listTagsOut{Tags: tags, pageOut: p}, nil
}

// Key policies.

type getPolicyIn struct {
	KeyId      string
	PolicyName string
}

type getPolicyOut struct {
	Policy     string
	PolicyName string
}

func checkPolicyName(name string) *apiError {
	if name != "" && name != "default" {
		return kerr("NotFoundException", "Policy %s does not exist. The only valid policy name is default.", name)
	}
	return nil
}

func opGetKeyPolicy(c *call, in *getPolicyIn, k *key) (any, *apiError) {
	if e := checkPolicyName(in.PolicyName); e != nil {
		return nil, e
	}
	p := k.policy
	if p == "" {
		p = defaultKeyPolicy(k.account)
	}
	return getPolicyOut{Policy: p, PolicyName: "default"}, nil
}

type putPolicyIn struct {
	KeyId                          string
	PolicyName                     string
	Policy                         string
	BypassPolicyLockoutSafetyCheck bool
}

func opPutKeyPolicy(c *call, in *putPolicyIn, k *key) (any, *apiError) {
	if e := checkPolicyName(in.PolicyName); e != nil {
		return nil, e
	}
	if in.Policy == "" {
		return nil, errNull("policy")
	}
	pol, e := parseKeyPolicy(in.Policy)
	if e != nil {
		return nil, e
	}
	if e := k.notPending(); e != nil {
		return nil, e
	}
	k.policy, k.pol = in.Policy, pol
	return nil, nil
}

type listPoliciesOut struct {
	PolicyNames []string
	Truncated   bool
}

func opListKeyPolicies(c *call, in *keyIDIn, k *key) (any, *apiError) {
	return listPoliciesOut{PolicyNames: []string{"default"}}, nil
}
