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

// shareOf returns a / b, NaN when b is 0.
func shareOf(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

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

func metaTable(r *report.Results) *htmlTable {
	t := &htmlTable{ID: "run", Title: "Run", Header: tableHeads("", "value")}
	add := func(label string, c htmlCell) {
		t.Rows = append(t.Rows, []htmlCell{{Text: label, Head: true}, c})
	}
	add("scenario", textCell(r.Scenario.Name, jsonPtr("scenario", "name")))
	if r.Scenario.File != "" {
		add("file", textCell(r.Scenario.File, jsonPtr("scenario", "file")))
	}
	if r.Scenario.SHA256 != "" {
		c := textCell(r.Scenario.SHA256, jsonPtr("scenario", "sha256"))
		c.Class = "hash"
		add("scenario sha256", c)
	}
	add("scale", numCell(KindPlain, r.Scenario.Scale, jsonPtr("scenario", "scale")))
	add("seed", numCell(KindPlain, float64(r.Scenario.Seed), jsonPtr("scenario", "seed")))
	if r.Scenario.WindowPhase != "" {
		add("window phase", textCell(r.Scenario.WindowPhase, jsonPtr("scenario", "window_phase")))
	}
	if r.Scenario.WindowPhaseS != nil {
		add("window started", numCell(KindSeconds, *r.Scenario.WindowPhaseS, jsonPtr("scenario", "window_phase_s")))
	}
	add("target", textCell(r.Target.Kind, jsonPtr("target", "kind")))
	if r.Target.Endpoint != "" {
		add("endpoint", textCell(r.Target.Endpoint, jsonPtr("target", "endpoint")))
	}
	add("quota model", textCell(r.Target.QuotaModel, jsonPtr("target", "quota_model")))
	if r.Target.QuotasAppliedBy != "" {
		add("quotas applied by", textCell(r.Target.QuotasAppliedBy, jsonPtr("target", "quotas_applied_by")))
	}
	add("started", htmlCell{Text: formatTime(r.StartedAt), Src: jsonPtr("started_at"), Kind: kindTime})
	add("duration s", numCell(KindSeconds, r.DurationS, jsonPtr("duration_s")))
	add("partial", htmlCell{Text: yesNo(r.Partial), Src: jsonPtr("partial"), Kind: kindYesNo})
	vs := make([]string, 0, len(r.Target.Versions))
	for k := range r.Target.Versions {
		vs = append(vs, k)
	}
	sort.Strings(vs)
	for _, k := range vs {
		add("version "+k, textCell(r.Target.Versions[k], jsonPtr("target", "versions", k)))
	}
	return t
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func workloadTable(r *report.Results) *htmlTable {
	t := &htmlTable{
		ID:    "workloads",
		Title: "Workloads",
		Note:  "goodput = successful requests (and data-key cache hits) per second; thr-att% = throttled attempts / attempts; thr-req = requests that failed by throttling.",
		Header: tableHeads("workload", "operation", "key", "caller", "bucket", "target/s", "sent/s", "goodput/s",
			"requests", "ok", "attempts", "thr-att", "thr-att%", "thr-req", "dropped", "cache hits"),
		Empty: "No workloads.",
	}
	for i, w := range r.Workloads {
		p := func(f string) string { return jsonPtr("workloads", i, f) }
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
	return t
}

func latencyTable(r *report.Results) *htmlTable {
	t := &htmlTable{
		ID:    "latency",
		Title: "Latency",
		Note:  "Request latency is measured from each request's intended send time (coordinated omission corrected), including retries and backoff; service time per attempt from its actual send.",
		Header: tableHeads("workload", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms",
			"svc p50 ms", "svc p90 ms", "svc p99 ms", "svc p99.9 ms", "svc max ms"),
		Empty: "No workloads.",
	}
	for i, w := range r.Workloads {
		row := []htmlCell{textCell(w.Name, jsonPtr("workloads", i, "name"))}
		for _, s := range []struct {
			field string
			p     report.Percentiles
		}{{"latency_ms", w.LatencyMs}, {"service_ms", w.ServiceMs}} {
			p := func(f string) string { return jsonPtr("workloads", i, s.field, f) }
			row = append(row,
				numCell(KindMs, s.p.P50, p("p50")), numCell(KindMs, s.p.P90, p("p90")), numCell(KindMs, s.p.P99, p("p99")),
				numCell(KindMs, s.p.P999, p("p999")), numCell(KindMs, s.p.Max, p("max")))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func errorTable(r *report.Results) *htmlTable {
	t := &htmlTable{
		ID:     "errors",
		Title:  "Failed requests by error code",
		Note:   "QuotaExceededError is raised by the SDK itself when its retry token bucket is empty: the request was not sent again.",
		Header: tableHeads("workload", "error code", "count"),
		Empty:  "No request failed.",
	}
	for i, w := range r.Workloads {
		for _, code := range sortedKeys(w.Errors) {
			t.Rows = append(t.Rows, []htmlCell{
				textCell(w.Name, jsonPtr("workloads", i, "name")),
				keyCell(code, jsonPtr("workloads", i, "errors", code)),
				countCell(w.Errors[code], jsonPtr("workloads", i, "errors", code)),
			})
		}
	}
	return t
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func bucketTable(r *report.Results) *htmlTable {
	t := &htmlTable{
		ID:    "buckets",
		Title: "Quota buckets",
		Note:  "A bucket is a caller account × Region × class: every key and caller of that account in that Region shares it. Demand = attempts per second; util% = demand / quota.",
		Header: tableHeads("bucket", "account", "region", "class", "quota/s", "demand/s", "util%",
			"allowed", "throttled", "thr-att%", "workloads", "keys"),
		Empty: "No buckets.",
	}
	if r.Plan != nil { // predicted next to measured, as in the text summary
		t.Note += " pred = predicted by kmsload plan before the run (see Prediction below)."
		t.Header = tableHeads("bucket", "account", "region", "class", "quota/s", "demand/s", "pred demand/s", "util%",
			"allowed", "throttled", "thr-att%", "pred thr-att%", "workloads", "keys")
	}
	for i, b := range r.Buckets {
		p := func(f string) string { return jsonPtr("buckets", i, f) }
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
	return t
}

// planTable shows `kmsload plan`'s prediction for the run; its
// per-bucket numbers are in the bucket table.
func planTable(r *report.Results) *htmlTable {
	t := &htmlTable{
		ID:    "plan",
		Title: "Prediction",
		Note: "What kmsload plan predicted for this scenario, scale and quotas before the run: how it predicts, the bucket that saturates first " +
			"and at how many times the scenario's load (quota / busiest second's demand), and the layout's monthly bill at real size and list prices.",
		Header: tableHeads("model", "first to saturate", "at × the load", "monthly cost USD"),
		Empty:  "No prediction in these results.",
	}
	t.Header[2].Num, t.Header[3].Num = true, true
	p := r.Plan
	if p == nil {
		return t
	}
	ptr := func(f string) string { return jsonPtr("plan", f) }
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
	return t
}

// clientTable lists the run's SDK clients, each setting with where it
// came from, as the text summary does: one row per client, in the order
// of its first workload.
func clientTable(r *report.Results) *htmlTable {
	t := &htmlTable{
		ID:    "clients",
		Title: "SDK clients",
		Note: "Each setting with where it came from. A shared client sends for several workloads (per Region): one retry token bucket, one adaptive rate limiter. " +
			"The retry bucket is its size at real size; tokens is what the run's client started with, the size times the run's scale, so that it empties as fast as at real size.",
		Header: tableHeads("client", "shared", "workloads", "retry", "source", "max attempts", "source",
			"max backoff", "source", "retry bucket", "source", "tokens"),
		Empty: "No SDK client information in these results.",
	}
	var order []string
	members := map[string][]int{} // workload indices per client
	for i, w := range r.Workloads {
		if w.Client == nil {
			continue
		}
		if _, ok := members[w.Client.Name]; !ok {
			order = append(order, w.Client.Name)
		}
		members[w.Client.Name] = append(members[w.Client.Name], i)
	}
	for _, name := range order {
		idx := members[name]
		c := r.Workloads[idx[0]].Client
		p := func(f ...string) string {
			tokens := []any{"workloads", idx[0], "client"}
			for _, s := range f {
				tokens = append(tokens, s)
			}
			return jsonPtr(tokens...)
		}
		names := make([]string, len(idx))
		srcs := make([]string, len(idx))
		for j, i := range idx {
			names[j], srcs[j] = r.Workloads[i].Name, jsonPtr("workloads", i, "name")
		}
		sort.Strings(names)
		row := []htmlCell{
			textCell(c.Name, p("name")),
			{Text: yesNo(c.Shared), Src: p("shared"), Kind: kindYesNo},
			listCell(slices.Compact(names), srcExpr("list", srcs...)),
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
	return t
}

// retryQuotaTable lists the workloads whose SDK client ran out of retry
// quota: requests that failed with QuotaExceededError, their retry not
// sent.
func retryQuotaTable(r *report.Results) *htmlTable {
	t := &htmlTable{
		ID:    "retry-quota",
		Title: "Retry quota exhausted",
		Note: "Requests that failed with QuotaExceededError: the SDK client's retry token bucket was empty, so the SDK did not send their retry " +
			"(a retry after a throttle costs 5 tokens, other retries 14, a first-attempt success gives 1 back). " +
			"from s and to s are the seconds of the first and last such failure (−1: the results have no per-second failures).",
		Header: tableHeads("workload", "client", "retry bucket", "from s", "to s", "requests", "of requests%"),
		Empty:  "No SDK client ran out of retry quota.",
	}
	for i, w := range r.Workloads {
		q := w.RetryQuotaExhausted
		if q == nil || q.Requests == 0 {
			continue
		}
		p := func(f ...string) string {
			tokens := []any{"workloads", i}
			for _, s := range f {
				tokens = append(tokens, s)
			}
			return jsonPtr(tokens...)
		}
		bucket := htmlCell{Text: NotApplicable, Src: p("client"), Kind: kindEmpty}
		if w.Client != nil {
			bucket = textCell(w.Client.RetryBucket.Value, p("client", "retry_bucket", "value"))
		}
		t.Rows = append(t.Rows, []htmlCell{
			textCell(w.Name, p("name")),
			textCell(q.Client, p("retry_quota_exhausted", "client")),
			bucket,
			numCell(KindSeconds, float64(q.FirstS), p("retry_quota_exhausted", "first_s")),
			numCell(KindSeconds, float64(q.LastS), p("retry_quota_exhausted", "last_s")),
			countCell(q.Requests, p("retry_quota_exhausted", "requests")),
			numCell(KindShare, shareOf(float64(q.Requests), float64(w.Requests)),
				srcExpr("ratio", p("retry_quota_exhausted", "requests"), p("requests"))),
		})
	}
	return t
}

func keyTable(r *report.Results) *htmlTable {
	t := &htmlTable{
		ID:    "keys",
		Title: "Keys",
		Note:  "Workloads aggregated by the key they use. A key has no quota of its own: its callers' buckets do.",
		Header: tableHeads("key", "workloads", "buckets", "sent/s", "goodput/s", "requests", "ok",
			"attempts", "thr-att", "thr-att%"),
		Empty: "No workload names a key.",
	}
	byKey := map[string][]int{}
	var keys []string
	for i, w := range r.Workloads {
		if w.Key == "" {
			continue
		}
		if _, ok := byKey[w.Key]; !ok {
			keys = append(keys, w.Key)
		}
		byKey[w.Key] = append(byKey[w.Key], i)
	}
	sort.Strings(keys)
	for _, k := range keys {
		idx := byKey[k]
		paths := func(f string) []string {
			ps := make([]string, len(idx))
			for j, i := range idx {
				ps[j] = jsonPtr("workloads", i, f)
			}
			return ps
		}
		var names, buckets []string
		var sent, good float64
		var req, ok, att, thr int64
		for _, i := range idx {
			w := r.Workloads[i]
			names = append(names, w.Name)
			buckets = append(buckets, w.Bucket)
			sent += w.SentPerS
			good += w.GoodputPerS
			req += w.Requests
			ok += w.OK
			att += w.Attempts
			thr += w.ThrottledAttempts
		}
		sort.Strings(names)
		sort.Strings(buckets)
		t.Rows = append(t.Rows, []htmlCell{
			textCell(k, jsonPtr("workloads", idx[0], "key")),
			listCell(slices.Compact(names), srcExpr("list", paths("name")...)),
			listCell(slices.Compact(buckets), srcExpr("list", paths("bucket")...)),
			numCell(KindRate, sent, srcExpr("sum", paths("sent_per_s")...)),
			numCell(KindRate, good, srcExpr("sum", paths("goodput_per_s")...)),
			countCell(req, srcExpr("sum", paths("requests")...)),
			countCell(ok, srcExpr("sum", paths("ok")...)),
			countCell(att, srcExpr("sum", paths("attempts")...)),
			countCell(thr, srcExpr("sum", paths("throttled_attempts")...)),
			numCell(KindShare, shareOf(float64(thr), float64(att)),
				srcExpr("ratio", srcExpr("sum", paths("throttled_attempts")...), srcExpr("sum", paths("attempts")...))),
		})
	}
	return t
}

func couplingTable(r *report.Results) *htmlTable {
	t := &htmlTable{
		ID:    "coupling",
		Title: "Coupling",
		Note:  "Each workload run alone, then all together: coupling% = 1 − goodput together / goodput alone.",
		Header: tableHeads("workload", "bucket", "goodput/s alone", "goodput/s together", "coupling%",
			"thr-att% alone", "thr-att% together", "p99 ms alone", "p99 ms together", "shares bucket with", "shares key with"),
		Empty: "Run with --isolate to measure coupling.",
	}
	for i, c := range r.Coupling {
		p := func(f string) string { return jsonPtr("coupling", i, f) }
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
	return t
}

func eventTable(r *report.Results) *htmlTable {
	t := &htmlTable{
		ID:     "events",
		Title:  "Events and blast radius",
		Note:   "Workloads whose requests failed other than by throttling from the event's second on; seconds are inclusive.",
		Header: tableHeads("at s", "action", "key", "event error", "affected workload", "from s", "to s", "failed", "error code", "count"),
		Empty:  "No lifecycle events.",
	}
	for i, e := range r.Events {
		p := func(f string) string { return jsonPtr("events", i, f) }
		head := []htmlCell{
			numCell(KindSeconds, e.AtS, p("at_s")), textCell(e.Action, p("action")), textCell(e.Key, p("key")), textCell(e.Error, p("error")),
		}
		if len(e.Affected) == 0 {
			row := append(append([]htmlCell{}, head...), htmlCell{Text: "none", Src: p("affected"), Kind: kindEmpty, Class: "label"})
			t.Rows = append(t.Rows, row)
			continue
		}
		for j, im := range e.Affected {
			q := func(f string) string { return jsonPtr("events", i, "affected", j, f) }
			imp := []htmlCell{
				textCell(im.Workload, q("workload")),
				numCell(KindSeconds, im.FromS, q("from_s")), numCell(KindSeconds, im.ToS, q("to_s")),
				countCell(im.Failed, q("failed")),
			}
			codes := sortedKeys(im.Errors)
			if len(codes) == 0 {
				t.Rows = append(t.Rows, append(append(append([]htmlCell{}, head...), imp...), htmlCell{Text: NotApplicable, Src: q("errors"), Kind: kindEmpty}))
				continue
			}
			for _, code := range codes {
				row := append(append([]htmlCell{}, head...), imp...)
				row = append(row, keyCell(code, jsonPtr("events", i, "affected", j, "errors", code)), countCell(im.Errors[code], jsonPtr("events", i, "affected", j, "errors", code)))
				t.Rows = append(t.Rows, row)
			}
		}
	}
	return t
}

func thresholdTable(r *report.Results) *htmlTable {
	t := &htmlTable{
		ID:     "thresholds",
		Title:  "Thresholds",
		Note:   "Evaluated on the run's totals; rates at real-world size (measured / scale).",
		Header: tableHeads("workload", "expression", "measured", "limit", "unit", "result"),
		Empty:  "No thresholds were evaluated.",
	}
	for i, th := range r.Thresholds {
		p := func(f string) string { return jsonPtr("thresholds", i, f) }
		res := htmlCell{Text: passFail(th.Pass), Src: p("pass"), Kind: kindPass, Class: "fail"}
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
	return t
}

func passFail(b bool) string {
	if b {
		return "pass"
	}
	return "FAIL"
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
