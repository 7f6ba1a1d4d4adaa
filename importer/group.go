package importer

import (
	"cmp"
	"strings"

	"github.com/kmsload/kmsload/scenario"
	"github.com/kmsload/kmsload/trail"
)

// groupKey tells workloads apart. key is the key's ARN or, when the
// record named the key only by id or alias, that reference (resolved
// once every event is read).
type groupKey struct {
	account   string // caller account
	principal string // "kind/name", or the service, or "" (GroupAccount)
	via       string // the AWS service acting for the caller ("" = none)
	op        string
	pairSpec  string
	region    string
	key       string // key ARN, "ref:<keyId as called>" or ""
	// ownerCopy: the copies of cross-account calls delivered to the key
	// owner's trail, kept apart and counted only when the caller's trail
	// holds none of the group's calls (Importer.dedupe).
	ownerCopy bool
}

// group is one workload's calls as recorded.
type group struct {
	groupKey
	calls          counts // served, or failed other than by throttling
	throttled      counts
	total          int64 // calls
	totalThrottled int64
	errors         map[string]int64
	context        map[string]string // the first call's encryption context
	usage          bool              // from usage metrics, which name no key
}

// hourSteps is the length of one chunk of counts.
const hourSteps = 3600

// counts are calls per second, kept in chunks of an hour by Unix hour,
// so that out-of-order files cost nothing and memory follows the hours
// that have calls.
type counts map[int64]*[hourSteps]uint32

func (c counts) add(sec int64) { c.addN(sec, 1) }

// addN adds n calls in second sec.
func (c counts) addN(sec int64, n uint32) {
	h := floorDiv(sec, hourSteps)
	chunk := c[h]
	if chunk == nil {
		chunk = new([hourSteps]uint32)
		c[h] = chunk
	}
	chunk[sec-h*hourSteps] += n
}

// at is the count of second sec.
func (c counts) at(sec int64) uint32 {
	h := floorDiv(sec, hourSteps)
	if chunk := c[h]; chunk != nil {
		return chunk[sec-h*hourSteps]
	}
	return 0
}

// merge adds o's counts to c.
func (c counts) merge(o counts) {
	for h, chunk := range o {
		mine := c[h]
		if mine == nil {
			mine = new([hourSteps]uint32)
			c[h] = mine
		}
		for i, n := range chunk {
			mine[i] += n
		}
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// group returns e's group, creating it.
func (im *Importer) group(e trail.Event, op, arn string, ownerCopy bool) *group {
	k := groupKey{account: e.CallerAccount(), op: op, region: e.Region, key: arn, ownerCopy: ownerCopy}
	if ki := im.keys[arn]; ki != nil && !strings.HasPrefix(ki.arn.ID, "mrk-") {
		k.region = ki.arn.Region // a single-Region key is called in its own Region (noteKey parsed it)
	}
	if arn == "" {
		k.key = keyRef(e, op)
	}
	if op == scenario.OpGenerateDataKeyPair || op == scenario.OpGenerateDataKeyPairWithoutPlaintext {
		if e.Params != nil {
			k.pairSpec = e.Params.KeyPairSpec
		}
	}
	via := service(e.Identity.InvokedBy)
	switch im.opts.Group {
	case GroupPrincipal:
		k.principal, k.via = principal(e.Identity), via
	case GroupService:
		k.principal, k.via = cmp.Or(via, "direct"), via
	}
	g := im.groups[k]
	if g == nil {
		g = &group{groupKey: k, calls: counts{}, throttled: counts{}, errors: map[string]int64{}}
		if e.Params != nil && len(e.Params.EncryptionContext) > 0 {
			g.context = im.scrub.context(e.Params.EncryptionContext)
		}
		im.groups[k] = g
	}
	return g
}

// keyUsed is the ARN of the key a call is charged to: ReEncrypt's
// destination (its resources name the source first), every other call's
// key; "" when the record does not give an ARN.
func keyUsed(e trail.Event) string {
	if e.Name == scenario.OpReEncrypt {
		var keys []string
		for _, r := range e.Resources {
			if strings.Contains(r.ARN, ":key/") {
				keys = append(keys, r.ARN)
			}
		}
		if len(keys) > 1 {
			return keys[len(keys)-1]
		}
		if e.Params != nil && strings.HasPrefix(e.Params.DestinationKeyID, "arn:") {
			return e.Params.DestinationKeyID
		}
		return ""
	}
	return e.KeyARN()
}

// refKey is a key as a caller named it: in its account and Region.
type refKey struct{ account, region, ref string }

// keyRef is "ref:<keyId>" for a call naming its key only by id or alias,
// "" for a call that names none (GenerateRandom, or a record without
// request parameters).
func keyRef(e trail.Event, op string) string {
	if e.Params == nil {
		return ""
	}
	ref := e.Params.KeyID
	if op == scenario.OpReEncrypt {
		ref = e.Params.DestinationKeyID
	}
	if ref == "" {
		return ""
	}
	return "ref:" + ref
}

// principal names who made a call: "role/NAME" for an assumed role
// (the session name dropped), "user/NAME", "federated/NAME", "root",
// "service/NAME" for an AWS service's own calls.
func principal(id trail.Identity) string {
	arn := id.ARN
	switch {
	case strings.Contains(arn, ":assumed-role/"):
		name := arn[strings.Index(arn, ":assumed-role/")+len(":assumed-role/"):]
		name, _, _ = strings.Cut(name, "/")
		return "role/" + name
	case strings.Contains(arn, ":role/"):
		return "role/" + arn[strings.LastIndex(arn, "/")+1:]
	case strings.Contains(arn, ":user/"):
		return "user/" + arn[strings.LastIndex(arn, "/")+1:]
	case strings.Contains(arn, ":federated-user/"):
		return "federated/" + arn[strings.LastIndex(arn, "/")+1:]
	case id.Type == "Root" || strings.HasSuffix(arn, ":root"):
		return "root"
	case id.Type == "AWSService":
		return "service/" + service(id.InvokedBy)
	case id.UserName != "":
		return "user/" + id.UserName
	}
	return "unknown/" + strings.ToLower(cmp.Or(id.Type, "caller"))
}

// service is the short name of an AWS service principal
// (s3.amazonaws.com -> s3); "" for none.
func service(invokedBy string) string {
	s := strings.TrimSuffix(strings.TrimSuffix(invokedBy, ".amazonaws.com"), ".amazonaws.com.cn")
	if s == "" || strings.ContainsAny(s, " ") {
		return ""
	}
	return strings.ToLower(s)
}
