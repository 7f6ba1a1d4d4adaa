package importer

import (
	"maps"
	"slices"
	"strings"

	"github.com/kmsload/kmsload/scenario"
	"github.com/kmsload/kmsload/trail"
)

// keyInfo is what the calls tell of one key (by ARN).
type keyInfo struct {
	arn   scenario.KeyARN
	calls int64
	specs map[string]int64 // key spec the calls' algorithms point to -> calls
	usage map[string]int64 // key usage the calls' operations point to -> calls
}

// noteKey records a call on key arn: its spec hint, and the reference
// the caller named it by, so that calls naming the key only by that
// reference (throttled calls often have no resources) find it.
func (im *Importer) noteKey(arn string, e trail.Event) {
	k := im.keys[arn]
	if k == nil {
		a, err := scenario.ParseKeyARN(arn)
		if err != nil {
			return
		}
		k = &keyInfo{arn: a, specs: map[string]int64{}, usage: map[string]int64{}}
		im.keys[arn] = k
	}
	k.calls++
	if spec := specHint(e); spec != "" {
		k.specs[spec]++
	}
	switch e.Name {
	case scenario.OpSign, scenario.OpVerify:
		k.usage[scenario.UsageSignVerify]++
	case scenario.OpGenerateMac, scenario.OpVerifyMac:
		k.usage[scenario.UsageGenerateVerifyMac]++
	case scenario.OpEncrypt, scenario.OpDecrypt, scenario.OpReEncrypt:
		k.usage[scenario.UsageEncryptDecrypt]++
	}
	if ref := keyRef(e, e.Name); ref != "" && ref != "ref:"+arn {
		im.refs[refKey{e.CallerAccount(), e.Region, ref}] = arn
	}
}

// specHint is the key spec a call's algorithm points to, "" when it says
// nothing beyond the default (SYMMETRIC_DEFAULT).
func specHint(e trail.Event) string {
	p := e.Params
	if p == nil {
		return ""
	}
	switch a := p.MacAlgorithm; {
	case strings.HasPrefix(a, "HMAC_SHA_"):
		return "HMAC_" + strings.TrimPrefix(a, "HMAC_SHA_")
	}
	switch a := p.SigningAlgorithm; {
	case strings.HasPrefix(a, "RSASSA_"):
		return "RSA_2048"
	case a == "ECDSA_SHA_256":
		return "ECC_NIST_P256"
	case a == "ECDSA_SHA_384":
		return "ECC_NIST_P384"
	case a == "ECDSA_SHA_512":
		return "ECC_NIST_P521"
	case a == "SM2DSA":
		return "SM2"
	}
	switch a := p.EncryptionAlgorithm; {
	case strings.HasPrefix(a, "RSAES_"):
		return "RSA_2048"
	case a == "SM2PKE":
		return "SM2"
	}
	return ""
}

// spec is the key's spec and usage: the spec most of its calls'
// algorithms point to (else SYMMETRIC_DEFAULT), and of the usages that
// spec allows, the one most of its calls need (else the spec's default).
func (k *keyInfo) spec() (spec, usage string) {
	spec = mostCalls(k.specs, scenario.SpecSymmetricDefault)
	allowed := map[string]int64{}
	for u, n := range k.usage {
		if ok, _ := scenario.CanPerform(spec, u, usageOp[u]); ok {
			allowed[u] = n
		}
	}
	return spec, mostCalls(allowed, scenario.DefaultUsage(spec))
}

// usageOp is an operation that needs each usage.
var usageOp = map[string]string{
	scenario.UsageSignVerify:        scenario.OpSign,
	scenario.UsageGenerateVerifyMac: scenario.OpGenerateMac,
	scenario.UsageEncryptDecrypt:    scenario.OpEncrypt,
}

