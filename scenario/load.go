package scenario

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Load reads and parses the scenario file at path. Problems in the file
// are returned as Errors; a file that cannot be read gives a wrapped
// *fs.PathError.
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes a scenario from data, naming file in error positions. It
// starts from NewScenario's defaults, decodes the file over them, fills the
// derived defaults, and checks the result. On any problem it returns nil
// and an Errors value holding every problem found, sorted by position.
func Parse(file string, data []byte) (*Scenario, error) {
	return parse(newDecoder(file), data)
}

// ParseFiles is Parse with the files the scenario refers to (its trace)
// given by name as the file writes it, instead of read from disk: for a
// scenario not yet written, or one sent to another machine.
func ParseFiles(file string, data []byte, files map[string][]byte) (*Scenario, error) {
	d := newDecoder(file)
	d.readFile = func(name string) ([]byte, error) {
		if b, ok := files[name]; ok {
			return b, nil
		}
		return nil, fmt.Errorf("%s: not among the files given", name)
	}
	return parse(d, data)
}

func parse(d *decoder, data []byte) (*Scenario, error) {
	file := d.file
	root, ok := d.document(data)
	if !ok {
		return nil, d.errs.sorted()
	}
	s := NewScenario()
	s.File = file
	h := sha256.New()
	h.Write(data)
	d.mark("", root)
	d.scenario(s, root)
	d.trace(s, h)
	s.sha256 = hex.EncodeToString(h.Sum(nil))
	fillDerived(s)
	v := &validator{file: file, pos: d.pos, bad: d.bad}
	v.check(s)
	errs := append(d.errs, v.errs...)
	if len(errs) > 0 {
		return nil, errs.sorted()
	}
	sort.SliceStable(s.Events, func(i, j int) bool { return s.Events[i].At < s.Events[j].At })
	s.pos = d.pos
	return s, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// document parses data as exactly one YAML document and returns its root
// node.
func (d *decoder) document(data []byte) (*yaml.Node, bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.errorf(nil, "", "empty scenario file")
		} else {
			d.syntax(err)
		}
		return nil, false
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		d.syntax(err)
		return nil, false
	default:
		d.errorf(&extra, "", "only one YAML document is allowed in a scenario file")
		return nil, false
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		d.errorf(&doc, "", "empty scenario file")
		return nil, false
	}
	return doc.Content[0], true
}

// parserProblems are the problems of the YAML parser proper (not its
// scanner). go.yaml.in/yaml/v3 reports their line 0-based, so one is added.
var parserProblems = []string{
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"did not find expected '-' indicator",
	"did not find expected <document start>",
	"did not find expected <stream-start>",
	"did not find expected key",
	"did not find expected node content",
	"found duplicate %TAG directive",
	"found duplicate %YAML directive",
	"found incompatible YAML document",
	"found undefined tag handle",
}

// syntax records a YAML syntax error at the line the parser names (column
// 1: the parser does not give one).
func (d *decoder) syntax(err error) {
	line, msg := 1, err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		if n, convErr := strconv.Atoi(m[1]); convErr == nil && n > 0 {
			line = n
		}
		msg = m[2]
		if contains(parserProblems, msg) {
			line++
		}
	} else if len(msg) > 6 && msg[:6] == "yaml: " {
		msg = msg[6:]
	}
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Col: 1, Msg: "invalid YAML: " + msg})
}

// Field names of each mapping in the file format.
var (
	topFields      = []string{"name", "description", "region", "scale", "duration", "seed", "error_budget", "quotas", "client", "accounts", "keys", "workloads", "events", "thresholds", "variants", "trace"}
	quotaFields    = []string{"mode", "algorithm"}
	accountFields  = []string{"id", "role_arn"}
	keyFields      = []string{"account", "region", "alias", "managed_by", "spec", "usage", "multi_region", "replicas", "custom_key_store", "custom_key_store_type", "xks_key_id", "rotation", "allow_accounts", "grant_accounts", "arn"}
	workloadFields = []string{"caller", "key", "key_ref", "region", "operation", "rate", "arrival", "phases", "max_in_flight", "retry", "max_attempts", "client", "payload_bytes", "key_pair_spec", "encryption_context", "data_key_cache", "via", "team", "expected_failures"}
	phaseFields    = []string{"duration", "rate", "from", "to"}
	cacheFields    = []string{"max_age", "max_uses"}
	eventFields    = []string{"at", "action", "key", "allow_accounts", "workload", "to_region", "pending_window_days"}
)

// eventActionFields lists, per action, the fields it takes besides at and
// action.
var eventActionFields = map[string][]string{
	ActionDisableKey:     {"key"},
	ActionEnableKey:      {"key"},
	ActionScheduleDelete: {"key", "pending_window_days"},
	ActionCancelDeletion: {"key"},
	ActionRotate:         {"key"},
	ActionPutKeyPolicy:   {"key", "allow_accounts"},
	ActionShiftTraffic:   {"workload", "to_region"},
}

