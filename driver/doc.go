// Package driver replays a scenario's workloads open-loop against a KMS
// endpoint through aws-sdk-go-v2 and records latency and throttling.
//
// Each workload has an arrival process (traffic.Arrival, the same models
// the simulation uses) that fixes the intended send time of every request
// as an absolute offset from the start of the measured window, so
// scheduling error never accumulates. One scheduler goroutine per
// workload waits for each intended time (dispatching at once when behind:
// it catches up and never skips), then tries to take a slot of the
// workload's in-flight bound; an arrival that finds the bound full is
// counted as dropped. Latency is measured from the intended time, which
// corrects for coordinated omission; service time is measured per attempt
// from the actual send, by a Finalize-step middleware placed after the
// SDK's "Retry" middleware.
//
// Every workload gets its own SDK client per Region, so its own retry token
// bucket, as a real application has. Keys, aliases, key policies, replicas
// and the ciphertext, MAC and signature pools used by Decrypt, ReEncrypt,
// VerifyMac and Verify workloads are prepared before the measured window
// with the owner account's credentials; that preparation is paced and not
// measured.
//
// [Driver.Run] is synchronous and owns every goroutine it starts. When its
// context is cancelled it stops arrivals, drains in-flight requests for at
// most Options.DrainTimeout (then cancels them: such requests are recorded
// as failed with the code "Canceled") and returns partial results.
//
// Options.Limits cap requests and cost and stop a run whose throttled
// share in a quota bucket grows too large (package guard); the results
// then carry the stop reason. Target aws (real KMS) is guarded further:
// New refuses a scenario touching accounts not in Options.AllowAccounts
// (guard.CheckAccounts), CheckAccess verifies through STS whom each
// account's credentials (default chain or assumed role) belong to, Predict
// tells what the run will send and cost, created keys are tagged
// guard.RunIDTag and aliases prefixed guard.AWSAliasPrefix, and every
// created key is scheduled for deletion when Run returns, including after
// cancellation and after a recovered panic. guard.Sweep finds and deletes
// what killed runs left. Endpoint targets are probed first
// (target.Preflight); the SDK calls of each operation, pool items, key
// policies and pacing are package kmscall's.
package driver