// mostCalls is the name with the most calls in m (the first by name on
// a tie), def when m is empty.
func mostCalls(m map[string]int64, def string) string {
	best, n := def, int64(0)
	for _, s := range slices.Sorted(maps.Keys(m)) {
		if m[s] > n {
			best, n = s, m[s]
		}
	}
	return best
}

// resolve gives every group whose key was named only by reference the
// key's ARN, and every group with no key that needs one the key its
// caller used most for the operation in the Region, merging groups that
// become one. It returns the groups in a fixed order.
func (im *Importer) resolve() []*group {
	merged := map[groupKey]*group{}
	var pending []*group
	for _, g := range im.dedupe() {
		switch {
		case strings.HasPrefix(g.key, "ref:"):
			if arn, ok := im.refs[refKey{g.account, g.region, g.key}]; ok {
				g.key = arn
			} else if strings.HasPrefix(g.key, "ref:arn:") && strings.Contains(g.key, ":key/") {
				g.key = strings.TrimPrefix(g.key, "ref:")
			} else {
				pending = append(pending, g)
				continue
			}
		case g.key == "" && scenario.KeyRequired(g.op):
			pending = append(pending, g)
			continue
		}
		mergeInto(merged, g)
	}
	for _, g := range pending {
		if !g.usage {
			im.sum.UnresolvedKey += g.total + g.totalThrottled
		}
		g.key = im.likelyKey(merged, g)
		mergeInto(merged, g)
	}
	return sortedGroups(merged)
}

// dedupe drops the key owners' copies of cross-account calls whose
// callers' trails are in the input too (counting them as Duplicates), and
// keeps them as the calls where they are not.
func (im *Importer) dedupe() []*group {
	var out []*group
	for _, g := range sortedGroups(im.groups) {
		if !g.ownerCopy {
			out = append(out, g)
			continue
		}
		caller := g.groupKey
		caller.ownerCopy = false
		if c := im.groups[caller]; c != nil && c.total+c.totalThrottled > 0 {
			im.sum.Duplicates += g.total + g.totalThrottled
			continue
		}
		g.ownerCopy = false
		out = append(out, g)
	}
	return out
}

// likelyKey is the key of the busiest resolved group with g's caller,
// principal, operation and Region, else any key that caller used in the
// Region, else "" (the writer gives the caller a stand-in key).
func (im *Importer) likelyKey(resolved map[groupKey]*group, g *group) string {
	groups := sortedGroups(resolved)
	pick := func(match func(o *group) bool) string {
		var best *group
		for _, o := range groups {
			if o.key != "" && o.account == g.account && o.region == g.region && match(o) && (best == nil || o.total > best.total) {
				best = o
			}
		}
		if best == nil {
			return ""
		}
		return best.key
	}
	if k := pick(func(o *group) bool { return o.principal == g.principal && o.op == g.op }); k != "" {
		return k
	}
	return pick(func(*group) bool { return true })
}

// mergeInto adds g to m, merging it with the group of the same key.
func mergeInto(m map[groupKey]*group, g *group) {
	o := m[g.groupKey]
	if o == nil {
		m[g.groupKey] = g
		return
	}
	o.calls.merge(g.calls)
	o.throttled.merge(g.throttled)
	o.total += g.total
	o.totalThrottled += g.totalThrottled
	for c, n := range g.errors {
		o.errors[c] += n
	}
	if o.context == nil {
		o.context = g.context
	}
}

// sortedGroups lists m's groups by caller, principal, operation, key and
// Region.
func sortedGroups(m map[groupKey]*group) []*group {
	out := slices.Collect(maps.Values(m))
	slices.SortFunc(out, func(a, b *group) int {
		return strings.Compare(a.sortKey(), b.sortKey())
	})
	return out
}

func (g *group) sortKey() string {
	own := ""
	if g.ownerCopy {
		own = "owner"
	}
	return strings.Join([]string{g.account, g.principal, g.via, g.op, g.pairSpec, g.key, g.region, own}, "\x00")
}
