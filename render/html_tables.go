package render

import (
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/kmsload/kmsload/report"
)

// jsonPtr builds a JSON Pointer (RFC 6901) from reference tokens.
func jsonPtr(tokens ...any) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		var s string
		switch v := t.(type) {
		case int:
			s = strconv.Itoa(v)
		case string:
			s = v
		}
		s = strings.ReplaceAll(s, "~", "~0")
		s = strings.ReplaceAll(s, "/", "~1")
		b.WriteString(s)
	}
	return b.String()
}

// under returns a function that builds the JSON Pointers below the
// reference tokens prefix: under("workloads", 2)("client", "name") is
// /workloads/2/client/name.
func under(prefix ...any) func(tokens ...any) string {
	return func(tokens ...any) string { return jsonPtr(slices.Concat(prefix, tokens)...) }
}

// srcExpr builds a data-expr expression: fn(arg arg ...).
func srcExpr(fn string, args ...string) string {
	return fn + "(" + strings.Join(args, " ") + ")"
}

// numCell is a numeric cell of kind k.
func numCell(k NumberKind, v float64, src string) htmlCell {
	return htmlCell{Text: FormatNumber(k, v), Src: src, Kind: string(k), Num: true}
}

// countCell is a KindCount cell.
func countCell(v int64, src string) htmlCell { return numCell(KindCount, float64(v), src) }

// textCell is a text cell; empty text shows NotApplicable.
func textCell(s, src string) htmlCell {
	if s == "" {
		s = NotApplicable
	}
	return htmlCell{Text: s, Src: src, Kind: kindText}
}

// listCell is a text cell holding a list of strings.
func listCell(ss []string, src string) htmlCell {
	return textCell(strings.Join(ss, ", "), src)
}

// keyCell is a cell showing the last token of src, a key of a JSON object.
func keyCell(key, src string) htmlCell {
	return htmlCell{Text: key, Src: src, Kind: kindKey}
}

// codeCells are the two cells of one error code in a map of counts by
// code, src the pointer to its entry: the code and its count.
func codeCells(code string, n int64, src string) []htmlCell {
	return []htmlCell{keyCell(code, src), countCell(n, src)}
}

// boolWords are the words a boolean of each kind shows, for false and for
// true.
var boolWords = map[string][2]string{kindYesNo: {"no", "yes"}, kindPass: {"FAIL", "pass"}}

// boolText is b in the words of kind, kindYesNo or kindPass.
func boolText(kind string, b bool) string {
	words := boolWords[kind]
	if b {
		return words[1]
	}
	return words[0]
}

// boolCell is a cell of kind kindYesNo or kindPass showing b.
func boolCell(kind string, b bool, src string) htmlCell {
	return htmlCell{Text: boolText(kind, b), Src: src, Kind: kind}
}

