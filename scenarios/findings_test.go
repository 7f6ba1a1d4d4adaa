package scenarios_test

import (
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"

	"github.com/kmsload/kmsload/plan"
	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/scenario"
)

// Test scales: quotas and rates shrink together, so utilisation is the
// file's; a few hundred requests per second keep the tests fast.
const (
	bigScale = 0.004 // us-east-1 quota 400/s
	window   = 3 * time.Second
)

// findings names the test of every scenario file; a file without one fails
// TestEveryScenarioHasAFinding.
var findings = map[string]string{
	"quickstart":                      "TestQuickstart",
	"single-env-key":                  "TestKeysDoNotDecoupleAccountsDo",
	"per-service-keys":                "TestKeysDoNotDecoupleAccountsDo",
	"per-account-keys":                "TestKeysDoNotDecoupleAccountsDo",
	"hybrid":                          "TestHybrid",
	"central-security-account":        "TestCentralSecurityAccount",
	"per-data-class-keys":             "TestPerDataClassKeys",
	"per-app-per-env":                 "TestPerAppPerEnv",
	"aws-managed-vs-customer-managed": "TestAWSManagedVsCustomerManaged",
	"multi-region-dr":                 "TestMultiRegionDR",
	"custom-key-store":                "TestCustomKeyStore",
	"lifecycle-blast-radius":          "TestLifecycleBlastRadius",
	"rotation-mid-run":                "TestRotationMidRun",
	"data-key-caching":                "TestDataKeyCaching",
	"s3-bucket-keys":                  "TestS3BucketKeys",
	"data-key-pairs":                  "TestDataKeyPairs",
}

func TestEveryScenarioHasAFinding(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) < len(findings) {
		t.Fatalf("Glob(*.yaml) = %v, %v; want the %d scenarios", files, err, len(findings))
	}
	for _, f := range files {
		name := strings.TrimSuffix(f, ".yaml")
		s := load(t, name)
		if err := s.Validate(); err != nil {
			t.Errorf("%s: Validate() = %v", f, err)
		}
		if s.Name != name {
			t.Errorf("%s: name %q; want the file's name", f, s.Name)
		}
		if len(s.Description) < 80 || !strings.Contains(s.Description, "claim") && name != "quickstart" {
			t.Errorf("%s: description %q; want the claim under test stated", f, s.Description)
		}
		var offered float64
		for _, w := range s.Workloads {
			offered += w.Rate.PerSecond() * s.Scale
		}
		if offered < 100 || offered > 1600 {
			t.Errorf("%s: offers %.0f requests/s at scale %g; want a few hundred to about 1,500 on a laptop", f, offered, s.Scale)
		}
		if findings[name] == "" {
			t.Errorf("%s has no findings test", f)
		}
	}
}

// TestQuickstart: the noisy s3-ingest throttles the quiet orders-api.
func TestQuickstart(t *testing.T) {
	e := newEnv(t)
	r := e.run(t, shorten(load(t, "quickstart"), 2*time.Second), 0.004, false)
	if got := workload(t, r, "orders-api").ThrottledShare(); got < 0.08 {
		t.Errorf("orders-api throttled share = %.3f; want > 0.08 (120%% of the quota offered)", got)
	}
}

