// Package kmstest runs an AWS KMS emulator with AWS's request quotas
// inside a Go test, as net/http/httptest runs an HTTP server: code under
// test talks to it through an ordinary aws-sdk-go-v2 KMS client and meets
// ThrottlingException, the SDK's retries and retry-quota exhaustion
// ("failed to get rate limit token, retry quota exceeded") and injected
// faults, on a loopback port, without AWS.
//
// # Usage
//
//	func TestSealSheds(t *testing.T) {
//		srv := kmstest.NewServer(t,
//			kmstest.WithSymmetricQuota(5),  // 5 symmetric requests per second
//			kmstest.WithFrozenClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)))
//		key := srv.CreateKey(t, "111111111111", "us-east-1", nil)
//		client := srv.Client("111111111111", "us-east-1", kmstest.NoRetries)
//		svc := myservice.New(client, key) // the code under test
//		for range 5 {
//			if err := svc.Seal(ctx, data); err != nil {
//				t.Fatal(err)
//			}
//		}
//		if err := svc.Seal(ctx, data); !errors.Is(err, myservice.ErrBusy) {
//			t.Errorf("6th Seal in one second: %v; want ErrBusy", err)
//		}
//		srv.Advance(time.Second) // the next quota second
//	}
//
// [NewServer] starts the server for one test and closes it when the test
// ends; [Start] and [Server.Close] do the same outside a test's lifetime.
//
// # Accounts, Regions and clients
//
// [Server.Client] returns a *kms.Client calling as an account (12 digits,
// sent as the access key id) in a Region; [Server.Config] returns the
// aws.Config for code that builds its own clients. Quotas are charged per
// caller account, Region and class as KMS does, and keys live per account
// and Region. Each client has the SDK's default retryer (standard mode, 3
// attempts, a 500-token retry quota of its own) unless an option changes
// it: [NoRetries] turns retries off, [NoBackoff] keeps standard mode
// without the waits. Code that shares one client shares its retry quota.
// Nothing is read from the environment.
//
// # Quotas and the clock
//
// By default the server applies AWS's default quotas ([quota.DefaultConfig]:
// 100,000/s symmetric in us-east-1, 5/s CreateKey, ...), so a test meets
// throttling only when it drives real volume. [WithQuota],
// [WithSymmetricQuota] and [WithQuotaConfig] set limits at start,
// [Server.SetQuota] and [Server.SetQuotaConfig] while the test runs, and
// [WithoutQuotas] turns throttling off. Limits are exact: with the default
// fixed-window algorithm a quota of 5/s lets 5 requests through per clock
// second and throttles the 6th with KMS's own answer. The mutating
// management APIs (CreateKey, CreateAlias, EnableKey, ...) are the
// exception, as on AWS: their buckets hold 10 s of their quota
// (quota.Config.APIBurstSeconds), so 50 CreateKey calls pass at once and
// the 51st is throttled; a volley of state changes on one key is throttled
// after 5 (quota.Config.HotKeyBurst). Quota seconds are seconds of the server's clock:
// time.Now unless [WithClock] or [WithFrozenClock] says otherwise. On the
// real clock a burst can straddle a second boundary; [WithFrozenClock]
// makes counts exact, and [Server.Advance] moves to the next second.
//
// # Setup
//
// Arranging a test costs nothing: requests made through
// [Server.SetupClient] (and [Server.CreateKey]) are never throttled,
// faulted or delayed, are charged to no quota bucket and run while no
// other request is being served.
//
// # Faults and latency
//
// [WithFault] and [Server.SetFault] make a share of an operation's requests
// fail with KMSInternalException (HTTP 500, which the SDK retries);
// [Server.FailNext] fails an exact number. [WithLatency] adds service time
// in the grammar of [emulator.ParseLatency].
//
// # Inspecting
//
// [Server.Stats] and [Server.Bucket] return each quota bucket's limit and
// its allowed and throttled requests; [Server.Requests] counts the attempts
// of an operation that reached the server. [Server.Reset] forgets keys and
// counters; [Server.Emulator] gives the emulator itself.
package kmstest