var eventActions = []string{
	ActionDisableKey, ActionEnableKey, ActionScheduleDelete, ActionCancelDeletion,
	ActionRotate, ActionPutKeyPolicy, ActionShiftTraffic,
}

func (d *decoder) scenario(s *Scenario, root *yaml.Node) {
	f, ok := d.fields("", root, topFields...)
	if !ok {
		d.bad[""] = true
		return
	}
	d.str("name", f["name"], &s.Name)
	d.str("description", f["description"], &s.Description)
	d.str("region", f["region"], &s.Region)
	d.number("scale", f["scale"], &s.Scale)
	d.duration("duration", f["duration"], &s.Duration)
	d.int64("seed", f["seed"], &s.Seed)
	d.share("error_budget", f["error_budget"], &s.ErrorBudget)
	d.str("trace", f["trace"], &s.Trace)
	if n := f["quotas"]; n != nil {
		if q, ok := d.fields("quotas", n, quotaFields...); ok {
			d.str("quotas.mode", q["mode"], &s.Quotas.Mode)
			d.str("quotas.algorithm", q["algorithm"], &s.Quotas.Algorithm)
		}
	}
	if n := f["client"]; n != nil {
		d.client("client", n, &s.Client)
	}
	if n := f["accounts"]; n != nil {
		d.accounts(s, n)
	}
	if n := f["keys"]; n != nil {
		d.keys(s, n)
	}
	if n := f["workloads"]; n != nil {
		d.workloads(s, n)
	}
	if n := f["events"]; n != nil {
		d.events(s, n)
	}
	if n := f["thresholds"]; n != nil {
		d.thresholds(s, n)
	}
	if n := f["variants"]; n != nil {
		d.variants(s, n)
	}
}

func (d *decoder) accounts(s *Scenario, n *yaml.Node) {
	es, _ := d.entries("accounts", n)
	for _, e := range es {
		path := join("accounts", e.name)
		d.mark(path, e.key)
		a := Account{Name: e.name}
		switch v := deref(e.val); {
		case v != nil && v.Kind == yaml.MappingNode:
			if f, ok := d.fields(path, e.val, accountFields...); ok {
				d.accountID(join(path, "id"), f["id"], &a.ID)
				d.str(join(path, "role_arn"), f["role_arn"], &a.RoleARN)
			}
		case v != nil && v.Kind == yaml.ScalarNode && v.ShortTag() != "!!null":
			d.mark(join(path, "id"), e.val)
			d.accountID(join(path, "id"), e.val, &a.ID)
		default:
			d.errorf(e.val, path, `want a 12-digit account id such as "111111111111" or a mapping {id, role_arn}, got %s`, describe(v))
		}
		s.Accounts[e.name] = a
	}
}

// accountID decodes an account id, which must be a quoted string: YAML
// reads unquoted digits as a number and drops leading zeros elsewhere.
func (d *decoder) accountID(path string, n *yaml.Node, dst *string) {
	v := d.field(path, n, `a quoted 12-digit account id such as "111111111111"`)
	if v == nil {
		return
	}
	if v.ShortTag() != "!!str" {
		d.errorf(n, path, `want a quoted 12-digit account id such as "111111111111", got %s (YAML reads unquoted digits as a number)`, describe(v))
		return
	}
	*dst = v.Value
}

func (d *decoder) keys(s *Scenario, n *yaml.Node) {
	es, _ := d.entries("keys", n)
	for _, e := range es {
		path := join("keys", e.name)
		d.mark(path, e.key)
		k := NewKey()
		k.Name = e.name
		if f, ok := d.fields(path, e.val, keyFields...); ok {
			d.str(join(path, "account"), f["account"], &k.Account)
			d.str(join(path, "region"), f["region"], &k.Region)
			d.str(join(path, "alias"), f["alias"], &k.Alias)
			d.str(join(path, "managed_by"), f["managed_by"], &k.ManagedBy)
			d.str(join(path, "spec"), f["spec"], &k.Spec)
			d.str(join(path, "usage"), f["usage"], &k.Usage)
			d.boolean(join(path, "multi_region"), f["multi_region"], &k.MultiRegion)
			d.strList(join(path, "replicas"), f["replicas"], &k.Replicas)
			d.str(join(path, "custom_key_store"), f["custom_key_store"], &k.CustomKeyStore)
			d.str(join(path, "custom_key_store_type"), f["custom_key_store_type"], &k.CustomKeyStoreType)
			d.str(join(path, "xks_key_id"), f["xks_key_id"], &k.XksKeyID)
			d.boolean(join(path, "rotation"), f["rotation"], &k.Rotation)
			d.strList(join(path, "allow_accounts"), f["allow_accounts"], &k.AllowAccounts)
			d.strList(join(path, "grant_accounts"), f["grant_accounts"], &k.GrantAccounts)
			d.str(join(path, "arn"), f["arn"], &k.ARN)
		}
		s.Keys[e.name] = k
	}
}