// shareOf returns a / b, NaN when b is 0.
func shareOf(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

// tableHeads is the header of columns with these names; a column of
// numbers (a unit such as "/s" or "%" ends its name, or it counts
// something) is marked Num.
func tableHeads(names ...string) []htmlHead {
	h := make([]htmlHead, len(names))
	for i, n := range names {
		h[i] = htmlHead{Text: n}
		if strings.HasSuffix(n, "/s") || strings.HasSuffix(n, "%") || strings.HasSuffix(n, " ms") || strings.HasSuffix(n, " s") ||
			n == "requests" || n == "ok" || n == "attempts" || n == "throttled" || n == "dropped" || n == "cache hits" ||
			n == "count" || n == "failed" || n == "allowed" || n == "measured" || n == "limit" || n == "thr-req" || n == "thr-att" {
			h[i].Num = true
		}
	}
	return h
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// groupWorkloads groups the indices of r's workloads by key, leaving out
// those key does not name (ok false); the keys are in the order of their
// first workload.
func groupWorkloads(r *report.Results, key func(report.Workload) (k string, ok bool)) ([]string, map[string][]int) {
	var keys []string
	idx := map[string][]int{}
	for i, w := range r.Workloads {
		k, ok := key(w)
		if !ok {
			continue
		}
		if _, seen := idx[k]; !seen {
			keys = append(keys, k)
		}
		idx[k] = append(idx[k], i)
	}
	return keys, idx
}

// workloadPtrs are the JSON Pointers to field f of the workloads idx.
func workloadPtrs(idx []int, f string) []string {
	ps := make([]string, len(idx))
	for j, i := range idx {
		ps[j] = jsonPtr("workloads", i, f)
	}
	return ps
}

// workloadList is a list cell of field f, a string, of r's workloads idx
// (value reads it): the values sorted, without duplicates, as data-expr's
// list() reads them.
func workloadList(r *report.Results, idx []int, f string, value func(report.Workload) string) htmlCell {
	vs := make([]string, len(idx))
	for j, i := range idx {
		vs[j] = value(r.Workloads[i])
	}
	sort.Strings(vs)
	return listCell(slices.Compact(vs), srcExpr("list", workloadPtrs(idx, f)...))
}

func metaTable(r *report.Results) *htmlTable {
	t := &htmlTable{ID: "run", Title: "Run", Header: tableHeads("", "value")}
	add := func(label string, c htmlCell) {
		t.Rows = append(t.Rows, []htmlCell{{Text: label, Head: true}, c})
	}
	sc, tg := under("scenario"), under("target")
	add("scenario", textCell(r.Scenario.Name, sc("name")))
	if r.Scenario.File != "" {
		add("file", textCell(r.Scenario.File, sc("file")))
	}
	if r.Scenario.SHA256 != "" {
		c := textCell(r.Scenario.SHA256, sc("sha256"))
		c.Class = "hash"
		add("scenario sha256", c)
	}
	add("scale", numCell(KindPlain, r.Scenario.Scale, sc("scale")))
	add("seed", numCell(KindPlain, float64(r.Scenario.Seed), sc("seed")))
	if r.Scenario.WindowPhase != "" {
		add("window phase", textCell(r.Scenario.WindowPhase, sc("window_phase")))
	}
	if r.Scenario.WindowPhaseS != nil {
		add("window started", numCell(KindSeconds, *r.Scenario.WindowPhaseS, sc("window_phase_s")))
	}
	add("target", textCell(r.Target.Kind, tg("kind")))
	if r.Target.Endpoint != "" {
		add("endpoint", textCell(r.Target.Endpoint, tg("endpoint")))
	}
	add("quota model", textCell(r.Target.QuotaModel, tg("quota_model")))
	if r.Target.QuotasAppliedBy != "" {
		add("quotas applied by", textCell(r.Target.QuotasAppliedBy, tg("quotas_applied_by")))
	}
	add("started", htmlCell{Text: timeOr(r.StartedAt, NotApplicable), Src: jsonPtr("started_at"), Kind: kindTime})
	add("duration s", numCell(KindSeconds, r.DurationS, jsonPtr("duration_s")))
	add("partial", boolCell(kindYesNo, r.Partial, jsonPtr("partial")))
	for _, k := range sortedKeys(r.Target.Versions) {
		add("version "+k, textCell(r.Target.Versions[k], tg("versions", k)))
	}
	return t
}

// tableSpec is one table of the HTML report after its charts: its fixed
// texts and how its rows come from the results.
type tableSpec struct {
	id, title, note, empty string
	heads                  []string
	// fill adds the rows of r to t; it may also fit t's header and note
	// to what r holds.
	fill func(t *htmlTable, r *report.Results)
}

// table builds s's table of r.
func (s tableSpec) table(r *report.Results) *htmlTable {
	t := &htmlTable{ID: s.id, Title: s.title, Note: s.note, Header: tableHeads(s.heads...), Empty: s.empty}
	s.fill(t, r)
	return t
}

// dataTables are the HTML report's tables after its charts, in page order.
var dataTables = []tableSpec{
	{
		id: "workloads", title: "Workloads", empty: "No workloads.", fill: workloadRows,
		note: "goodput = successful requests (and data-key cache hits) per second; thr-att% = throttled attempts / attempts; thr-req = requests that failed by throttling.",
		heads: []string{"workload", "operation", "key", "caller", "bucket", "target/s", "sent/s", "goodput/s",
			"requests", "ok", "attempts", "thr-att", "thr-att%", "thr-req", "dropped", "cache hits"},
	},
	{
		id: "latency", title: "Latency", empty: "No workloads.", fill: latencyRows,
		note: "Request latency is measured from each request's intended send time (coordinated omission corrected), including retries and backoff; service time per attempt from its actual send.",
		heads: []string{"workload", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms",
			"svc p50 ms", "svc p90 ms", "svc p99 ms", "svc p99.9 ms", "svc max ms"},
	},
	{
		id: "errors", title: "Failed requests by error code", empty: "No request failed.", fill: errorRows,
		note:  "QuotaExceededError is raised by the SDK itself when its retry token bucket is empty: the request was not sent again.",
		heads: []string{"workload", "error code", "count"},
	},
	{
		id: "clients", title: "SDK clients", empty: "No SDK client information in these results.", fill: clientRows,
		note: "Each setting with where it came from. A shared client sends for several workloads (per Region): one retry token bucket, one adaptive rate limiter. " +
			"The retry bucket is its size at real size; tokens is what the run's client started with, the size times the run's scale, so that it empties as fast as at real size.",
		heads: []string{"client", "shared", "workloads", "retry", "source", "max attempts", "source",
			"max backoff", "source", "retry bucket", "source", "tokens"},
	},
	{
		id: "retry-quota", title: "Retry quota exhausted", empty: "No SDK client ran out of retry quota.", fill: retryQuotaRows,
		note: "Requests that failed with QuotaExceededError: the SDK client's retry token bucket was empty, so the SDK did not send their retry " +
			"(a retry after a throttle costs 5 tokens, other retries 14, a first-attempt success gives 1 back). " +
			"from s and to s are the seconds of the first and last such failure (−1: the results have no per-second failures).",
		heads: []string{"workload", "client", "retry bucket", "from s", "to s", "requests", "of requests%"},
	},
	{
		id: "buckets", title: "Quota buckets", empty: "No buckets.", fill: bucketRows,
		note: "A bucket is a caller account × Region × class: every key and caller of that account in that Region shares it. Demand = attempts per second; util% = demand / quota.",
		heads: []string{"bucket", "account", "region", "class", "quota/s", "demand/s", "util%",
			"allowed", "throttled", "thr-att%", "workloads", "keys"},
	},
	{
		id: "plan", title: "Prediction", empty: "No prediction in these results.", fill: planRows,
		note: "What kmsload plan predicted for this scenario, scale and quotas before the run: how it predicts, the bucket that saturates first " +
			"and at how many times the scenario's load (quota / busiest second's demand), and the layout's monthly bill at real size and list prices.",
		heads: []string{"model", "first to saturate", "at × the load", "monthly cost USD"},
	},
	{
		id: "keys", title: "Keys", empty: "No workload names a key.", fill: keyRows,
		note: "Workloads aggregated by the key they use. A key has no quota of its own: its callers' buckets do.",
		heads: []string{"key", "workloads", "buckets", "sent/s", "goodput/s", "requests", "ok",
			"attempts", "thr-att", "thr-att%"},
	},
	{
		id: "coupling", title: "Coupling", empty: "Run with --isolate to measure coupling.", fill: couplingRows,
		note: "Each workload run alone, then all together: coupling% = 1 − goodput together / goodput alone.",
		heads: []string{"workload", "bucket", "goodput/s alone", "goodput/s together", "coupling%",
			"thr-att% alone", "thr-att% together", "p99 ms alone", "p99 ms together", "shares bucket with", "shares key with"},
	},
	{
		id: "events", title: "Events and blast radius", empty: "No lifecycle events.", fill: eventRows,
		note:  "Workloads whose requests failed other than by throttling from the event's second on; seconds are inclusive.",
		heads: []string{"at s", "action", "key", "event error", "affected workload", "from s", "to s", "failed", "error code", "count"},
	},
	{
		id: "thresholds", title: "Thresholds", empty: "No thresholds were evaluated.", fill: thresholdRows,
		note:  "Evaluated on the run's totals; rates at real-world size (measured / scale).",
		heads: []string{"workload", "expression", "measured", "limit", "unit", "result"},
	},
}

func workloadRows(t *htmlTable, r *report.Results) {
	for i, w := range r.Workloads {
		p := under("workloads", i)
		t.Rows = append(t.Rows, []htmlCell{
			textCell(w.Name, p("name")), textCell(w.Operation, p("operation")), textCell(w.Key, p("key")),
			textCell(w.CallerAccount, p("caller_account")), textCell(w.Bucket, p("bucket")),
			numCell(KindRate, w.TargetPerS, p("target_per_s")),
			numCell(KindRate, w.SentPerS, p("sent_per_s")),
			numCell(KindRate, w.GoodputPerS, p("goodput_per_s")),
			countCell(w.Requests, p("requests")), countCell(w.OK, p("ok")), countCell(w.Attempts, p("attempts")),
			countCell(w.ThrottledAttempts, p("throttled_attempts")),
			numCell(KindShare, shareOf(float64(w.ThrottledAttempts), float64(w.Attempts)), srcExpr("ratio", p("throttled_attempts"), p("attempts"))),
			countCell(w.ThrottledRequests, p("throttled_requests")),
			countCell(w.Dropped, p("dropped")), countCell(w.CacheHits, p("cache_hits")),
		})
	}
}

func latencyRows(t *htmlTable, r *report.Results) {
	for i, w := range r.Workloads {
		p := under("workloads", i)
		row := []htmlCell{textCell(w.Name, p("name"))}
		for _, s := range []struct {
			field string
			ms    report.Percentiles
		}{{"latency_ms", w.LatencyMs}, {"service_ms", w.ServiceMs}} {
			row = append(row,
				numCell(KindMs, s.ms.P50, p(s.field, "p50")), numCell(KindMs, s.ms.P90, p(s.field, "p90")), numCell(KindMs, s.ms.P99, p(s.field, "p99")),
				numCell(KindMs, s.ms.P999, p(s.field, "p999")), numCell(KindMs, s.ms.Max, p(s.field, "max")))
		}
		t.Rows = append(t.Rows, row)
	}
}

func errorRows(t *htmlTable, r *report.Results) {
	for i, w := range r.Workloads {
		p := under("workloads", i)
		for _, code := range sortedKeys(w.Errors) {
			row := []htmlCell{textCell(w.Name, p("name"))}
			t.Rows = append(t.Rows, append(row, codeCells(code, w.Errors[code], p("errors", code))...))
		}
	}
}

// bucketRows shows each bucket's load, measured next to the prediction
// when the results hold one, as the text summary does.
func bucketRows(t *htmlTable, r *report.Results) {
	if r.Plan != nil {
		t.Note += " pred = predicted by kmsload plan before the run (see Prediction below)."
		t.Header = tableHeads("bucket", "account", "region", "class", "quota/s", "demand/s", "pred demand/s", "util%",
			"allowed", "throttled", "thr-att%", "pred thr-att%", "workloads", "keys")
	}
	for i, b := range r.Buckets {
		p := under("buckets", i)
		quota := math.NaN()
		if b.QuotaPerS > 0 {
			quota = b.QuotaPerS
		}
		util := numCell(KindShare, shareOf(b.DemandPerS, b.QuotaPerS), srcExpr("ratio", p("demand_per_s"), p("quota_per_s")))
		if !math.IsNaN(quota) {
			util.Bar = b.DemandPerS / b.QuotaPerS
			if util.Bar > 1 {
				util.Class = "over"
			}
		}
		demand := []htmlCell{numCell(KindRate, b.DemandPerS, p("demand_per_s"))}
		share := []htmlCell{numCell(KindShare, shareOf(float64(b.Throttled), float64(b.Allowed+b.Throttled)),
			srcExpr("ratio", p("throttled"), srcExpr("sum", p("allowed"), p("throttled"))))}
		if r.Plan != nil {
			// A zero prediction is omitted from results.json.
			demand = append(demand, numCell(KindRate, b.PredictedDemandPerS, srcExpr("orzero", p("predicted_demand_per_s"))))
			share = append(share, numCell(KindShare, b.PredictedThrottledShare, srcExpr("orzero", p("predicted_throttled_share"))))
		}
		row := []htmlCell{
			textCell(b.Name, p("name")), textCell(b.Account, p("account")), textCell(b.Region, p("region")), textCell(b.Class, p("class")),
			numCell(KindRate, quota, srcExpr("nonzero", p("quota_per_s"))),
		}
		row = append(row, demand...)
		row = append(row, util, countCell(b.Allowed, p("allowed")), countCell(b.Throttled, p("throttled")))
		row = append(row, share...)
		row = append(row, listCell(b.Workloads, p("workloads")), listCell(b.Keys, p("keys")))
		t.Rows = append(t.Rows, row)
	}
}

// planRows shows `kmsload plan`'s prediction for the run; its per-bucket
// numbers are in the bucket table.
func planRows(t *htmlTable, r *report.Results) {
	t.Header[2].Num, t.Header[3].Num = true, true
	p := r.Plan
	if p == nil {
		return
	}
	ptr := under("plan")
	growth := p.GrowthFactor
	if growth == 0 { // omitted from results.json: no bucket saturates
		growth = math.NaN()
	}
	t.Rows = append(t.Rows, []htmlCell{
		textCell(p.Model, ptr("model")),
		textCell(p.FirstToSaturate, ptr("first_to_saturate")),
		numCell(KindSig4, growth, srcExpr("nonzero", srcExpr("orzero", ptr("growth_factor")))),
		numCell(KindSig4, p.MonthlyCostUSD, ptr("monthly_cost_usd")),
	})
}

// clientRows lists the run's SDK clients, each setting with where it came
// from, as the text summary does: one row per client, in the order of its
// first workload.
func clientRows(t *htmlTable, r *report.Results) {
	order, members := groupWorkloads(r, func(w report.Workload) (string, bool) {
		if w.Client == nil {
			return "", false
		}
		return w.Client.Name, true
	})
	for _, name := range order {
		idx := members[name]
		c := r.Workloads[idx[0]].Client
		p := under("workloads", idx[0], "client")
		row := []htmlCell{
			textCell(c.Name, p("name")),
			boolCell(kindYesNo, c.Shared, p("shared")),
			workloadList(r, idx, "name", func(w report.Workload) string { return w.Name }),
		}
		for _, s := range []struct {
			field string
			set   report.ClientSetting
		}{{"retry", c.Retry}, {"max_attempts", c.MaxAttempts}, {"max_backoff", c.MaxBackoff}, {"retry_bucket", c.RetryBucket}} {
			src := textCell(s.set.Source, p(s.field, "source"))
			src.Class = "label"
			row = append(row, textCell(s.set.Value, p(s.field, "value")), src)
		}
		tokens := htmlCell{Text: NotApplicable, Src: p("retry_tokens"), Kind: kindEmpty}
		if c.RetryTokens > 0 {
			tokens = countCell(int64(c.RetryTokens), p("retry_tokens"))
		}
		t.Rows = append(t.Rows, append(row, tokens))
	}
}

// retryQuotaRows lists the workloads whose SDK client ran out of retry
// quota: requests that failed with QuotaExceededError, their retry not
// sent.
func retryQuotaRows(t *htmlTable, r *report.Results) {
	for i, w := range r.Workloads {
		q := w.RetryQuotaExhausted
		if q == nil || q.Requests == 0 {
			continue
		}
		p, pq := under("workloads", i), under("workloads", i, "retry_quota_exhausted")
		bucket := htmlCell{Text: NotApplicable, Src: p("client"), Kind: kindEmpty}
		if w.Client != nil {
			bucket = textCell(w.Client.RetryBucket.Value, p("client", "retry_bucket", "value"))
		}
		t.Rows = append(t.Rows, []htmlCell{
			textCell(w.Name, p("name")),
			textCell(q.Client, pq("client")),
			bucket,
			numCell(KindSeconds, float64(q.FirstS), pq("first_s")),
			numCell(KindSeconds, float64(q.LastS), pq("last_s")),
			countCell(q.Requests, pq("requests")),
			numCell(KindShare, shareOf(float64(q.Requests), float64(w.Requests)), srcExpr("ratio", pq("requests"), p("requests"))),
		})
	}
}

// keyRows aggregates the workloads by the key they use, keys in order.
func keyRows(t *htmlTable, r *report.Results) {
	keys, byKey := groupWorkloads(r, func(w report.Workload) (string, bool) { return w.Key, w.Key != "" })
	sort.Strings(keys)
	for _, k := range keys {
		idx := byKey[k]
		sum := func(f string) string { return srcExpr("sum", workloadPtrs(idx, f)...) }
		var sent, good float64
		var req, ok, att, thr int64
		for _, i := range idx {
			w := r.Workloads[i]
			sent += w.SentPerS
			good += w.GoodputPerS
			req += w.Requests
			ok += w.OK
			att += w.Attempts
			thr += w.ThrottledAttempts
		}
		t.Rows = append(t.Rows, []htmlCell{
			textCell(k, jsonPtr("workloads", idx[0], "key")),
			workloadList(r, idx, "name", func(w report.Workload) string { return w.Name }),
			workloadList(r, idx, "bucket", func(w report.Workload) string { return w.Bucket }),
			numCell(KindRate, sent, sum("sent_per_s")),
			numCell(KindRate, good, sum("goodput_per_s")),
			countCell(req, sum("requests")),
			countCell(ok, sum("ok")),
			countCell(att, sum("attempts")),
			countCell(thr, sum("throttled_attempts")),
			numCell(KindShare, shareOf(float64(thr), float64(att)), srcExpr("ratio", sum("throttled_attempts"), sum("attempts"))),
		})
	}
}

func couplingRows(t *htmlTable, r *report.Results) {
	for i, c := range r.Coupling {
		p := under("coupling", i)
		cc := numCell(KindShare, c.Coupling, p("coupling"))
		if c.Coupling > 0 {
			cc.Bar = c.Coupling
		}
		if c.Coupling > report.VerdictMinCoupling {
			cc.Class = "over"
		}
		t.Rows = append(t.Rows, []htmlCell{
			textCell(c.Workload, p("workload")), textCell(c.Bucket, p("bucket")),
			numCell(KindRate, c.IsolatedGoodputPerS, p("isolated_goodput_per_s")),
			numCell(KindRate, c.CombinedGoodputPerS, p("combined_goodput_per_s")),
			cc,
			numCell(KindShare, c.IsolatedThrottledShare, p("isolated_throttled_share")),
			numCell(KindShare, c.CombinedThrottledShare, p("combined_throttled_share")),
			numCell(KindMs, c.IsolatedP99Ms, p("isolated_p99_ms")),
			numCell(KindMs, c.CombinedP99Ms, p("combined_p99_ms")),
			listCell(c.SharesBucketWith, p("shares_bucket_with")),
			listCell(c.SharesKeyWith, p("shares_key_with")),
		})
	}
}

// eventRows has a row per event, affected workload and error code; an
// event that affected none has one row saying so.
func eventRows(t *htmlTable, r *report.Results) {
	for i, e := range r.Events {
		p := under("events", i)
		head := []htmlCell{
			numCell(KindSeconds, e.AtS, p("at_s")), textCell(e.Action, p("action")), textCell(e.Key, p("key")), textCell(e.Error, p("error")),
		}
		if len(e.Affected) == 0 {
			t.Rows = append(t.Rows, append(head, htmlCell{Text: "none", Src: p("affected"), Kind: kindEmpty, Class: "label"}))
			continue
		}
		for j, im := range e.Affected {
			q := under("events", i, "affected", j)
			imp := append(slices.Clip(head),
				textCell(im.Workload, q("workload")),
				numCell(KindSeconds, im.FromS, q("from_s")), numCell(KindSeconds, im.ToS, q("to_s")),
				countCell(im.Failed, q("failed")),
			)
			codes := sortedKeys(im.Errors)
			if len(codes) == 0 {
				t.Rows = append(t.Rows, append(slices.Clip(imp), htmlCell{Text: NotApplicable, Src: q("errors"), Kind: kindEmpty}))
				continue
			}
			for _, code := range codes {
				t.Rows = append(t.Rows, append(slices.Clip(imp), codeCells(code, im.Errors[code], q("errors", code))...))
			}
		}
	}
}

func thresholdRows(t *htmlTable, r *report.Results) {
	for i, th := range r.Thresholds {
		p := under("thresholds", i)
		res := boolCell(kindPass, th.Pass, p("pass"))
		res.Class = "fail"
		if th.Pass {
			res.Class = "pass"
		}
		measured := numCell(KindSig4, th.Value, p("value"))
		if th.Note != "" {
			measured = textCell(th.Note, p("note"))
		}
		t.Rows = append(t.Rows, []htmlCell{
			textCell(th.Workload, p("workload")), textCell(th.Expr, p("expr")),
			measured, numCell(KindSig4, th.Limit, p("limit")), textCell(th.Unit, p("unit")), res,
		})
	}
}

// sharingMatrix says, for each pair of workloads, whether they share a
// quota bucket and a key. It is nil with fewer than two workloads.
func sharingMatrix(r *report.Results) *htmlMatrix {
	if len(r.Workloads) < 2 {
		return nil
	}
	m := &htmlMatrix{}
	for _, w := range r.Workloads {
		m.Names = append(m.Names, w.Name)
	}
	for _, a := range r.Workloads {
		row := htmlMatrixRow{Name: a.Name}
		for _, b := range r.Workloads {
			c := htmlMatrixCell{}
			bucket := a.Bucket != "" && a.Bucket == b.Bucket
			key := a.Key != "" && a.Key == b.Key
			switch {
			case a.Name == b.Name:
				c.Text, c.Class = "·", "self"
			case bucket && key:
				c.Text, c.Class, c.Title = "bucket + key", "both", a.Bucket+", key "+a.Key
			case bucket:
				c.Text, c.Class, c.Title = "bucket", "bucket", a.Bucket
			case key:
				c.Text, c.Class, c.Title = "key", "key", "key "+a.Key+" (different buckets)"
			default:
				c.Text, c.Class = "–", "none"
			}
			row.Cells = append(row.Cells, c)
		}
		m.Rows = append(m.Rows, row)
	}
	return m
}
