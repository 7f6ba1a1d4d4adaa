package emulator

import (
	"sort"
	"strings"
)

// validAliasName checks an alias name as KMS does.
func validAliasName(name string) *apiError {
	if name == "" {
		return errNull("aliasName")
	}
	if len(name) > 256 {
		return errMaxLen("aliasName", 256)
	}
	if !strings.HasPrefix(name, "alias/") || len(name) == len("alias/") {
		return kerr("ValidationException", "Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html")
	}
	for _, r := range name[len("alias/"):] {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '/' || r == '_' || r == '-') {
			return kerr("ValidationException", "1 validation error detected: Value '%s' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$", name)
		}
	}
	return nil
}

// aliasTarget resolves TargetKeyId for CreateAlias and UpdateAlias (the
// action): a key id or key ARN in the caller's account, never an alias,
// that the caller may point action at.
func (c *call) aliasTarget(ref, action string) (*key, *apiError) {
	if ref == "" {
		return nil, errNull("targetKeyId")
	}
	if strings.HasPrefix(ref, "alias/") || strings.Contains(ref, ":alias/") {
		return nil, kerr("ValidationException", "Aliases must refer to keys. Not aliases")
	}
	k, e := c.resolve(ref, "targetKeyId")
	if e != nil {
		return nil, e
	}
	if k.account != c.account {
		return nil, errKeyNotFound(ref)
	}
	if e := k.notPending(); e != nil {
		return nil, e
	}
	if e := c.authorize(k, action); e != nil {
		return nil, e
	}
	return k, nil
}

// customerAlias checks that name is a valid alias name a caller may
// change (verb: create, update, delete): aliases under alias/aws/ belong
// to AWS-managed keys.
func customerAlias(name, verb string) *apiError {
	if e := validAliasName(name); e != nil {
		return e
	}
	if strings.HasPrefix(name, "alias/aws/") {
		return kerr("NotAuthorizedException", "Cannot %s alias with prefix 'alias/aws/'", verb)
	}
	return nil
}

type aliasIn struct {
	AliasName   string
	TargetKeyId string
}

func opCreateAlias(c *call, in *aliasIn) (any, *apiError) {
	if e := customerAlias(in.AliasName, "create"); e != nil {
		return nil, e
	}
	c.lock(exclusive)
	defer c.unlock(exclusive)
	s := c.s
	k, e := c.aliasTarget(in.TargetKeyId, "CreateAlias")
	if e != nil {
		return nil, e
	}
	loc := aliasLoc{c.account, c.region, in.AliasName}
	if s.st.aliases[loc] != nil {
		return nil, kerr("AlreadyExistsException", "An alias with the name %s already exists", aliasARN(c.region, c.account, in.AliasName))
	}
	s.st.aliases[loc] = &alias{name: in.AliasName, keyID: k.id, created: c.now, updated: c.now}
	return nil, nil
}

func opUpdateAlias(c *call, in *aliasIn) (any, *apiError) {
	if e := customerAlias(in.AliasName, "update"); e != nil {
		return nil, e
	}
	c.lock(exclusive)
	defer c.unlock(exclusive)
	s := c.s
	a := s.st.aliases[aliasLoc{c.account, c.region, in.AliasName}]
	if a == nil {
		return nil, errAliasNotFound(aliasARN(c.region, c.account, in.AliasName))
	}
	k, e := c.aliasTarget(in.TargetKeyId, "UpdateAlias")
	if e != nil {
		return nil, e
	}
	if old := s.st.keys[keyLoc{c.account, c.region, a.keyID}]; old != nil && (old.spec != k.spec || old.usage != k.usage) {
		return nil, kerr("ValidationException", "Alias %s cannot be changed from a key of type %s/%s to a key of type %s/%s", in.AliasName, old.spec, old.usage, k.spec, k.usage)
	}
	a.keyID = k.id
	a.updated = c.now
	return nil, nil
}

type deleteAliasIn struct {
	AliasName string
}

func opDeleteAlias(c *call, in *deleteAliasIn) (any, *apiError) {
	if e := customerAlias(in.AliasName, "delete"); e != nil {
		return nil, e
	}
	c.lock(exclusive)
	defer c.unlock(exclusive)
	s := c.s
	loc := aliasLoc{c.account, c.region, in.AliasName}
	if s.st.aliases[loc] == nil {
		return nil, errAliasNotFound(aliasARN(c.region, c.account, in.AliasName))
	}
	delete(s.st.aliases, loc)
	return nil, nil
}

type listAliasesIn struct {
	KeyId  string
	Limit  *int
	Marker string
}

type aliasEntry struct {
	AliasName       string
	AliasArn        string
	TargetKeyId     string `json:",omitempty"`
	CreationDate    epoch
	LastUpdatedDate epoch
}

type listAliasesOut struct {
	Aliases []aliasEntry
	pageOut
}

func opListAliases(c *call, in *listAliasesIn) (any, *apiError) {
	// Limit is checked before KeyId.
	if _, e := listLimit(in.Limit); e != nil {
		return nil, e
	}
	filter := ""
	if in.KeyId != "" {
		k, e := c.resolve(in.KeyId, "keyId")
		if e != nil {
			return nil, e
		}
		if k.account != c.account {
			return nil, errKeyNotFound(in.KeyId)
		}
		filter = k.id
	}
	s := c.s
	var all []aliasEntry
	for loc, a := range s.st.aliases {
		if loc.account != c.account || loc.region != c.region {
			continue
		}
		if filter != "" && a.keyID != filter {
			continue
		}
		if s.st.lookup(keyLoc{c.account, c.region, a.keyID}, c.now) == nil {
			continue
		}
		all = append(all, aliasEntry{AliasName: a.name, AliasArn: aliasARN(c.region, c.account, a.name), TargetKeyId: a.keyID, CreationDate: epoch(a.created), LastUpdatedDate: epoch(a.updated)})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].AliasName < all[j].AliasName })
	aliases, p, e := page(all, in.Limit, in.Marker)
	if e != nil {
		return nil, e
	}
	return listAliasesOut{Aliases: aliases, pageOut: p}, nil
}
