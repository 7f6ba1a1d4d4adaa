// Package quota models the AWS KMS request quotas that decide when KMS
// answers a call with ThrottlingException.
//
// KMS counts requests per caller account per Region over 1-second intervals.
// Cryptographic operations share one bucket per key class (symmetric, RSA,
// ECC, ML-DSA); each management API has a bucket of its own; a custom key
// store has a bucket per store that is charged in addition to the caller's
// symmetric bucket. A cross-account call counts against the account that
// makes it, so a [Request] names the caller, never the key owner.
//
// A [Model] holds one bucket per [BucketKey] and decides each request at an
// instant the caller passes in, in the style of golang.org/x/time/rate's
// AllowN(t, n): the package never reads the clock, never sleeps and starts no
// goroutine. Two algorithms are offered, and reports should name the one used:
//
//   - [FixedWindow] (the default) keeps a counter per bucket per wall-clock
//     second (now.Truncate(time.Second)), the shape of the Developer Guide's
//     own example: once a second's quota is used, every further request in
//     that second is throttled.
//   - [TokenBucket] uses a golang.org/x/time/rate limiter per bucket that
//     refills at the quota and holds at most BurstSeconds of quota.
//
// Which one real KMS follows inside a second is not documented; both are kept.
//
// Every quota value lives in one table, [DefaultConfig]; a YAML or JSON file
// read by [LoadFile] overrides any of them, and Config.Scale shrinks all of
// them together so that a laptop can reproduce the utilisation of a large
// Region.
//
// A Model is safe for concurrent use: buckets are found through a sharded,
// read-mostly map and each bucket has its own mutex, so requests on different
// buckets do not contend, and an allowed request does not allocate.
package quota
