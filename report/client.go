package report

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/kmsload/kmsload/failure"
	"github.com/kmsload/kmsload/internal/prose"
)

// Where a client setting came from (ClientSetting.Source).
const (
	// SourceWorkload: the workload's client: block (or its older retry:
	// and max_attempts: fields).
	SourceWorkload = "scenario workload"
	// SourceDefault: the scenario's top-level client: block.
	SourceDefault = "scenario default"
	// SourceEnvironment: the SDK's environment variable (AWS_RETRY_MODE,
	// AWS_MAX_ATTEMPTS); the value names the variable.
	SourceEnvironment = "environment"
	// SourceSharedConfig: the SDK's shared config file (retry_mode,
	// max_attempts of the profile).
	SourceSharedConfig = "shared config"
	// SourceSDK: the SDK's own default.
	SourceSDK = "SDK default"
	// SourceRetryFlag: kmsload run --retry.
	SourceRetryFlag = "--retry flag"
	// SourceStudyVariant: a variant of kmsload study (--vary or variants:).
	SourceStudyVariant = "study variant"
)

// ClientInfo describes the SDK client a workload sent through.
type ClientInfo struct {
	// Name is the shared client's name, or the workload's name for a
	// client of its own.
	Name string `json:"name"`
	// Shared is true when the workloads in Workloads send through this
	// one client (per Region): one retry token bucket, one adaptive rate
	// limiter.
	Shared    bool     `json:"shared"`
	Workloads []string `json:"workloads,omitempty"`
	// Retry is the retry mode (sdk-standard, adaptive, none);
	// MaxAttempts a whole number; MaxBackoff a duration; RetryBucket the
	// number of tokens or "none".
	Retry       ClientSetting `json:"retry"`
	MaxAttempts ClientSetting `json:"max_attempts"`
	MaxBackoff  ClientSetting `json:"max_backoff"`
	RetryBucket ClientSetting `json:"retry_bucket"`
	// RetryTokens is the retry token bucket the run's client started
	// with: RetryBucket at real size times the run's scale, rounded, at
	// least 1 (scenario.EffectiveClient.ScaledTokens), so that it empties
	// in the seconds it would at real size. 0 without a retry quota.
	RetryTokens int `json:"retry_tokens,omitempty"`
}

// RetryBucketText is RetryBucket with its source and, when the run's
// scale changed it, the tokens the run's client had: "500 (SDK default),
// 5 at this scale".
func (c ClientInfo) RetryBucketText() string {
	s := c.RetryBucket.String()
	if n, ok := c.ScaledTokens(); ok {
		s += fmt.Sprintf(", %d at this scale", n)
	}
	return s
}

// ScaledTokens returns RetryTokens and true when the run's scale made them
// differ from RetryBucket, the size at real size.
func (c ClientInfo) ScaledTokens() (int, bool) {
	return c.RetryTokens, c.RetryTokens > 0 && strconv.Itoa(c.RetryTokens) != c.RetryBucket.Value
}

// ClientSetting is one effective client setting and where it came from.
type ClientSetting struct {
	Value string `json:"value"`
	// Source is one of the Source* constants, for the environment and
	// the shared config file followed by the variable or key, such as
	// "environment AWS_RETRY_MODE".
	Source string `json:"source"`
}

// String formats the setting as "adaptive (environment AWS_RETRY_MODE)".
func (s ClientSetting) String() string {
	if s.Source == "" {
		return prose.OrDash(s.Value)
	}
	return fmt.Sprintf("%s (%s)", prose.OrDash(s.Value), s.Source)
}

// QuotaExhaustion says when the SDK's retry quota (its retry token
// bucket) ran dry for a workload's requests: the requests that met a
// throttle or error then failed with QuotaExceededError, without the
// SDK sending their retry.
type QuotaExhaustion struct {
	// Client names the client whose bucket ran dry (ClientInfo.Name).
	Client string `json:"client"`
	// FirstS and LastS are the first and last second of the run in
	// which such a request failed (Second.T).
	FirstS int `json:"first_s"`
	LastS  int `json:"last_s"`
	// Requests counts those requests.
	Requests int64 `json:"requests"`
}

// ComputeQuotaExhaustion returns when and how often w's requests failed
// with QuotaExceededError, from w.FailedBySecond, charged to client; nil
// when none did.
func ComputeQuotaExhaustion(w Workload, client string) *QuotaExhaustion {
	var q *QuotaExhaustion
	for _, sc := range w.FailedBySecond {
		if sc.Code != failure.CodeQuotaExceeded || sc.Count <= 0 {
			continue
		}
		if q == nil {
			q = &QuotaExhaustion{Client: client, FirstS: sc.T, LastS: sc.T}
		}
		q.FirstS, q.LastS = min(q.FirstS, sc.T), max(q.LastS, sc.T)
		q.Requests += sc.Count
	}
	if q == nil && w.Errors[failure.CodeQuotaExceeded] > 0 { // no per-second data
		q = &QuotaExhaustion{Client: client, FirstS: -1, LastS: -1, Requests: w.Errors[failure.CodeQuotaExceeded]}
	}
	return q
}

// ClientGroup is one client of a run and its workloads' exhaustion.
type ClientGroup struct {
	// Info is the client's settings; Workloads send through it.
	Info      ClientInfo
	Workloads []Workload
}

