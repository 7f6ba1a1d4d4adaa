package importer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/kmsload/kmsload/scenario"
)

// write is the scenario file's text.
func (m *model) write(im *Importer, o BuildOptions, res *Result) []byte {
	var b bytes.Buffer
	m.header(&b, im, o, res)
	fmt.Fprintf(&b, "name: %s\n", quote(o.Name))
	fmt.Fprintf(&b, "description: %s\n", quote(fmt.Sprintf("Traffic recorded from %s to %s, replayed from its trace.",
		res.Start.Format(time.RFC3339), res.End.Format(time.RFC3339))))
	fmt.Fprintf(&b, "region: %s\nscale: %g\nduration: %s\ntrace: %s\n", m.region, res.Scale, res.Trace.Duration(), quote(o.TraceFile))
	switch {
	case im.opts.Throttled == ThrottledReplay:
		b.WriteString("client: {retry: none} # the trace holds the recorded retries\n")
	case im.opts.Throttled == ThrottledEstimate && im.opts.MaxAttempts != DefaultMaxAttempts:
		fmt.Fprintf(&b, "client: {max_attempts: %d} # as the recorded callers' SDKs\n", im.opts.MaxAttempts)
	}
	b.WriteString("accounts:\n")
	for _, id := range m.sortedIDs() {
		fmt.Fprintf(&b, "  %s: %s\n", m.accounts[id], quote(id))
	}
	b.WriteString("keys:\n")
	for _, name := range slices.Sorted(maps.Keys(m.keys)) {
		m.writeKey(&b, m.keys[name])
	}
	b.WriteString("workloads:\n")
	for _, w := range m.work {
		m.writeWorkload(&b, w, res.Trace.Series[w.name].Total(), res.Trace.Series[w.name].Peak())
	}
	return b.Bytes()
}

// header is the comment that says where the scenario came from.
func (m *model) header(b *bytes.Buffer, im *Importer, o BuildOptions, res *Result) {
	s := im.sum
	fmt.Fprintf(b, "# Imported by kmsload import from %s: %d KMS calls replayable in the window\n", o.Source, s.InWindow)
	group := "grouped by " + im.opts.Group
	if im.usage {
		group = "one workload per account, Region and operation (usage metrics name no caller or key)"
	}
	fmt.Fprintf(b, "# %s to %s, %s.\n", res.Start.Format(time.RFC3339), res.End.Format(time.RFC3339), group)
	if im.opts.KeepIdentities {
		b.WriteString("# Identities are as recorded (--keep-identities): do not share this file.\n")
	} else {
		b.WriteString("# Principals and encryption contexts are pseudonyms; user names, access key ids\n# and source IPs are not kept.\n")
	}
	if im.opts.Compress > 1 {
		fmt.Fprintf(b, "# Time is compressed %dx: each replayed second holds %d recorded seconds, so rates\n# are %d times the recorded ones.\n", im.opts.Compress, im.opts.Compress, im.opts.Compress)
	}
	switch {
	case s.Throttled == 0:
	case im.opts.Throttled == ThrottledReplay:
		fmt.Fprintf(b, "# Every recorded attempt is replayed, the %d throttled ones and the retries\n# included, so the SDK's own retries are off: the replay sends what was recorded.\n", s.Throttled)
	case im.opts.Throttled == ThrottledServed:
		fmt.Fprintf(b, "# The %d throttled calls (ThrottlingException) are not replayed: where KMS\n# throttled, the replay's demand is what KMS served, not what the callers asked.\n", s.Throttled)
	default:
		fmt.Fprintf(b, "# Where KMS throttled (%d ThrottlingException events), the requests are\n# estimated from the attempts, as callers whose SDK made up to %d attempts;\n# the SDK's retries make the attempts again. The trace keeps the recorded\n# attempts and throttles for calibration.\n", s.Throttled, im.opts.MaxAttempts)
	}
	if res.Scale != 1 {
		fmt.Fprintf(b, "# scale %g replays the traffic at that share of its size against quotas scaled alike.\n", res.Scale)
	}
}

func (m *model) writeKey(b *bytes.Buffer, k *outKey) {
	fmt.Fprintf(b, "  %s:\n    account: %s\n    region: %s\n    spec: %s\n", k.name, k.account, k.region, k.spec)
	if k.usage != scenario.DefaultUsage(k.spec) {
		fmt.Fprintf(b, "    usage: %s\n", k.usage)
	}
	if k.multiRegion {
		b.WriteString("    multi_region: true\n")
		if len(k.replicas) > 0 {
			fmt.Fprintf(b, "    replicas: [%s]\n", strings.Join(k.replicas, ", "))
		}
	}
	if k.arn != "" {
		fmt.Fprintf(b, "    arn: %s\n", quote(k.arn))
	} else {
		b.WriteString("    # a stand-in: the calls' records (or usage metrics) named no key that could be told\n")
	}
}

func (m *model) writeWorkload(b *bytes.Buffer, w *outWorkload, total, peak float64) {
	g := w.g
	fmt.Fprintf(b, "  %s:\n    # %.0f requests recorded, busiest second %.0f", w.name, total, peak)
	if t := sum(w.thr); t > 0 {
		fmt.Fprintf(b, ", %.0f throttled calls", t)
	}
	for _, code := range slices.Sorted(maps.Keys(g.errors)) {
		fmt.Fprintf(b, ", %d %s", g.errors[code], code)
	}
	fmt.Fprintf(b, "\n    caller: %s\n", m.accounts[g.account])
	if w.key != nil {
		fmt.Fprintf(b, "    key: %s\n", w.key.name)
	}
	fmt.Fprintf(b, "    region: %s\n    operation: %s\n    arrival: trace\n", g.region, g.op)
	if g.pairSpec != "" {
		fmt.Fprintf(b, "    key_pair_spec: %s\n", g.pairSpec)
	}
	if w.team != "" {
		fmt.Fprintf(b, "    team: %s\n", quote(w.team))
	}
	if g.via != "" && scenario.ValidVia(g.via) {
		fmt.Fprintf(b, "    via: %s\n", g.via)
	}
	if len(g.context) > 0 && scenario.TakesEncryptionContext(g.op) {
		b.WriteString("    encryption_context:\n")
		for _, k := range slices.Sorted(maps.Keys(g.context)) {
			fmt.Fprintf(b, "      %s: %s\n", quote(k), quote(g.context[k]))
		}
	}
}

// quote writes s as a YAML double-quoted scalar (JSON's escapes are
// YAML's).
func quote(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}