func (d *decoder) workloads(s *Scenario, n *yaml.Node) {
	es, _ := d.entries("workloads", n)
	for _, e := range es {
		path := join("workloads", e.name)
		d.mark(path, e.key)
		w := NewWorkload()
		w.Name = e.name
		if f, ok := d.fields(path, e.val, workloadFields...); ok {
			d.str(join(path, "caller"), f["caller"], &w.Caller)
			d.str(join(path, "key"), f["key"], &w.Key)
			d.str(join(path, "key_ref"), f["key_ref"], &w.KeyRef)
			d.str(join(path, "region"), f["region"], &w.Region)
			d.str(join(path, "operation"), f["operation"], &w.Operation)
			d.rate(join(path, "rate"), f["rate"], &w.Rate)
			d.str(join(path, "arrival"), f["arrival"], &w.Arrival)
			if p := f["phases"]; p != nil {
				w.Phases = d.phases(join(path, "phases"), p)
			}
			d.integer(join(path, "max_in_flight"), f["max_in_flight"], &w.MaxInFlight)
			d.str(join(path, "retry"), f["retry"], &w.Retry)
			d.integer(join(path, "max_attempts"), f["max_attempts"], &w.MaxAttempts)
			if c := f["client"]; c != nil {
				d.client(join(path, "client"), c, &w.Client)
			}
			d.integer(join(path, "payload_bytes"), f["payload_bytes"], &w.PayloadBytes)
			if c := f["encryption_context"]; c != nil {
				w.EncryptionContext = d.stringMap(join(path, "encryption_context"), c)
			}
			if c := f["data_key_cache"]; c != nil {
				w.DataKeyCache = d.dataKeyCache(join(path, "data_key_cache"), c)
			}
			d.str(join(path, "via"), f["via"], &w.Via)
			d.str(join(path, "team"), f["team"], &w.Team)
			d.str(join(path, "key_pair_spec"), f["key_pair_spec"], &w.KeyPairSpec)
			d.strList(join(path, "expected_failures"), f["expected_failures"], &w.ExpectedFailures)
		}
		s.Workloads = append(s.Workloads, w)
	}
}

func (d *decoder) phases(path string, n *yaml.Node) []Phase {
	v := deref(n)
	if v == nil || v.Kind != yaml.SequenceNode {
		d.errorf(n, path, "want a list of phases such as [{duration: 30s, rate: 100/s}, {duration: 1m, to: 500/s}], got %s", describe(v))
		return nil
	}
	out := make([]Phase, 0, len(v.Content))
	for i, c := range v.Content {
		p := index(path, i)
		d.mark(p, c)
		var ph Phase
		f, ok := d.fields(p, c, phaseFields...)
		if !ok {
			out = append(out, ph)
			continue
		}
		if f["duration"] == nil {
			d.errorf(c, p, "duration is required")
		}
		d.duration(join(p, "duration"), f["duration"], &ph.Duration)
		_, hasFrom := f["from"]
		_, hasTo := f["to"]
		switch {
		case f["rate"] != nil && (hasFrom || hasTo):
			d.errorf(f["rate"], join(p, "rate"), "a phase gives either rate (hold or step) or from/to (ramp), not both")
		case f["rate"] != nil:
			var r Rate
			d.rate(join(p, "rate"), f["rate"], &r)
			ph.From, ph.To = &r, r
		case hasTo:
			d.rate(join(p, "to"), f["to"], &ph.To)
			if hasFrom {
				var r Rate
				d.rate(join(p, "from"), f["from"], &r)
				ph.From = &r
			}
		default:
			d.errorf(c, p, "a phase needs rate (hold or step) or to (ramp, with optional from)")
		}
		out = append(out, ph)
	}
	return out
}

func (d *decoder) stringMap(path string, n *yaml.Node) map[string]string {
	es, ok := d.entries(path, n)
	if !ok {
		return nil
	}
	out := make(map[string]string, len(es))
	for _, e := range es {
		var s string
		d.str(join(path, e.name), e.val, &s)
		out[e.name] = s
	}
	return out
}

