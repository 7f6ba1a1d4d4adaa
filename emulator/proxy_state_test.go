package emulator_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsload/kmsload/emulator"
)

func TestUpstreamProxy(t *testing.T) {
	t.Parallel()
	upstream, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var forwarded atomic.Int64
	var lastTarget atomic.Value
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		forwarded.Add(1)
		lastTarget.Store(r.Header.Get("X-Amz-Target") + " " + r.Header.Get("Authorization")[:40])
		upstream.ServeHTTP(w, r)
	}))
	t.Cleanup(up.Close)

	proxy, ts := start(t, emulator.Options{Upstream: up.URL})
	c := client(ts, acctA, "us-east-1")
	md := createKey(t, c, nil)
	ecc := createKey(t, c, &kms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeSignVerify})
	if got := forwarded.Load(); got != 2 {
		t.Fatalf("upstream saw %d requests; want 2", got)
	}
	if got := lastTarget.Load().(string); got[:len("TrentService.CreateKey AWS4-HMAC-SHA256 Credential="+acctA)] != "TrentService.CreateKey AWS4-HMAC-SHA256 Credential="+acctA {
		t.Errorf("forwarded headers = %q; want the original target and Authorization", got)
	}
	enc, err := c.Encrypt(ctx(), &kms.EncryptInput{KeyId: md.KeyId, Plaintext: []byte("via proxy")})
	if err != nil {
		t.Fatalf("Encrypt through the proxy: %v", err)
	}
	dec, err := c.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
	if err != nil || string(dec.Plaintext) != "via proxy" {
		t.Fatalf("Decrypt through the proxy = (%q, %v)", dec.Plaintext, err)
	}
	// Upstream errors pass through unchanged.
	_, err = c.DescribeKey(ctx(), &kms.DescribeKeyInput{KeyId: aws.String("missing")})
	wantCode(t, "DescribeKey of a missing key through the proxy", err, "NotFoundException")

	proxy.SetQuota(scaledModel(t, 0.002)) // symmetric 200/s, ECC 2/s
	before := forwarded.Load()
	for i := 0; i < 3; i++ {
		_, err := c.Sign(ctx(), &kms.SignInput{KeyId: ecc.KeyId, Message: []byte("m"), SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
		want := ""
		if i == 2 {
			want = "ThrottlingException"
		}
		wantCode(t, "Sign through the proxy", err, want)
	}
	if got := forwarded.Load() - before; got != 2 {
		t.Errorf("upstream saw %d of 3 Sign requests; want 2 (the throttled one is answered locally)", got)
	}
	r := raw(t, ts, acctA, "us-east-1", "Sign", `{"KeyId":"`+aws.ToString(ecc.KeyId)+`","Message":"bQ==","SigningAlgorithm":"ECDSA_SHA_256"}`)
	if r.status != 400 || r.body != wantThrottleBody {
		t.Errorf("throttled proxy answer = %d %s; want 400 %s", r.status, r.body, wantThrottleBody)
	}
	if b := stats(t, ts.URL)[acctA+"/us-east-1/ecc"]; b.Allowed != 2 || b.Throttled != 2 {
		t.Errorf("proxy ecc bucket = %+v; want allowed 2, throttled 2 (class learned from CreateKey)", b)
	}
}

func TestSaveLoadState(t *testing.T) {
	t.Parallel()
	srv, ts := start(t, emulator.Options{})
	c := client(ts, acctA, "us-east-1")
	md := createKey(t, c, &kms.CreateKeyInput{MultiRegion: aws.Bool(true), Tags: []types.Tag{{TagKey: aws.String("k"), TagValue: aws.String("v")}}})
	if _, err := c.ReplicateKey(ctx(), &kms.ReplicateKeyInput{KeyId: md.KeyId, ReplicaRegion: aws.String("eu-west-1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateAlias(ctx(), &kms.CreateAliasInput{AliasName: aws.String("alias/saved"), TargetKeyId: md.KeyId}); err != nil {
		t.Fatal(err)
	}
	ecc := createKey(t, c, &kms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeSignVerify})
	pub, err := c.GetPublicKey(ctx(), &kms.GetPublicKeyInput{KeyId: ecc.KeyId})
	if err != nil {
		t.Fatal(err)
	}
	g, err := c.CreateGrant(ctx(), &kms.CreateGrantInput{KeyId: md.KeyId, GranteePrincipal: aws.String(acctB), Operations: []types.GrantOperation{types.GrantOperationDecrypt}})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := c.Encrypt(ctx(), &kms.EncryptInput{KeyId: aws.String("alias/saved"), Plaintext: []byte("persist")})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "state.json")
	if err := srv.SaveState(path); err != nil {
		t.Fatalf("SaveState: %v", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}

	srv2, ts2 := start(t, emulator.Options{})
	if err := srv2.LoadState(path); err != nil {
		t.Fatalf("LoadState: %v", err)
	}
	c2 := client(ts2, acctA, "us-east-1")
	dec, err := c2.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
	if err != nil || string(dec.Plaintext) != "persist" {
		t.Errorf("Decrypt after LoadState = (%q, %v); want persist", dec.Plaintext, err)
	}
	west := client(ts2, acctA, "eu-west-1")
	if dec, err := west.Decrypt(ctx(), &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}); err != nil || string(dec.Plaintext) != "persist" {
		t.Errorf("replica Decrypt after LoadState = (%q, %v); want persist", dec.Plaintext, err)
	}
	pub2, err := c2.GetPublicKey(ctx(), &kms.GetPublicKeyInput{KeyId: ecc.KeyId})
	if err != nil || string(pub2.PublicKey) != string(pub.PublicKey) {
		t.Errorf("GetPublicKey after LoadState differs (err %v)", err)
	}
	lt, err := c2.ListResourceTags(ctx(), &kms.ListResourceTagsInput{KeyId: aws.String("alias/saved")})
	if err != nil || len(lt.Tags) != 1 {
		t.Errorf("ListResourceTags after LoadState = %v, %v; want one tag", lt, err)
	}
	lg, err := c2.ListGrants(ctx(), &kms.ListGrantsInput{KeyId: md.KeyId})
	if err != nil || len(lg.Grants) != 1 || aws.ToString(lg.Grants[0].GrantId) != aws.ToString(g.GrantId) {
		t.Errorf("ListGrants after LoadState = %v, %v; want the grant", lg, err)
	}

	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"version":99}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := srv2.LoadState(bad); !errors.Is(err, emulator.ErrBadState) {
		t.Errorf("LoadState(version 99) = %v; want ErrBadState", err)
	}
	if _, err := c2.DescribeKey(ctx(), &kms.DescribeKeyInput{KeyId: md.KeyId}); err != nil {
		t.Errorf("a failed LoadState lost the state: %v", err)
	}
}
