// Package emulator is an AWS KMS emulator with AWS's request quotas: an
// [http.Handler] speaking the KMS JSON 1.1 protocol (POST /,
// X-Amz-Target: TrentService.<Operation>, application/x-amz-json-1.1) well
// enough for aws-sdk-go-v2, awscli and boto3.
//
// # Callers, accounts and Regions
//
// The caller account is the SigV4 access key id when it is 12 digits (the
// LocalStack convention), else [Options].DefaultAccount; the Region is the
// SigV4 credential scope, else [Options].DefaultRegion. Keys live per
// account and Region. A bare key id or alias name resolves only in the
// caller's own account; a key in another account must be named by key ARN
// or alias ARN, and its key policy (or a grant) must allow the caller, as
// in KMS. IAM in the caller's account is modelled as allowing everything.
//
// # Keys and cryptography
//
// Supported key specs: SYMMETRIC_DEFAULT, RSA_2048/3072/4096 (encryption
// with RSAES_OAEP_SHA_1/256, or signing with RSASSA_PSS and
// RSASSA_PKCS1_V1_5 over SHA-256/384/512), ECC_NIST_P256/P384/P521 (ECDSA)
// and HMAC_224/256/384/512. Asymmetric key pairs are generated on first
// use. Symmetric ciphertexts are AES-256-GCM with the key's account, id and
// material version in a header and the header plus the canonical (sorted)
// encryption context as additional data, so Decrypt works without a KeyId,
// a changed context fails with InvalidCiphertextException, rotated keys
// still decrypt old ciphertexts, and multi-Region replicas (which share the
// primary's material) decrypt the primary's ciphertexts.
//
// Key states follow KMS: cryptographic calls on a Disabled key fail with
// DisabledException, on a key pending deletion with
// KMSInvalidStateException; once the emulator clock ([Server.Now]) passes a
// key's deletion date the key is gone (NotFoundException) and so is every
// way to decrypt its ciphertexts.
//
// AWS-managed keys: a request naming alias/aws/<service> (by name or alias
// ARN) in the caller's own account and Region creates that account's
// AWS-managed key on first use, as KMS does when a service first uses it
// or DescribeKey names a predefined AWS alias: KeyManager AWS, yearly
// rotation, and a fixed policy letting only its own account use it and
// read it. Changing it (DisableKey, ScheduleKeyDeletion, PutKeyPolicy,
// rotation settings, tags) fails with AccessDeniedException. The AWS
// policy's kms:ViaService condition is not modelled: the account's direct
// calls are allowed as if they came through the service.
//
// # Quotas
//
// With [Options].Quota set (or [Server.SetQuota]), every request is charged
// to its caller account and Region before it runs: cryptographic operations
// by the KeySpec of their key (a key that cannot be found counts as
// symmetric), management operations in their own bucket, and keys in a
// custom key store also in the store's bucket. Cross-account calls are
// charged to the caller. A throttled request gets KMS's exact answer:
// HTTP 400 with
//
//	{"__type":"ThrottlingException","message":"You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls."}
//
// # Admin endpoints
//
//	GET  /_kmsload/health  {"status":"ok"}
//	GET  /_kmsload/stats   JSON array of quota.BucketStats ([] when quotas are off)
//	POST /_kmsload/reset   forget keys, aliases, grants and quota counters
//	POST /_kmsload/clock   {"advance":"720h"} or ?advance=720h: move the clock forward
//
// # Throttling proxy
//
// With [Options].Upstream set, the server emulates nothing: it decides
// quota locally and forwards allowed requests unchanged to the upstream KMS
// endpoint (LocalStack, moto, local-kms or KMS itself), answering throttled
// ones itself. Cryptographic requests count as symmetric unless the proxy
// has seen the key's KeySpec in a CreateKey or DescribeKey answer.
//
// Every failure is a KMS error (HTTP 400 with a JSON __type, or
// KMSInternalException with HTTP 500 for injected faults and internal
// errors); no input crashes the server. Request bodies are read up to 1 MiB.
package emulator
