// Package failure is the taxonomy of what can go wrong with a request
// kmsload sends: the final codes a request can end with (KMS error codes
// and the client-side codes the driver and the simulation give), the
// failure class each code belongs to, and the codes a scheduled lifecycle
// event is expected to cause. The scenario loader validates a workload's
// expected_failures against it, and the verdict of every run groups a
// workload's failures by it, so both speak of the same classes.
package failure
