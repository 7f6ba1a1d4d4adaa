package importer

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kmsload/kmsload/scenario"
)

// account names account id: acct-<last 4 digits>, the whole id when two
// accounts end alike.
func (m *model) account(id string) string {
	if n, ok := m.accounts[id]; ok {
		return n
	}
	name := "acct-" + id[max(len(id)-4, 0):]
	for _, other := range m.accounts {
		if other == name {
			name = "acct-" + id
		}
	}
	m.accounts[id] = name
	return name
}

// nameKeys names the keys the groups use: key-<first 8 characters of the
// id> (key-mrk-<8> for multi-Region keys), more of the id when two keys
// start alike. A multi-Region key called in several Regions is one key:
// its primary in the Region of most calls, replicas in the others.
func (m *model) nameKeys(im *Importer, groups []*group) {
	byID := map[[2]string][]*keyInfo{} // account, id -> the key in each Region
	for _, g := range groups {
		if k := im.keys[g.key]; k != nil && !slices.Contains(byID[[2]string{k.arn.Account, k.arn.ID}], k) {
			byID[[2]string{k.arn.Account, k.arn.ID}] = append(byID[[2]string{k.arn.Account, k.arn.ID}], k)
		}
	}
	ids := slices.SortedFunc(maps.Keys(byID), func(a, b [2]string) int { return strings.Compare(a[0]+a[1], b[0]+b[1]) })
	taken := map[string]bool{}
	for _, id := range ids {
		infos := byID[id]
		slices.SortFunc(infos, func(a, b *keyInfo) int { return int(b.calls - a.calls) })
		primary := infos[0]
		k := &outKey{name: keyName(id[1], taken), account: m.account(id[0]), region: primary.arn.Region,
			arn: primary.arn.ARN, multiRegion: strings.HasPrefix(id[1], "mrk-")}
		k.spec, k.usage = primary.spec()
		for _, r := range infos[1:] {
			k.replicas = append(k.replicas, r.arn.Region)
		}
		slices.Sort(k.replicas)
		m.keys[k.name] = k
		for _, r := range infos {
			m.keyByARN[r.arn.ARN] = k
		}
	}
}

// keyName is the name of the key of id, not among taken.
func keyName(id string, taken map[string]bool) string {
	short := id
	if n := len("mrk-") + 8; strings.HasPrefix(id, "mrk-") && len(id) > n {
		short = id[:n]
	} else if !strings.HasPrefix(id, "mrk-") && len(id) > 8 {
		short = id[:8]
	}
	name := safeName("key-" + short)
	if taken[name] {
		name = safeName("key-" + id)
	}
	taken[name] = true
	return name
}

// standIn is the key of a caller's calls whose key no record named: a
// key of the caller's account in the calls' Region that can serve the
// operation (symmetric; RSA_2048 for Sign and Verify, HMAC_256 for MACs),
// one per account, Region and kind.
func (m *model) standIn(g *group) *outKey {
	spec, usage, kind := scenario.SpecSymmetricDefault, scenario.UsageEncryptDecrypt, ""
	switch g.op {
	case scenario.OpSign, scenario.OpVerify:
		spec, usage, kind = "RSA_2048", scenario.UsageSignVerify, "-rsa"
	case scenario.OpGenerateMac, scenario.OpVerifyMac:
		spec, usage, kind = "HMAC_256", scenario.UsageGenerateVerifyMac, "-hmac"
	}
	name := safeName(fmt.Sprintf("key-unknown-%s-%s%s", m.account(g.account), g.region, kind))
	if k := m.keys[name]; k != nil {
		return k
	}
	k := &outKey{name: name, account: m.account(g.account), region: g.region, spec: spec, usage: usage}
	m.keys[name] = k
	return k
}

// nameWorkloads names each workload after its caller, principal,
// operation and key (and Region, when the scenario has several):
// acct-3333-role-1a2b3c4d5e6f7a8b-decrypt-1234abcd.
func (m *model) nameWorkloads(im *Importer) {
	regions := map[string]int{}
	for _, w := range m.work {
		regions[w.g.region]++
	}
	m.region = busiest(regions)
	taken := map[string]bool{}
	for _, w := range m.work {
		g := w.g
		parts := []string{m.account(g.account)}
		if g.principal != "" {
			w.team = im.scrub.principal(g.account, g.principal)
			parts = append(parts, w.team)
		}
		parts = append(parts, kebab(g.op))
		if g.pairSpec != "" {
			parts = append(parts, strings.ToLower(g.pairSpec))
		}
		if w.key != nil {
			parts = append(parts, strings.TrimPrefix(w.key.name, "key-"))
		}
		if len(regions) > 1 {
			parts = append(parts, g.region)
		}
		name := safeName(strings.Join(parts, "-"))
		for i := 2; taken[name]; i++ {
			name = safeName(fmt.Sprintf("%s-%d", strings.Join(parts, "-"), i))
		}
		taken[name] = true
		w.name = name
	}
}

// busiest is the Region with the most workloads (the first by name on a
// tie).
func busiest(regions map[string]int) string {
	best := ""
	for _, r := range slices.Sorted(maps.Keys(regions)) {
		if best == "" || regions[r] > regions[best] {
			best = r
		}
	}
	return best
}

// kebab writes an operation name in lower case with dashes:
// GenerateDataKey -> generate-data-key.
func kebab(op string) string {
	var b strings.Builder
	for i, r := range op {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('-')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