// ClientGroups returns the run's clients in the order of their first
// workload; workloads without client information are left out.
func ClientGroups(r *Results) []*ClientGroup {
	var out []*ClientGroup
	byName := map[string]*ClientGroup{}
	for _, w := range r.Workloads {
		if w.Client == nil {
			continue
		}
		g := byName[w.Client.Name]
		if g == nil {
			g = &ClientGroup{Info: *w.Client}
			byName[w.Client.Name] = g
			out = append(out, g)
		}
		g.Workloads = append(g.Workloads, w)
	}
	return out
}

// MinScaledRetryTokens is the smallest scaled retry token bucket whose
// emptying follows real size closely: 10 retries after a throttle (the
// value of scenario.MinScaledRetryTokens).
const MinScaledRetryTokens = 50

// retryScaleParagraphs warns when the run's scale left an SDK client's
// retry token bucket so small that its emptying comes in coarser steps
// than at real size.
func retryScaleParagraphs(r *Results) []string {
	for _, g := range ClientGroups(r) {
		n, scaled := g.Info.ScaledTokens()
		if !scaled || n >= MinScaledRetryTokens {
			continue
		}
		return []string{fmt.Sprintf("Scale: at scale %g the SDK client of %s has a retry token bucket of %d tokens (%s at real size), "+
			"scaled with the traffic so that it empties in the seconds it would at real size, but in coarser steps (room for %s after a throttle); "+
			"retry-quota exhaustion and the latency it causes follow real size only roughly. kmsload simulate --scale 1 shows real size exactly.",
			r.Scenario.Scale, g.Info.Name, n, prose.OrDash(g.Info.RetryBucket.Value), retries(n/5))}
	}
	return nil
}

// retries says "1 retry" or "n retries".
func retries(n int) string {
	if n == 1 {
		return "1 retry"
	}
	return fmt.Sprintf("%d retries", n)
}

// quotaExhaustionParagraphs explains, per client, when its retry quota ran
// dry and how many requests failed without their retry being sent.
func quotaExhaustionParagraphs(r *Results) []string {
	var out []string
	type exhausted struct {
		name string
		q    QuotaExhaustion
	}
	for _, g := range ClientGroups(r) {
		var es []exhausted
		var total int64
		first, last := -1, -1
		for _, w := range g.Workloads {
			q := w.RetryQuotaExhausted
			if q == nil || q.Requests == 0 {
				continue
			}
			es = append(es, exhausted{w.Name, *q})
			total += q.Requests
			if q.FirstS >= 0 && (first < 0 || q.FirstS < first) {
				first = q.FirstS
			}
			last = max(last, q.LastS)
		}
		if len(es) == 0 {
			continue
		}
		var s strings.Builder
		who := "The SDK client of " + g.Info.Name
		if g.Info.Shared {
			names := make([]string, len(g.Workloads))
			for i, w := range g.Workloads {
				names[i] = w.Name
			}
			who = fmt.Sprintf("Shared SDK client %s (used by %s)", g.Info.Name, prose.And(names))
		}
		fmt.Fprintf(&s, "%s ran out of retry quota", who)
		if first >= 0 {
			fmt.Fprintf(&s, " from second %d to second %d", first, last)
		}
		fmt.Fprintf(&s, ": %d requests failed with QuotaExceededError, without the SDK sending their retry", total)
		if len(es) > 1 || g.Info.Shared {
			parts := make([]string, len(es))
			for i, e := range es {
				parts[i] = fmt.Sprintf("%d of %s", e.q.Requests, e.name)
			}
			fmt.Fprintf(&s, " (%s)", prose.And(parts))
		}
		fmt.Fprintf(&s, ". Its retry token bucket (%s tokens, %s", prose.OrDash(g.Info.RetryBucket.Value), g.Info.RetryBucket.Source)
		if n, scaled := g.Info.ScaledTokens(); scaled {
			fmt.Fprintf(&s, "; %d at this run's scale, which empty as fast as the real-size bucket", n)
		}
		s.WriteString("; a retry after a throttle costs 5, other retries 14, a first-attempt success gives 1 back) was empty")
		if g.Info.Shared {
			s.WriteString("; its workloads drain one bucket together, as goroutines sharing one client in one application do")
		}
		s.WriteString(". A larger retry_bucket, retry_bucket: none, separate clients or adaptive mode (fewer throttled attempts) change this; `kmsload study --vary` measures each.")
		out = append(out, s.String())
	}
	return slices.Clip(out)
}

// WorkloadClient is one workload's effective SDK client, as results show
// it; AnnotateClients fills Client.Workloads.
type WorkloadClient struct {
	Workload string
	Client   ClientInfo
}

// AnnotateClients fills each workload result's Client (for a shared
// client, with every workload of clients that shares it, in clients'
// order) and RetryQuotaExhausted. clients lists every workload of the
// scenario; a result without an entry is left as it is.
func AnnotateClients(ws []Workload, clients []WorkloadClient) {
	members := map[string][]string{}
	byName := map[string]ClientInfo{}
	for _, c := range clients {
		byName[c.Workload] = c.Client
		if c.Client.Shared {
			members[c.Client.Name] = append(members[c.Client.Name], c.Workload)
		}
	}
	for i := range ws {
		info, ok := byName[ws[i].Name]
		if !ok {
			continue
		}
		if info.Shared {
			info.Workloads = members[info.Name]
		}
		ws[i].Client = &info
		ws[i].RetryQuotaExhausted = ComputeQuotaExhaustion(ws[i], info.Name)
	}
}