func (d *decoder) dataKeyCache(path string, n *yaml.Node) *DataKeyCache {
	f, ok := d.fields(path, n, cacheFields...)
	if !ok {
		return nil
	}
	c := &DataKeyCache{}
	d.duration(join(path, "max_age"), f["max_age"], &c.MaxAge)
	d.integer(join(path, "max_uses"), f["max_uses"], &c.MaxUses)
	return c
}

func (d *decoder) events(s *Scenario, n *yaml.Node) {
	v := deref(n)
	if v == nil || v.Kind != yaml.SequenceNode {
		d.errorf(n, "events", "want a list of events such as [{at: 20s, action: disable-key, key: env-prod}], got %s", describe(v))
		return
	}
	for i, c := range v.Content {
		path := index("events", i)
		d.mark(path, c)
		e := NewEvent()
		f, ok := d.fields(path, c, eventFields...)
		if ok {
			if f["at"] == nil {
				d.errorf(c, join(path, "at"), "required: the offset from the start of the run, such as 20s")
			}
			d.duration(join(path, "at"), f["at"], &e.At)
			d.str(join(path, "action"), f["action"], &e.Action)
			if takes, known := eventActionFields[e.Action]; known {
				for _, name := range eventFields[2:] {
					if f[name] != nil && !contains(takes, name) {
						d.errorf(f[name], join(path, name), "not used by action %s (it takes %s)", e.Action, quoteList(takes))
						delete(f, name)
					}
				}
				if e.Action == ActionPutKeyPolicy && f["allow_accounts"] == nil {
					d.errorf(c, join(path, "allow_accounts"), "required by put-key-policy: the accounts besides the owner that the new policy allows ([] for the owner only)")
				}
			}
			d.str(join(path, "key"), f["key"], &e.Key)
			d.strList(join(path, "allow_accounts"), f["allow_accounts"], &e.AllowAccounts)
			d.str(join(path, "workload"), f["workload"], &e.Workload)
			d.str(join(path, "to_region"), f["to_region"], &e.ToRegion)
			d.integer(join(path, "pending_window_days"), f["pending_window_days"], &e.PendingWindowDays)
		} else {
			d.bad[path] = true
		}
		s.Events = append(s.Events, e)
	}
}

func (d *decoder) thresholds(s *Scenario, n *yaml.Node) {
	es, _ := d.entries("thresholds", n)
	for _, e := range es {
		path := join("thresholds", e.name)
		d.mark(path, e.key)
		var list []string
		d.strList(path, e.val, &list)
		s.Thresholds[e.name] = list
	}
}

// client decodes a client: block (the scenario's default or a workload's).
func (d *decoder) client(path string, n *yaml.Node, c *Client) {
	f, ok := d.fields(path, n, clientFields...)
	if !ok {
		return
	}
	d.str(join(path, ClientRetry), f[ClientRetry], &c.Retry)
	d.integer(join(path, ClientMaxAttempts), f[ClientMaxAttempts], &c.MaxAttempts)
	d.duration(join(path, ClientMaxBackoff), f[ClientMaxBackoff], &c.MaxBackoff)
	if b := f[ClientRetryBucket]; b != nil {
		p := join(path, ClientRetryBucket)
		v, ok := d.scalar(p, b, "a number of tokens or none")
		switch {
		case !ok:
		case v.ShortTag() == "!!str" && v.Value == "none":
			c.RetryBucket = RetryBucketNone
		case v.ShortTag() == "!!int":
			d.integer(p, b, &c.RetryBucket)
		default:
			d.errorf(b, p, "want a number of tokens (the SDK's default is 500) or none for no retry quota, got %s", describe(v))
		}
	}
	d.str(join(path, ClientShared), f[ClientShared], &c.Shared)
}

// variants decodes the variants: block, a mapping from a client setting
// ("client.retry") to the list of values a study tries.
func (d *decoder) variants(s *Scenario, n *yaml.Node) {
	es, _ := d.entries("variants", n)
	for _, e := range es {
		path := join("variants", e.name)
		d.mark(path, e.key)
		va := Variant{Field: e.name}
		v := deref(e.val)
		if v == nil || v.Kind != yaml.SequenceNode {
			d.errorf(e.val, path, "want a list of values such as [standard, adaptive, none], got %s", describe(v))
			s.Variants = append(s.Variants, va)
			continue
		}
		for i, c := range v.Content {
			p := index(path, i)
			d.mark(p, c)
			val := "" // positions stay aligned; a bad value is marked bad
			if sv, ok := d.scalar(p, c, "a value such as adaptive, 10 or 5s"); ok {
				switch sv.ShortTag() {
				case "!!str", "!!int", "!!float":
					val = sv.Value
				default:
					d.errorf(c, p, "want a value such as adaptive, 10 or 5s, got %s", describe(sv))
				}
			}
			va.Values = append(va.Values, val)
		}
		s.Variants = append(s.Variants, va)
	}
}