// TestKeysDoNotDecoupleAccountsDo: one key per environment couples the
// quiet orders-api to the noisy s3-ingest; one key per service in the same
// account couples it as much; one account per service removes coupling.
func TestKeysDoNotDecoupleAccountsDo(t *testing.T) {
	single, sr := coupling(t, shorten(load(t, "single-env-key"), 4*time.Second), "orders-api", bigScale)
	t.Logf("single-env-key: orders-api coupling %.3f, throttled %.3f alone, %.3f together", single.Coupling, single.IsolatedThrottledShare, single.CombinedThrottledShare)
	if single.Coupling <= 0.2 {
		t.Errorf("single-env-key: orders-api coupling = %.3f; want > 0.2 (161%% of the prod quota offered)", single.Coupling)
	}
	if single.IsolatedThrottledShare > 0.01 {
		t.Errorf("single-env-key: orders-api alone throttled %.3f; want about 0", single.IsolatedThrottledShare)
	}
	for _, w := range []string{"dev-load-test", "test-integration"} {
		if got := workload(t, sr, w).ThrottledShare(); got != 0 {
			t.Errorf("single-env-key: %s throttled %.3f; want 0 (its own account)", w, got)
		}
	}

	perService, pr := coupling(t, shorten(load(t, "per-service-keys"), 4*time.Second), "orders-api", bigScale)
	t.Logf("per-service-keys: orders-api coupling %.3f", perService.Coupling)
	if d := math.Abs(perService.Coupling - single.Coupling); d > 0.05 {
		t.Errorf("per-service-keys: orders-api coupling = %.3f; want within 0.05 of single-env-key's %.3f", perService.Coupling, single.Coupling)
	}
	if b := workload(t, pr, "orders-api").Bucket; b != workload(t, pr, "s3-ingest").Bucket || len(pr.Buckets) != 1 {
		t.Errorf("per-service-keys: buckets %v; want one bucket for the five keys", pr.Buckets)
	}

	perAccount := shorten(load(t, "per-account-keys"), 2*time.Second)
	r := newEnv(t).run(t, perAccount, bigScale, true)
	if len(r.Coupling) != len(perAccount.Workloads) {
		t.Fatalf("per-account-keys: %d coupling entries; want %d", len(r.Coupling), len(perAccount.Workloads))
	}
	for _, c := range r.Coupling {
		if c.Coupling >= 0.02 || c.CombinedThrottledShare > 0.01 {
			t.Errorf("per-account-keys: %s coupling %.3f, throttled %.3f together; want < 0.02 and about 0", c.Workload, c.Coupling, c.CombinedThrottledShare)
		}
	}
}

// TestHybrid: the light services on the security account's master key
// (through a grant) are throttled as much as the heavy services on their
// own keys: every call is the prod account's.
func TestHybrid(t *testing.T) {
	e := newEnv(t)
	r := e.run(t, shorten(load(t, "hybrid"), window), bigScale, false)
	heavy := workload(t, r, "s3-ingest").ThrottledShare()
	for _, name := range []string{"secrets", "ebs-volumes", "orders-api"} {
		w := workload(t, r, name)
		if got := w.ThrottledShare(); got < 0.15 || math.Abs(got-heavy) > 0.15 {
			t.Errorf("%s throttled %.3f; want > 0.15 and near s3-ingest's %.3f (one bucket)", name, got, heavy)
		}
		if w.Errors["AccessDeniedException"] > 0 || w.Bucket != workload(t, r, "s3-ingest").Bucket {
			t.Errorf("%s: errors %v, bucket %s; want the grant to work and the prod bucket", name, w.Errors, w.Bucket)
		}
	}
}

// TestCentralSecurityAccount: throttling lands in the calling prod
// account's bucket; the security account's quota sees no request; the
// analytics account, on the same data key as the throttled s3-ingest, is
// not throttled.
func TestCentralSecurityAccount(t *testing.T) {
	e := newEnv(t)
	s := load(t, "central-security-account")
	r := e.run(t, shorten(s, window), bigScale, false)
	st := e.stats()
	prod, ok := bucketStats(st, s.Accounts["prod"].ID, "us-east-1", string(quota.Symmetric))
	if !ok || share(prod) < 0.15 {
		t.Errorf("prod bucket %+v; want > 15%% throttled", prod)
	}
	for _, b := range st {
		if b.Account == s.Accounts["security"].ID && b.Allowed+b.Throttled > 0 {
			t.Errorf("security account bucket %s: %d allowed, %d throttled; want no request charged to it", b.Bucket, b.Allowed, b.Throttled)
		}
	}
	if got := workload(t, r, "s3-ingest").ThrottledShare(); got < 0.15 {
		t.Errorf("s3-ingest throttled %.3f; want > 0.15", got)
	}
	if a := workload(t, r, "analytics-reader"); a.ThrottledShare() != 0 || a.OK != a.Requests {
		t.Errorf("analytics-reader: throttled %.3f, %d of %d OK; want 0 throttled, all OK (same key, own quota)", a.ThrottledShare(), a.OK, a.Requests)
	}
}

