package emulator_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsload/kmsload/emulator"
	"github.com/kmsload/kmsload/quota"
)

const wantThrottleBody = `{"__type":"ThrottlingException","message":"You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls."}`

// scaledModel returns the AWS default quotas scaled by scale (0.001 gives
// us-east-1 a symmetric quota of 100/s).
func scaledModel(t *testing.T, scale float64) *quota.Model {
	t.Helper()
	return scaledModelB(t, scale)
}

func scaledModelB(t testing.TB, scale float64) *quota.Model {
	t.Helper()
	cfg := quota.DefaultConfig()
	cfg.Scale = scale
	m, err := quota.New(cfg)
	if err != nil {
		t.Fatalf("quota.New: %v", err)
	}
	return m
}

// stats reads /_kmsload/stats.
func stats(t *testing.T, url string) map[string]quota.BucketStats {
	t.Helper()
	resp, err := http.Get(url + "/_kmsload/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list []quota.BucketStats
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatalf("stats: %v", err)
	}
	out := map[string]quota.BucketStats{}
	for _, b := range list {
		out[b.Bucket] = b
	}
	return out
}

func TestThrottlingOnTheWire(t *testing.T) {
	t.Parallel()
	clk := &fixedClock{now: t0}
	srv, ts := start(t, emulator.Options{Clock: clk.Now})
	c := client(ts, acctA, "us-east-1")
	md := createKey(t, c, nil) // provisioned with quotas off
	srv.SetQuota(scaledModel(t, 0.001))
	if srv.Quota() == nil {
		t.Fatal("Quota() = nil after SetQuota")
	}

	ok, throttled := 0, 0
	for i := 0; i < 150; i++ {
		_, err := c.GenerateDataKey(ctx(), &kms.GenerateDataKeyInput{KeyId: md.KeyId, KeySpec: types.DataKeySpecAes256})
		switch code(err) {
		case "":
			ok++
		case "ThrottlingException":
			throttled++
		default:
			t.Fatalf("GenerateDataKey %d: %v", i, err)
		}
	}
	if ok != 100 || throttled != 50 {
		t.Errorf("150 GenerateDataKey in one second at 100/s: ok=%d throttled=%d; want 100 and 50", ok, throttled)
	}

	r := raw(t, ts, acctA, "us-east-1", "Encrypt", `{"KeyId":"`+aws.ToString(md.KeyId)+`","Plaintext":"aGk="}`)
	if r.status != http.StatusBadRequest || r.body != wantThrottleBody {
		t.Errorf("throttled raw answer = %d %s; want 400 %s", r.status, r.body, wantThrottleBody)
	}
	if r.header.Get("x-amzn-RequestId") == "" || r.header.Get("Content-Type") != "application/x-amz-json-1.1" {
		t.Errorf("throttled answer headers = %v; want x-amzn-RequestId and application/x-amz-json-1.1", r.header)
	}
	if got, want := r.header.Get(quota.HeaderThrottledBy), acctA+"/us-east-1/symmetric"; got != want {
		t.Errorf("throttled answer %s = %q; want the bucket that throttled, %q", quota.HeaderThrottledBy, got, want)
	}
	// GenerateRandom shares the symmetric bucket.
	_, err := c.GenerateRandom(ctx(), &kms.GenerateRandomInput{NumberOfBytes: aws.Int32(8)})
	wantCode(t, "GenerateRandom in a full second", err, "ThrottlingException")

	st := stats(t, ts.URL)
	b := st[acctA+"/us-east-1/symmetric"]
	if b.Allowed != 100 || b.Throttled != 52 {
		t.Errorf("stats of %s/us-east-1/symmetric = allowed %d throttled %d; want 100 and 52", acctA, b.Allowed, b.Throttled)
	}

	clk.Set(t0.Add(time.Second))
	if _, err := c.Encrypt(ctx(), &kms.EncryptInput{KeyId: md.KeyId, Plaintext: []byte("x")}); err != nil {
		t.Errorf("Encrypt in the next second: %v", err)
	}
	// Management APIs have their own buckets: DescribeKey is not throttled
	// by the full symmetric bucket.
	if _, err := c.DescribeKey(ctx(), &kms.DescribeKeyInput{KeyId: md.KeyId}); err != nil {
		t.Errorf("DescribeKey: %v", err)
	}
	// CreateKey at 5/s x 0.001 is floored at 1/s, and its bucket holds 10 s
	// of that (api_burst_seconds): the 11th at one instant is throttled.
	for i := range 10 {
		_, err = c.CreateKey(ctx(), &kms.CreateKeyInput{})
		wantCode(t, fmt.Sprintf("CreateKey %d", i+1), err, "")
	}
	_, err = c.CreateKey(ctx(), &kms.CreateKeyInput{})
	wantCode(t, "11th CreateKey at one instant", err, "ThrottlingException")

	srv.SetQuota(nil)
	if _, err := c.CreateKey(ctx(), &kms.CreateKeyInput{}); err != nil {
		t.Errorf("CreateKey with quotas off: %v", err)
	}
	if got := stats(t, ts.URL); len(got) != 0 {
		t.Errorf("stats with quotas off = %v; want []", got)
	}
}

