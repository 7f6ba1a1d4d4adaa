// Package scenario loads, checks and describes kmsload scenario files.
//
// A scenario file is YAML. It names the AWS accounts that take part, the KMS
// keys they own, the workloads (one stream of requests from one caller
// account to one key) and the lifecycle events that happen while the
// workloads run. [Load] and [Parse] decode a file strictly: unknown fields,
// wrong types, malformed rates and durations, dangling references and
// operations a key cannot perform are all errors. Every problem in a file is
// reported at once, as an [Errors] value whose entries carry the file, line
// and column ("file:line:col: message").
//
// Defaults live in one place: [NewScenario], [NewKey], [NewWorkload] and
// [NewEvent] return the values a file starts from before its fields are
// decoded over them. Defaults that depend on other values (a key's Region,
// its KeyUsage, a workload's KeyRef and Region) are filled in after decoding
// and documented on the fields concerned.
//
// [Scenario.Pos] returns where a field of a parsed file was written, so
// that checks outside the package (package lint) can report at the same
// file:line:col.
//
// [Schema] returns a JSON Schema of the file format for editors, for example
// with yaml-language-server:
//
//	# yaml-language-server: $schema=../scenario/schema.json
//
// A Scenario is data only; the driver replays it.
package scenario