// TestPerDataClassKeys: the PCI workload, alone on its key, is throttled
// by the internal pipeline through the shared account quota.
func TestPerDataClassKeys(t *testing.T) {
	e := newEnv(t)
	r := e.run(t, shorten(load(t, "per-data-class-keys"), window), bigScale, false)
	pci := workload(t, r, "card-vault")
	if got := pci.ThrottledShare(); got < 0.1 {
		t.Errorf("card-vault throttled %.3f; want > 0.1 (125%% of the quota offered)", got)
	}
	if len(r.Buckets) != 1 || len(r.Buckets[0].Keys) != 3 {
		t.Errorf("Buckets = %+v; want one bucket holding the three class keys", r.Buckets)
	}
}

// TestPerAppPerEnv: the dev load test throttles dev search (own key, same
// account) and not prod (another account).
func TestPerAppPerEnv(t *testing.T) {
	e := newEnv(t)
	r := e.run(t, shorten(load(t, "per-app-per-env"), window), 0.002, false)
	if got := workload(t, r, "search-dev").ThrottledShare(); got < 0.15 {
		t.Errorf("search-dev throttled %.3f; want > 0.15 (the dev load test shares dev's quota)", got)
	}
	for _, name := range []string{"orders-prod", "search-prod"} {
		if w := workload(t, r, name); w.ThrottledShare() != 0 || w.OK != w.Requests {
			t.Errorf("%s: throttled %.3f, %d of %d OK; want none throttled", name, w.ThrottledShare(), w.OK, w.Requests)
		}
	}
}

