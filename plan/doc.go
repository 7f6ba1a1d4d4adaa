// Package plan predicts, without sending a request, the load a scenario
// puts on each AWS KMS quota bucket, the throttling that load causes, the
// bucket that saturates first and the monthly bill of the key layout.
//
// [Predict] builds a [Plan] from a scenario, a scale and a quota
// configuration. It is a fluid model: requests are a flow, not a random
// sequence, except for Poisson arrivals (below).
//
// # Demand
//
// Every workload's intended rate over the measured window is rate x scale
// (constant and poisson), or the piecewise-linear rate of its phases
// (x scale; nothing after the last phase, as the driver does). A data-key
// cache (max_age A, max_uses U) cuts the calls that reach KMS to
//
//	min(rate, max(rate/U, 1/A))          (rate/U is 0 when U is unset)
//
// at every instant: a cached key serves U arrivals or lives A, whichever
// ends first. This assumes every miss succeeds and refreshes the cache;
// concurrent misses while a refresh is in flight, and throttled misses
// (which leave the cache empty), make a few more calls than predicted.
// A shift-traffic event moves the workload's requests to another Region
// from its time on. Each request is charged as quota.(*Model).Buckets
// charges it: the caller's class bucket (a cross-account call counts
// against the caller) or the API's own bucket, plus, for a key in a custom
// key store, the store's bucket with the operation's store weight.
//
// Demand is integrated over the window in small steps and summed per
// one-second quota window. A bucket's DemandPerS is the time-weighted mean
// over the window; PeakPerS is its busiest window; GrowthFactor is quota
// / PeakPerS, the factor by which every rate can grow before that window
// meets the quota; the bucket with the smallest GrowthFactor saturates
// first.
//
// # Throttled share
//
// With the fixed-window algorithm, window k of a bucket with quota Q and
// demand N_k throttles max(0, N_k - Q) requests, so constant arrivals at
// demand D > Q lose 1 - Q/D of their requests (a bucket at 120% of its
// quota throttles one sixth). Poisson arrivals make N_k random: the
// expected excess E[max(0, N_k - Q)] is taken with N_k normal of mean N_k
// and variance equal to the Poisson part of N_k. With a
// random Options.WindowPhase (the default, as a run's) the run is taken
// to start at a uniformly random instant of a wall-clock second, and the
// prediction is the average over eight such starts; a fixed phase starts
// it at that offset into a second (to the integration step): the partial first and
// last windows throttle less, which matters in runs of a few seconds. With
// the token-bucket algorithm the bucket is simulated as a fluid that
// refills at Q and holds BurstSeconds x Q, starting full.
//
// ThrottledShare is the share of first attempts throttled, which is the
// share of attempts when retries are off. A request charged to two buckets
// (a custom key store's and the caller's) is refused when either is full;
// within a fixed window both fill from the start of the second, so a
// workload's share is the larger of its buckets' shares. Bucket shares are
// computed as if the buckets were independent.
//
// # Retries
//
// With sdk-standard (and adaptive) retries a throttled attempt comes back
// as another attempt, which adds demand. AttemptsPerS and
// AttemptThrottledShare are the fixed point, per window, of
// p = max(0, 1 - Q/A) and A = Σ (first attempts + granted retries), where
// a client (one per workload and Region) wants first·(p + p² + ...) retries
// up to its max attempts and the SDK's retry quota grants at most
//
//	first·(1-p)·NoRetryIncrement / (ThrottleRetryCost·p)
//
// of them (its token balance: +1 per first-attempt success, -5 per throttle
// retry, refunded when the retry succeeds), and, with the fixed-window
// algorithm, at most RetryQuotaTokens/ThrottleRetryCost (100) per window,
// because every throttle of a window comes in one burst at its end, when
// the bucket holds at most 500 tokens. This is an estimate: the measured
// share depends on backoff timing the model does not follow, and the
// adaptive mode's client-side rate limiter is not modelled (it is
// predicted as sdk-standard). Each bucket's RetryModel names what was
// used.
//
// # Cost
//
// [Plan.Cost] is the monthly bill at real size (rates / scale, that is the
// scenario's rates), 730 hours a month, with the window's time-weighted
// mean rate taken to hold all month: $1 per customer-managed key per month,
// each multi-Region replica counted as a key; rotated key material $1 per
// key per month for each of the first two rotations; symmetric requests
// (and management APIs) $0.03 per 10,000, asymmetric (RSA, ECC, ML-DSA)
// $0.15 per 10,000; 20,000 free requests a month, applied once per caller
// account, to its cheapest requests first. See [Cost] for the assumptions.
//
// [Plan.Annotate] writes the prediction next to the measurement in a run's
// results; [WriteText] prints a plan.
package plan
