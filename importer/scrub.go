package importer

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
)

// scrubber replaces identities by pseudonyms: the first 4 bytes (8 hex
// digits) of an HMAC-SHA-256 of the value under the import's key, so
// the same identity always gets the same pseudonym and a pseudonym
// cannot be turned back without the key.
type scrubber struct {
	key  []byte
	keep bool // --keep-identities: no scrubbing
}

// pseudonym is kind-<8 hex digits> for value.
func (s scrubber) pseudonym(kind, value string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(kind + "\x00" + value))
	return kind + "-" + hex.EncodeToString(m.Sum(nil)[:4])
}

// principal is the workload-name part for principal p ("role/NAME",
// "service/s3", "root", ...): kept for AWS services and the root user,
// which are not personal, and a pseudonym of kind role, user, ... for
// the others.
func (s scrubber) principal(account, p string) string {
	kind, name, named := strings.Cut(p, "/")
	switch {
	case !named || kind == "service" || kind == "unknown":
		return safeName(p)
	case s.keep:
		return safeName(kind + "-" + name)
	}
	return s.pseudonym(kind, account+"/"+name)
}

// context is an encryption context with keys and values pseudonyms
// (kept as recorded with keep).
func (s scrubber) context(ec map[string]string) map[string]string {
	out := make(map[string]string, len(ec))
	for k, v := range ec {
		if s.keep {
			out[k] = v
		} else {
			out[s.pseudonym("ctx", k)] = s.pseudonym("v", v)
		}
	}
	return out
}

var unsafeRE = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// safeName makes s a scenario name: runs of other characters become -,
// and it starts with a letter or digit.
func safeName(s string) string {
	s = strings.Trim(unsafeRE.ReplaceAllString(s, "-"), "-_")
	if s == "" {
		return "x"
	}
	return s
}
