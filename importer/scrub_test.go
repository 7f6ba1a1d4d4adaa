package importer_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kmsload/kmsload/importer"
)

// identities are every identity the generated trail records: role and
// session names, principal and access key ids, source IPs, encryption
// context keys and values.
var identities = []string{
	"orders-api", "ingest", "payments", "signer", "license-check", "reporting", "platform-admin",
	"AROAEXAMPLE", "ASIAEXAMPLE", "assumed-role", "10.0.", "Department",
	"ingest-bucket", "object-", "arn:aws:sts", "arn:aws:iam", "upload",
}

// files is the text an import writes.
func files(t *testing.T, res *importer.Result) string {
	t.Helper()
	var trace bytes.Buffer
	if _, err := res.Trace.WriteTo(&trace); err != nil {
		t.Fatal(err)
	}
	return string(res.Scenario) + trace.String()
}

// TestScrub: no identity survives an import by default; the same scrub
// key gives the same pseudonyms, another key others; --keep-identities
// keeps them.
func TestScrub(t *testing.T) {
	dir, _ := shared(t)
	scrubbed, _ := importDir(t, dir, importer.Options{})
	text := files(t, scrubbed)
	for _, id := range identities {
		if strings.Contains(text, id) {
			i := strings.Index(text, id)
			t.Errorf("the scrubbed files hold %q: ...%s...", id, text[max(i-60, 0):min(i+60, len(text))])
		}
	}
	a, _ := importDir(t, dir, importer.Options{ScrubKey: []byte("k1")})
	b, _ := importDir(t, dir, importer.Options{ScrubKey: []byte("k1")})
	c, _ := importDir(t, dir, importer.Options{ScrubKey: []byte("k2")})
	if !bytes.Equal(a.Scenario, b.Scenario) {
		t.Error("two imports with one scrub key differ")
	}
	if bytes.Equal(a.Scenario, c.Scenario) || bytes.Equal(a.Scenario, scrubbed.Scenario) {
		t.Error("imports with other scrub keys give the same pseudonyms")
	}
	kept, _ := importDir(t, dir, importer.Options{KeepIdentities: true})
	for _, id := range []string{"role-orders-api", `"Department": "payments"`} {
		if !strings.Contains(string(kept.Scenario), id) {
			t.Errorf("--keep-identities lost %q", id)
		}
	}
}
