// Package sim replays a scenario as a discrete-event simulation in virtual
// time, at real AWS rates, sending nothing: `kmsload simulate`.
//
// The model follows what `kmsload run` does against the embedded emulator:
//
//   - Arrivals: the arrival processes of a run (traffic.NewArrival:
//     constant, Poisson with the same seeds, phases), open loop, latency
//     from the intended time; the in-flight bound per workload (arrivals
//     that find it full are dropped; scenario.DefaultMaxInFlight by default)
//     and the data-key cache (traffic.KeyCache) as in the driver.
//   - Quotas: every attempt is decided by a quota.Model built from the
//     same quota.Config, with the virtual instant as its clock; windows
//     start with the measured window (Options.Start is a whole second).
//   - Keys: the quota is charged first, then the key answers as the
//     emulator does: AccessDeniedException (key policy, grants, AWS-managed
//     keys used only by their account), DisabledException,
//     KMSInvalidStateException (pending deletion), NotFoundException (no
//     replica in the Region). Lifecycle events change state at their time
//     (disable, enable, schedule and cancel deletion, put-key-policy;
//     rotate changes nothing a request sees); shift-traffic moves a
//     workload's new requests to its client in another Region, and their
//     attempts are charged in the results to that Region's quota bucket
//     (report.Workload.BucketAttempts), as the driver charges them.
//   - Service time: Options.Latency (the emulator's --latency model,
//     emulator.ParseLatency), applied to every attempt after the quota
//     decision; by default 0, so answers come at the instant of the
//     request and latency is retry backoff alone.
//   - SDK clients, resolved as the driver resolves them
//     (scenario.Scenario.ResolveClient): each setting from Options.Retry
//     (retry mode only), Options.Client, the workload's client: block,
//     the scenario's client: block, Options.SDKEnv (AWS_RETRY_MODE and
//     AWS_MAX_ATTEMPTS, as the caller read them), then the SDK's
//     defaults. A workload has a client of its own in each Region it
//     sends to; workloads with the same client.shared name send through
//     one client per caller account and Region, so they drain one retry
//     token bucket and feed one adaptive rate limiter. Each result's
//     Client gives the settings with their sources, and
//     RetryQuotaExhausted when the bucket ran dry, as in a run.
//   - SDK retries, as aws-sdk-go-v2 v1.48.0 aws/retry does them: standard
//     mode makes up to max_attempts attempts (3 by default), retries
//     throttles after a full-jitter backoff of rand x min(1 s x 2^(n-1),
//     max_backoff) (the cap applies before the jitter; 20 s by default),
//     takes 5 tokens per throttle retry from the client's retry token
//     bucket of retry_bucket tokens (500 by default; a request finding it
//     short fails with QuotaExceededError; retry_bucket none removes the
//     quota), refunds the retry's cost when the retry succeeds and adds 1
//     token when a first attempt does. Adaptive mode adds the SDK's
//     client-side rate limiter (adaptiveRateLimit: cubic rate, beta 0.7,
//     scale 0.4, smoothed measured rate in half-second buckets, a token
//     bucket enabled from the first throttle) in front of every attempt.
//     Only throttles are retried: the model produces no other retryable
//     error. The jitter draw of each retry is traffic.JitterDraw's, a hash
//     of the jitter seed (Options.JitterSeed, by default the seed), the
//     workload, the request's intended time and the attempt: a run with
//     driver.Options.JitterSeed (kmsload run --jitter-seed) set to the
//     same seed backs off request for request alike, so the two can be
//     compared without the jitter's spread.
//
// Results are recorded into a record.Recorder with virtual times, so
// results.json, the text and HTML reports and the interval logs are those
// of a run, marked Results.Simulated with Target.Kind "simulated".
//
// Cost and memory: the loop keeps only requests in flight (a binary heap
// of plain values: retries waiting for their backoff and answers waiting
// for their service time; answers without service time are handled at
// once), the next arrival of each workload, and the Recorder's per-second
// aggregates; it keeps nothing per request, so memory grows with the
// simulated length only by the results' per-second data (the series, one
// interval-log line and the failures of each second: about 1 KB per
// second per workload). Recording runs on a second goroutine fed with
// batches. The quota decision (quota.Model.Allow, about
// 130 ns on the project's 2-core machine) is most of the cost: an hour of
// 120,000 requests/s (scenarios/quickstart.yaml at scale 1, 4.3e8
// attempts) takes about 2 minutes there (README.md has the figure).
//
// Not modelled: transport errors and timeouts, request validation errors
// (key usage, payload limits), the emulator's --fault injection, and the
// time an event's own API call takes (events act at their instant).
package sim