// TestAWSManagedVsCustomerManaged: aws/s3 traffic throttles the
// customer-managed key's workload as much as itself; the AWS-managed keys
// cost no monthly fee and cannot be disabled.
func TestAWSManagedVsCustomerManaged(t *testing.T) {
	e := newEnv(t)
	s := load(t, "aws-managed-vs-customer-managed")
	r := e.run(t, shorten(s, window), bigScale, false)
	s3, orders := workload(t, r, "s3-default-encryption"), workload(t, r, "orders-api")
	if orders.ThrottledShare() < 0.03 || s3.ThrottledShare() < 0.03 || math.Abs(orders.ThrottledShare()-s3.ThrottledShare()) > 0.06 {
		t.Errorf("throttled: orders-api (CMK) %.3f, s3-default-encryption (aws/s3) %.3f; want both > 0.03 and within 0.06 (one quota)",
			orders.ThrottledShare(), s3.ThrottledShare())
	}
	if s3.Bucket != orders.Bucket {
		t.Errorf("buckets %s and %s; want one", s3.Bucket, orders.Bucket)
	}
	if !s.Keys["aws-s3"].AWSManaged() || s.Keys["orders-cmk"].ManagedBy != scenario.ManagedByCustomer {
		t.Errorf("keys %+v; want aws-s3 AWS managed, orders-cmk customer managed", s.Keys)
	}
	p, err := plan.Predict(s, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Cost.AWSManagedKeys != 2 || p.Cost.Keys != 1 || p.Cost.KeyUSD != 1 {
		t.Errorf("cost: %d AWS-managed keys, %d billed keys, $%.2f for keys; want 2, 1, $1", p.Cost.AWSManagedKeys, p.Cost.Keys, p.Cost.KeyUSD)
	}
	c := e.kms(s.Accounts["prod"].ID, "us-east-1")
	d, err := c.DescribeKey(t.Context(), &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/s3")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.DisableKey(t.Context(), &kms.DisableKeyInput{KeyId: d.KeyMetadata.KeyId})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" {
		t.Errorf("DisableKey(aws/s3) = %v; want AccessDeniedException", err)
	}
}

// TestMultiRegionDR: before failover us-east-1 carries everything without
// throttling; after it, the 20,000/s and 10,000/s Regions throttle, and
// us-west-2 (100,000/s) does not. Replicas decrypt the primary's
// ciphertexts.
func TestMultiRegionDR(t *testing.T) {
	e := newEnv(t)
	s := load(t, "multi-region-dr")
	r := e.run(t, shorten(s, 4*time.Second), 0.005, false)
	acct := s.Accounts["prod"].ID
	st := e.stats()
	for _, tc := range []struct {
		region   string
		min, max float64
	}{
		{"us-east-1", 0, 0.005},
		{"us-west-2", 0, 0.005},
		{"us-east-2", 0.1, 1},
		{"ca-central-1", 0.1, 1},
	} {
		b, ok := bucketStats(st, acct, tc.region, string(quota.Symmetric))
		if !ok || b.Allowed == 0 {
			t.Errorf("%s: bucket %+v; want requests", tc.region, b)
			continue
		}
		if got := share(b); got < tc.min || got > tc.max {
			t.Errorf("%s: throttled share %.3f (quota %.0f/s); want %.3f..%.3f", tc.region, got, b.QuotaPerS, tc.min, tc.max)
		}
	}
	checkout := workload(t, r, "checkout")
	if checkout.OK != checkout.Requests || len(checkout.Errors) > 0 {
		t.Errorf("checkout: %d of %d OK, errors %v; want every Decrypt OK, before and after failover", checkout.OK, checkout.Requests, checkout.Errors)
	}
	if n := len(checkout.Series); n < 4 || checkout.Series[n-1].OK == 0 {
		t.Errorf("checkout series %+v; want successes after failover", checkout.Series)
	}
}

// TestCustomKeyStore: the store's bucket throttles the HSM-backed
// workloads while the account's symmetric bucket has headroom.
func TestCustomKeyStore(t *testing.T) {
	e := newEnv(t)
	s := load(t, "custom-key-store")
	r := e.run(t, shorten(s, window), 0.05, false)
	st := e.stats()
	store, ok := bucketStats(st, "", "us-east-1", string(quota.StoreClass("cks-cloudhsm-1")))
	if !ok || share(store) < 0.1 {
		t.Errorf("store bucket %+v; want > 10%% throttled", store)
	}
	acct, ok := bucketStats(st, s.Accounts["payments"].ID, "us-east-1", string(quota.Symmetric))
	if !ok || acct.Throttled != 0 {
		t.Errorf("account bucket %+v; want no throttling", acct)
	}
	demand := float64(acct.Allowed) / window.Seconds()
	if demand > 0.2*acct.QuotaPerS {
		t.Errorf("account bucket demand %.0f/s of %.0f/s; want under 20%% (headroom)", demand, acct.QuotaPerS)
	}
	if got := workload(t, r, "card-auth").ThrottledShare(); got < 0.1 {
		t.Errorf("card-auth throttled %.3f; want > 0.1", got)
	}
	if w := workload(t, r, "orders-api"); w.ThrottledShare() != 0 {
		t.Errorf("orders-api (standard key) throttled %.3f; want 0", w.ThrottledShare())
	}
	// The results say so too: the throttles are the store's, exactly as
	// the emulator counted them, and the verdict names the store.
	for _, b := range r.Buckets {
		switch b.Name {
		case quota.BucketKey{Region: "us-east-1", Class: quota.StoreClass("cks-cloudhsm-1")}.String():
			if b.Throttled != store.Throttled || b.QuotaPerS != store.QuotaPerS {
				t.Errorf("results' store bucket %+v; want the emulator's %d throttled at %g/s", b, store.Throttled, store.QuotaPerS)
			}
		case acct.Bucket:
			if b.Throttled != 0 {
				t.Errorf("results' account bucket %+v; want no throttling", b)
			}
		}
	}
	if v := strings.Join(strings.Fields(strings.Join(report.VerdictParagraphs(r), " ")), " "); !strings.Contains(v, "(custom key store cks-cloudhsm-1, Region us-east-1, shared by every caller) throttled") {
		t.Errorf("verdict does not name the store's bucket:\n%s", v)
	}
}

// TestLifecycleBlastRadius: disabling the shared key fails every workload
// on it (in both accounts) and not reports; scheduling the reports key's
// deletion fails reports only; the policy lock-out fails analytics only.
func TestLifecycleBlastRadius(t *testing.T) {
	e := newEnv(t)
	r := e.run(t, load(t, "lifecycle-blast-radius"), 0.02, false)
	for _, ev := range r.Events {
		if ev.Error != "" {
			t.Errorf("event %s %s: %s", ev.Action, ev.Key, ev.Error)
		}
	}
	shared := []string{"orders", "billing", "search", "analytics"}
	for _, name := range shared {
		w := workload(t, r, name)
		if n := sumOver(failures(w, "DisabledException"), 1, 1); n < 5 {
			t.Errorf("%s: %d DisabledException in second 1 (shared key disabled); want every request of that second", name, n)
		}
		if n := sumOver(failures(w, "DisabledException"), 3, 6) + sumOver(failures(w, "KMSInvalidStateException"), 0, 6); n != 0 {
			t.Errorf("%s: %d failures while only the reports key was down; want 0", name, n)
		}
	}
	rep := workload(t, r, "reports")
	if n := sumOver(failures(rep, "DisabledException"), 0, 2); n != 0 {
		t.Errorf("reports: %d DisabledException while the shared key was disabled; want 0 (own key)", n)
	}
	if inv, dis := sumOver(failures(rep, "KMSInvalidStateException"), 3, 3), sumOver(failures(rep, "DisabledException"), 4, 4); inv < 5 || dis < 5 {
		t.Errorf("reports: %d KMSInvalidStateException in second 3, %d DisabledException in second 4; want its requests to fail while pending deletion, then disabled", inv, dis)
	}
	if n := sumOver(failures(rep, "DisabledException"), 6, 6); n != 0 {
		t.Errorf("reports: %d failures after enable-key; want 0", n)
	}
	an := workload(t, r, "analytics")
	if n := sumOver(failures(an, "AccessDeniedException"), 6, 6); n < 10 {
		t.Errorf("analytics: %d AccessDeniedException after the policy lock-out; want its requests to fail", n)
	}
	for _, name := range []string{"orders", "billing", "search"} {
		if n := sumOver(failures(workload(t, r, name), "AccessDeniedException"), 0, 7); n != 0 {
			t.Errorf("%s: %d AccessDeniedException; want 0 (the owner account keeps access)", name, n)
		}
	}
}

// TestRotationMidRun: two on-demand rotations, no failed request; the
// Decrypt and ReEncrypt pools, made before the rotations, still work.
func TestRotationMidRun(t *testing.T) {
	e := newEnv(t)
	r := e.run(t, shorten(load(t, "rotation-mid-run"), window), 0.02, false)
	if len(r.Events) != 2 {
		t.Fatalf("events %+v; want two rotations", r.Events)
	}
	for _, ev := range r.Events {
		if ev.Error != "" {
			t.Errorf("rotate at %.1f s: %s", ev.AtS, ev.Error)
		}
	}
	noErrors(t, r)
}

// TestDataKeyCaching: uncached, the producer is throttled; cached, it
// makes one call per 1,000 messages and is not.
func TestDataKeyCaching(t *testing.T) {
	e := newEnv(t)
	r := e.run(t, shorten(load(t, "data-key-caching"), window), bigScale, false)
	un, ca := workload(t, r, "producer-uncached"), workload(t, r, "producer-cached")
	if got := un.ThrottledShare(); got < 0.2 {
		t.Errorf("producer-uncached throttled %.3f; want > 0.2 (150%% of its quota)", got)
	}
	arrivals := ca.CacheHits + ca.Requests + ca.Dropped
	if ca.Requests == 0 || float64(ca.Requests) > 0.01*float64(arrivals) || ca.ThrottledAttempts != 0 || ca.OK != ca.Requests {
		t.Errorf("producer-cached: %d KMS requests for %d messages, %d throttled attempts, %d OK; want under 1%% of the messages, none throttled",
			ca.Requests, arrivals, ca.ThrottledAttempts, ca.OK)
	}
	if ca.GoodputPerS < 0.99*ca.TargetPerS {
		t.Errorf("producer-cached goodput %.1f/s; want its %.1f/s", ca.GoodputPerS, ca.TargetPerS)
	}
}

// TestS3BucketKeys: without bucket keys the S3 traffic is throttled; with
// them about 1% of the requests reach KMS and none is throttled.
func TestS3BucketKeys(t *testing.T) {
	e := newEnv(t)
	r := e.run(t, shorten(load(t, "s3-bucket-keys"), window), bigScale, false)
	for _, name := range []string{"puts", "gets"} {
		if got := workload(t, r, name).ThrottledShare(); got < 0.05 {
			t.Errorf("%s (no bucket keys) throttled %.3f; want > 0.05 (120%% of the quota)", name, got)
		}
		w := workload(t, r, name+"-bucket-keys")
		arrivals := w.CacheHits + w.Requests + w.Dropped
		if w.Requests == 0 || float64(w.Requests) > 0.02*float64(arrivals) || w.ThrottledAttempts != 0 || w.OK != w.Requests {
			t.Errorf("%s-bucket-keys: %d KMS requests for %d S3 requests, %d throttled; want about 1%%, none throttled",
				name, w.Requests, arrivals, w.ThrottledAttempts)
		}
	}
}

// TestDataKeyPairs: RSA data key pairs throttle in the RSA_2048 pair
// bucket, not in the RSA bucket Sign shares; ECC pairs at the same rate
// fit their own bucket; Decrypt on the same key is untouched.
func TestDataKeyPairs(t *testing.T) {
	e := newEnv(t)
	s := shorten(load(t, "data-key-pairs"), window)
	r := e.run(t, s, s.Scale, false)
	if got := workload(t, r, "enroll-rsa").ThrottledShare(); got < 0.5 {
		t.Errorf("enroll-rsa throttled %.3f of its attempts; want > 0.5 (4/s against the 1/s RSA_2048 pair quota)", got)
	}
	for _, name := range []string{"enroll-ecc", "orders-api"} {
		if w := workload(t, r, name); w.ThrottledAttempts != 0 || w.OK != w.Requests {
			t.Errorf("%s: %d throttled attempts, %d of %d ok; want none throttled, all ok", name, w.ThrottledAttempts, w.OK, w.Requests)
		}
	}
	st := e.stats()
	const acct = "111111111111"
	pair, ok := bucketStats(st, acct, "us-east-1", string(quota.PairClass("RSA_2048")))
	if !ok || pair.Throttled == 0 || pair.QuotaPerS != 1 {
		t.Errorf("pair:RSA_2048 bucket = %+v (found %v); want throttling at 1/s", pair, ok)
	}
	if rsa, ok := bucketStats(st, acct, "us-east-1", string(quota.RSA)); !ok || rsa.Throttled != 0 || rsa.Allowed == 0 {
		t.Errorf("rsa bucket = %+v (found %v); want the pairs charged there and none throttled", rsa, ok)
	}
	for _, b := range r.Buckets {
		if b.Name == acct+"/us-east-1/pair:RSA_2048" && (b.Throttled == 0 || b.QuotaPerS != 1) {
			t.Errorf("results bucket %s = %+v; want its throttling reported at quota 1/s", b.Name, b)
		}
		if b.Name == acct+"/us-east-1/rsa" && b.Throttled != 0 {
			t.Errorf("results bucket %s throttled %d; want 0 (the pair bucket throttles)", b.Name, b.Throttled)
		}
	}
}
