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

// aliasTarget resolves TargetKeyId for CreateAlias and UpdateAlias: a key
// id or key ARN in the caller's account, never an alias.
func (c *call) aliasTarget(ref string) (*key, *apiError) {
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

func opCreateAlias(c *call) (any, *apiError) {
	var in aliasIn
	if e := decodeBody(c.body, &in); e != nil {
		return nil, e
	}
	if e := customerAlias(in.AliasName, "create"); e != nil {
		return nil, e
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.sweep(c.now)
	k, e := c.aliasTarget(in.TargetKeyId)
	if e != nil {
		return nil, e
	}
	if e := c.authorize(k, "CreateAlias"); e != nil {
		return nil, e
	}
	loc := aliasLoc{c.account, c.region, in.AliasName}
	if s.st.aliases[loc] != nil {
		return nil, kerr("AlreadyExistsException", "An alias with the name %s already exists", aliasARN(c.region, c.account, in.AliasName))
	}
	s.st.aliases[loc] = &alias{name: in.AliasName, keyID: k.id, created: c.now, updated: c.now}
	return nil, nil
}

func opUpdateAlias(c *call) (any, *apiError) {
	var in aliasIn
	if e := decodeBody(c.body, &in); e != nil {
		return nil, e
	}
	if e := customerAlias(in.AliasName, "update"); e != nil {
		return nil, e
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.sweep(c.now)
	a := s.st.aliases[aliasLoc{c.account, c.region, in.AliasName}]
	if a == nil {
		return nil, errAliasNotFound(aliasARN(c.region, c.account, in.AliasName))
	}
	k, e := c.aliasTarget(in.TargetKeyId)
	if e != nil {
		return nil, e
	}
	if e := c.authorize(k, "UpdateAlias"); e != nil {
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

func opDeleteAlias(c *call) (any, *apiError) {
	var in deleteAliasIn
	if e := decodeBody(c.body, &in); e != nil {
		return nil, e
	}
	if e := customerAlias(in.AliasName, "delete"); e != nil {
		return nil, e
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.sweep(c.now)
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
	Aliases    []aliasEntry
	NextMarker string `json:",omitempty"`
	Truncated  bool
}

func opListAliases(c *call) (any, *apiError) {
	var in listAliasesIn
	if e := decodeBody(c.body, &in); e != nil {
		return nil, e
	}
	limit, e := listIn{Limit: in.Limit}.limit()
	if e != nil {
		return nil, e
	}
	s := c.s
	s.mu.RLock()
	filter := ""
	if in.KeyId != "" {
		k, e := c.resolve(in.KeyId, "keyId")
		if e != nil {
			s.mu.RUnlock()
			return nil, e
		}
		if k.account != c.account {
			s.mu.RUnlock()
			return nil, errKeyNotFound(in.KeyId)
		}
		filter = k.id
	}
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
	s.mu.RUnlock()
	sort.Slice(all, func(i, j int) bool { return all[i].AliasName < all[j].AliasName })
	start, end, next, e := page(len(all), in.Marker, limit)
	if e != nil {
		return nil, e
	}
	return listAliasesOut{Aliases: append([]aliasEntry{}, all[start:end]...), NextMarker: next, Truncated: next != ""}, nil
}