func TestAsymmetricQuotaClass(t *testing.T) {
	t.Parallel()
	srv, ts := start(t, emulator.Options{})
	c := client(ts, acctA, "us-east-1")
	ecc := createKey(t, c, &kms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeSignVerify})
	sym := createKey(t, c, nil)
	srv.SetQuota(scaledModel(t, 0.002)) // ECC 1000 x 0.002 = 2/s; symmetric 200/s
	for i := 0; i < 3; i++ {
		_, err := c.Sign(ctx(), &kms.SignInput{KeyId: ecc.KeyId, Message: []byte("m"), SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
		want := ""
		if i == 2 {
			want = "ThrottlingException"
		}
		wantCode(t, fmt.Sprintf("Sign %d at 2/s", i), err, want)
	}
	if _, err := c.Encrypt(ctx(), &kms.EncryptInput{KeyId: sym.KeyId, Plaintext: []byte("x")}); err != nil {
		t.Errorf("Encrypt while the ECC bucket is full: %v", err)
	}
	st := stats(t, ts.URL)
	if b := st[acctA+"/us-east-1/ecc"]; b.Allowed != 2 || b.Throttled != 1 {
		t.Errorf("ecc bucket = %+v; want allowed 2, throttled 1", b)
	}
	// A request for a key that does not exist is charged as symmetric.
	_, err := c.Sign(ctx(), &kms.SignInput{KeyId: aws.String("no-such-key"), Message: []byte("m"), SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
	wantCode(t, "Sign with an unknown key", err, "NotFoundException")
	if b := stats(t, ts.URL)[acctA+"/us-east-1/symmetric"]; b.Allowed != 2 {
		t.Errorf("symmetric bucket after Encrypt and an unknown-key Sign = allowed %d; want 2", b.Allowed)
	}
}

func TestCrossAccount(t *testing.T) {
	t.Parallel()
	srv, ts := start(t, emulator.Options{})
	owner := client(ts, acctA, "us-east-1")
	other := client(ts, acctB, "us-east-1")
	md := createKey(t, owner, nil)
	if _, err := owner.CreateAlias(ctx(), &kms.CreateAliasInput{AliasName: aws.String("alias/shared"), TargetKeyId: md.KeyId}); err != nil {
		t.Fatal(err)
	}
	aliasARN := "arn:aws:kms:us-east-1:" + acctA + ":alias/shared"

	// Bare ids and alias names resolve only in the caller's own account.
	for _, ref := range []string{aws.ToString(md.KeyId), "alias/shared"} {
		_, err := other.Encrypt(ctx(), &kms.EncryptInput{KeyId: aws.String(ref), Plaintext: []byte("x")})
		wantCode(t, "cross-account Encrypt by "+ref, err, "NotFoundException")
	}
	// By ARN the key is found, but the default policy does not allow B.
	for _, ref := range []string{aws.ToString(md.Arn), aliasARN} {
		_, err := other.Encrypt(ctx(), &kms.EncryptInput{KeyId: aws.String(ref), Plaintext: []byte("x")})
		wantCode(t, "cross-account Encrypt by ARN under the default policy", err, "AccessDeniedException")
	}
	_, err := other.ScheduleKeyDeletion(ctx(), &kms.ScheduleKeyDeletionInput{KeyId: md.Arn})
	wantCode(t, "cross-account ScheduleKeyDeletion", err, "NotFoundException")

	policy := `{"Version":"2012-10-17","Statement":[
	  {"Sid":"root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acctA + `:root"},"Action":"kms:*","Resource":"*"},
	  {"Sid":"b","Effect":"Allow","Principal":{"AWS":"` + acctB + `"},"Action":["kms:Encrypt","kms:Decrypt","kms:GenerateDataKey*","kms:DescribeKey"],"Resource":"*"}]}`
	if _, err := owner.PutKeyPolicy(ctx(), &kms.PutKeyPolicyInput{KeyId: md.KeyId, PolicyName: aws.String("default"), Policy: aws.String(policy)}); err != nil {
		t.Fatalf("PutKeyPolicy: %v", err)
	}
	srv.SetQuota(scaledModel(t, 1))
	for _, ref := range []string{aws.ToString(md.Arn), aliasARN} {
		enc, err := other.Encrypt(ctx(), &kms.EncryptInput{KeyId: aws.String(ref), Plaintext: []byte("x")})
		if err != nil {
			t.Fatalf("cross-account Encrypt by %s with a policy: %v", ref, err)
		}
		if _, err := other.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}); err != nil {
			t.Errorf("cross-account Decrypt without KeyId: %v", err)
		}
	}
	_, err = other.Sign(ctx(), &kms.SignInput{KeyId: md.Arn, Message: []byte("m"), SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
	wantCode(t, "cross-account Sign not in the policy", err, "AccessDeniedException")
	if _, err := other.DescribeKey(ctx(), &kms.DescribeKeyInput{KeyId: md.Arn}); err != nil {
		t.Errorf("cross-account DescribeKey with a policy: %v", err)
	}

	st := stats(t, ts.URL)
	if b := st[acctB+"/us-east-1/symmetric"]; b.Allowed != 5 {
		t.Errorf("caller bucket %s/us-east-1/symmetric allowed = %d; want 5 (4 ok + 1 denied)", acctB, b.Allowed)
	}
	if b, found := st[acctA+"/us-east-1/symmetric"]; found {
		t.Errorf("owner bucket was charged for cross-account calls: %+v", b)
	}
	if b := st[acctB+"/us-east-1/api:DescribeKey"]; b.Allowed != 1 {
		t.Errorf("caller bucket api:DescribeKey allowed = %d; want 1", b.Allowed)
	}
}

func TestGrants(t *testing.T) {
	t.Parallel()
	_, ts := start(t, emulator.Options{})
	owner := client(ts, acctA, "us-east-1")
	other := client(ts, acctB, "us-east-1")
	md := createKey(t, owner, nil)

	_, err := other.GenerateDataKey(ctx(), &kms.GenerateDataKeyInput{KeyId: md.Arn, KeySpec: types.DataKeySpecAes256})
	wantCode(t, "GenerateDataKey before the grant", err, "AccessDeniedException")

	g, err := owner.CreateGrant(ctx(), &kms.CreateGrantInput{
		KeyId: md.KeyId, GranteePrincipal: aws.String("arn:aws:iam::" + acctB + ":role/app"),
		RetiringPrincipal: aws.String("arn:aws:iam::" + acctB + ":root"),
		Operations:        []types.GrantOperation{types.GrantOperationGenerateDataKey, types.GrantOperationDecrypt},
		Name:              aws.String("app"),
	})
	if err != nil {
		t.Fatalf("CreateGrant: %v", err)
	}
	if len(aws.ToString(g.GrantId)) != 64 || aws.ToString(g.GrantToken) == "" {
		t.Errorf("CreateGrant = (%q, %q); want a 64-hex id and a token", aws.ToString(g.GrantId), aws.ToString(g.GrantToken))
	}
	dk, err := other.GenerateDataKey(ctx(), &kms.GenerateDataKeyInput{KeyId: md.Arn, KeySpec: types.DataKeySpecAes256})
	if err != nil {
		t.Fatalf("GenerateDataKey with a grant: %v", err)
	}
	if _, err := other.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: dk.CiphertextBlob}); err != nil {
		t.Errorf("Decrypt with a grant: %v", err)
	}
	_, err = other.Encrypt(ctx(), &kms.EncryptInput{KeyId: md.Arn, Plaintext: []byte("x")})
	wantCode(t, "Encrypt not in the grant", err, "AccessDeniedException")

	lg, err := owner.ListGrants(ctx(), &kms.ListGrantsInput{KeyId: md.KeyId})
	if err != nil || len(lg.Grants) != 1 || aws.ToString(lg.Grants[0].GrantId) != aws.ToString(g.GrantId) || len(lg.Grants[0].Operations) != 2 {
		t.Fatalf("ListGrants = %+v, %v; want the one grant", lg, err)
	}
	_, err = owner.CreateGrant(ctx(), &kms.CreateGrantInput{KeyId: md.KeyId, GranteePrincipal: aws.String(acctB), Operations: []types.GrantOperation{"Fly"}})
	wantCode(t, "CreateGrant with an unknown operation", err, "ValidationException")

	if _, err := owner.RevokeGrant(ctx(), &kms.RevokeGrantInput{KeyId: md.KeyId, GrantId: g.GrantId}); err != nil {
		t.Fatalf("RevokeGrant: %v", err)
	}
	_, err = other.GenerateDataKey(ctx(), &kms.GenerateDataKeyInput{KeyId: md.Arn, KeySpec: types.DataKeySpecAes256})
	wantCode(t, "GenerateDataKey after RevokeGrant", err, "AccessDeniedException")
	_, err = owner.RevokeGrant(ctx(), &kms.RevokeGrantInput{KeyId: md.KeyId, GrantId: g.GrantId})
	wantCode(t, "RevokeGrant twice", err, "InvalidGrantIdException")

	// RetireGrant by token, and by key and id from the retiring principal.
	g2, err := owner.CreateGrant(ctx(), &kms.CreateGrantInput{KeyId: md.KeyId, GranteePrincipal: aws.String(acctB), Operations: []types.GrantOperation{types.GrantOperationEncrypt}, RetiringPrincipal: aws.String("arn:aws:iam::" + acctB + ":root")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Encrypt(ctx(), &kms.EncryptInput{KeyId: md.Arn, Plaintext: []byte("x")}); err != nil {
		t.Errorf("Encrypt with the second grant: %v", err)
	}
	if _, err := other.RetireGrant(ctx(), &kms.RetireGrantInput{KeyId: md.Arn, GrantId: g2.GrantId}); err != nil {
		t.Fatalf("RetireGrant by the retiring principal: %v", err)
	}
	g3, err := owner.CreateGrant(ctx(), &kms.CreateGrantInput{KeyId: md.KeyId, GranteePrincipal: aws.String(acctB), Operations: []types.GrantOperation{types.GrantOperationEncrypt}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := owner.RetireGrant(ctx(), &kms.RetireGrantInput{GrantToken: g3.GrantToken}); err != nil {
		t.Fatalf("RetireGrant by token: %v", err)
	}
	_, err = owner.RetireGrant(ctx(), &kms.RetireGrantInput{GrantToken: g3.GrantToken})
	wantCode(t, "RetireGrant of a retired token", err, "InvalidGrantTokenException")
	lg, err = owner.ListGrants(ctx(), &kms.ListGrantsInput{KeyId: md.KeyId})
	if err != nil || len(lg.Grants) != 0 {
		t.Errorf("ListGrants after retiring all = %d grants, %v; want 0", len(lg.Grants), err)
	}
}

func TestAdminEndpoints(t *testing.T) {
	t.Parallel()
	srv, ts := start(t, emulator.Options{Quota: scaledModel(t, 1)})
	c := client(ts, acctA, "us-east-1")

	get := func(path string) (int, string) {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	post := func(path, body string) (int, string) {
		resp, err := http.Post(ts.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, body := get("/_kmsload/health"); st != 200 || body != `{"status":"ok"}` {
		t.Errorf("health = %d %s; want 200 {\"status\":\"ok\"}", st, body)
	}
	md := createKey(t, c, nil)
	if len(stats(t, ts.URL)) == 0 {
		t.Errorf("stats after CreateKey = []; want the api:CreateKey bucket")
	}

	st, body := post("/_kmsload/clock", `{"advance":"720h"}`)
	var clk struct{ Now time.Time }
	if err := json.Unmarshal([]byte(body), &clk); st != 200 || err != nil || !clk.Now.Equal(t0.Add(720*time.Hour)) {
		t.Errorf("clock advance 720h = %d %s; want now %v", st, body, t0.Add(720*time.Hour))
	}
	if st, _ := post("/_kmsload/clock?advance=1h", ``); st != 200 || !srv.Now().Equal(t0.Add(721*time.Hour)) {
		t.Errorf("clock ?advance=1h: status %d, Now = %v; want %v", st, srv.Now(), t0.Add(721*time.Hour))
	}
	if st, _ := post("/_kmsload/clock", `{"advance":"soon"}`); st != 400 {
		t.Errorf("clock with a bad duration: status %d; want 400", st)
	}
	if st, _ := get("/_kmsload/nope"); st != 404 {
		t.Errorf("unknown admin endpoint: status %d; want 404", st)
	}
	if st, _ := get("/_kmsload/reset"); st != 405 {
		t.Errorf("GET reset: status %d; want 405", st)
	}
	if st, _ := post("/_kmsload/reset", ``); st != 200 {
		t.Errorf("reset: status %d; want 200", st)
	}
	_, err := c.DescribeKey(ctx(), &kms.DescribeKeyInput{KeyId: md.KeyId})
	wantCode(t, "DescribeKey after reset", err, "NotFoundException")
	if got := stats(t, ts.URL); len(got) != 1 {
		t.Errorf("stats after reset and one DescribeKey = %d buckets; want 1", len(got))
	}
}

func TestFaultsAndDelay(t *testing.T) {
	t.Parallel()
	var delayed []string
	_, ts := start(t, emulator.Options{
		Faults: map[string]float64{"GenerateRandom": 1},
		Delay: func(op string, now time.Time) time.Duration {
			if op == "ListAliases" {
				return time.Hour
			}
			delayed = append(delayed, op)
			return 0
		},
	})
	r := raw(t, ts, acctA, "us-east-1", "GenerateRandom", `{"NumberOfBytes":8}`)
	if r.status != 500 || !strings.Contains(r.body, `"__type":"KMSInternalException"`) {
		t.Errorf("GenerateRandom with fault share 1 = %d %s; want 500 KMSInternalException", r.status, r.body)
	}
	if r := raw(t, ts, acctA, "us-east-1", "ListKeys", `{}`); r.status != 200 {
		t.Errorf("ListKeys without faults = %d; want 200", r.status)
	}
	if strings.Join(delayed, ",") != "GenerateRandom,ListKeys" {
		t.Errorf("Delay was called for %v; want [GenerateRandom ListKeys]", delayed)
	}
	// A one-hour delay ends with the request's context.
	c := client(ts, acctA, "us-east-1")
	cctx, cancel := contextWithTimeout(50 * time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err := c.ListAliases(cctx, &kms.ListAliasesInput{})
	if err == nil {
		t.Errorf("ListAliases with a one-hour delay and a 50ms deadline succeeded")
	}
	if time.Since(began) > 10*time.Second {
		t.Errorf("delayed request did not end with its context")
	}
}
