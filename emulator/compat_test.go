package emulator_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmsload/kmsload/emulator"
)

// Accounts used by the compatibility tests: the access key id is the
// caller's account.
const (
	compatOwner = "111111111111"
	compatOther = "222222222222"
)

// compatServer starts an emulator with default options on a loopback port.
func compatServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatalf("emulator.New: %v", err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts
}

// clientEnv is the environment for awscli and boto3: no configuration or
// credentials from the machine, the given account as access key id (with
// secret "x") and the test server as endpoint.
func clientEnv(endpoint, account string) []string {
	return clientEnvSecret(endpoint, account, "x")
}

// clientEnvSecret is clientEnv with the given secret access key.
func clientEnvSecret(endpoint, account, secret string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"AWS_ACCESS_KEY_ID="+account,
		"AWS_SECRET_ACCESS_KEY="+secret,
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_ENDPOINT_URL="+endpoint,
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
		"AWS_MAX_ATTEMPTS=1",
	)
}

// boto3Result is one step of testdata/compat/boto3_check.py.
type boto3Result struct {
	OK      bool            `json:"ok"`
	Value   json.RawMessage `json:"value"`
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Status  int             `json:"status"`
}

func TestCompatBoto3(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not installed")
	}
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		t.Skipf("boto3 not importable: %v", err)
	}
	ts := compatServer(t)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "python3", filepath.Join("testdata", "compat", "boto3_check.py"), compatOwner, compatOther)
	cmd.Env = clientEnv(ts.URL, compatOwner)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("boto3_check.py: %v\nstderr:\n%s", err, stderr.String())
	}
	var res map[string]boto3Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("boto3_check.py output is not JSON: %v\n%s", err, stdout.String())
	}

	// Every step and the error code it must end with ("" = success).
	want := map[string]string{
		"create_key":               "",
		"create_alias":             "",
		"describe_alias":           "",
		"encrypt":                  "",
		"decrypt":                  "",
		"encrypt_ctx":              "",
		"decrypt_ctx":              "",
		"decrypt_ctx_wrong":        "InvalidCiphertextException",
		"decrypt_ctx_missing":      "InvalidCiphertextException",
		"generate_data_key":        "",
		"decrypt_data_key":         "",
		"create_sign_key":          "",
		"get_public_key":           "",
		"sign":                     "",
		"verify":                   "",
		"verify_tampered":          "KMSInvalidSignatureException",
		"create_mac_key":           "",
		"generate_mac":             "",
		"verify_mac":               "",
		"verify_mac_tampered":      "KMSInvalidMacException",
		"create_disabled_key":      "",
		"disable_key":              "",
		"encrypt_disabled":         "DisabledException",
		"create_pending_key":       "",
		"encrypt_before_deletion":  "",
		"schedule_key_deletion":    "",
		"encrypt_pending_deletion": "KMSInvalidStateException",
		"decrypt_pending_deletion": "KMSInvalidStateException",
		"encrypt_unknown_key":      "NotFoundException",
		"describe_unknown_key":     "NotFoundException",
		"cross_encrypt_denied":     "AccessDeniedException",
		"cross_decrypt_denied":     "AccessDeniedException",
		"cross_alias_name":         "NotFoundException",
		"put_key_policy":           "",
		"cross_encrypt_arn":        "",
		"cross_decrypt":            "",
		"cross_encrypt_alias_arn":  "",
		"cross_encrypt_bare_id":    "NotFoundException",
		"cross_generate_data_key_without_plaintext": "",
		"cross_describe_key_denied":                 "AccessDeniedException",
		"put_key_policy_condition":                  "MalformedPolicyDocumentException",
	}
	for step, code := range want {
		r, ok := res[step]
		switch {
		case !ok:
			t.Errorf("%s: missing from boto3_check.py output", step)
		case code == "" && !r.OK:
			t.Errorf("%s: failed with %s (HTTP %d): %s; want success", step, r.Code, r.Status, r.Message)
		case code != "" && r.OK:
			t.Errorf("%s: succeeded with %s; want %s", step, r.Value, code)
		case code != "" && r.Code != code:
			t.Errorf("%s: error %s (HTTP %d): %s; want %s", step, r.Code, r.Status, r.Message, code)
		case code != "" && (r.Status < 400 || r.Status >= 500):
			t.Errorf("%s: HTTP status %d; want 4xx", step, r.Status)
		}
	}
	for step := range res {
		if _, ok := want[step]; !ok {
			t.Errorf("%s: step not checked by the test", step)
		}
	}

	type meta struct{ KeyId, Arn, KeyState, KeySpec, KeyUsage, AWSAccountId string }
	type crypt struct{ KeyId, Plaintext, CiphertextBlob string }
	var key, alias, signKey, macKey meta
	compatDecode(t, res, "create_key", &key)
	compatDecode(t, res, "describe_alias", &alias)
	compatDecode(t, res, "create_sign_key", &signKey)
	compatDecode(t, res, "create_mac_key", &macKey)
	if !strings.HasPrefix(key.Arn, "arn:aws:kms:us-east-1:"+compatOwner+":key/") || !strings.HasSuffix(key.Arn, key.KeyId) {
		t.Errorf("create_key Arn = %q, KeyId = %q; want arn:aws:kms:us-east-1:%s:key/<KeyId>", key.Arn, key.KeyId, compatOwner)
	}
	if key.KeyState != "Enabled" || key.KeySpec != "SYMMETRIC_DEFAULT" || key.KeyUsage != "ENCRYPT_DECRYPT" || key.AWSAccountId != compatOwner {
		t.Errorf("create_key metadata = %+v; want Enabled SYMMETRIC_DEFAULT ENCRYPT_DECRYPT in %s", key, compatOwner)
	}
	if alias.KeyId != key.KeyId {
		t.Errorf("describe_key(alias) KeyId = %q; want %q", alias.KeyId, key.KeyId)
	}
	if signKey.KeySpec != "ECC_NIST_P256" || signKey.KeyUsage != "SIGN_VERIFY" {
		t.Errorf("create_sign_key metadata = %+v; want ECC_NIST_P256 SIGN_VERIFY", signKey)
	}
	if macKey.KeySpec != "HMAC_256" || macKey.KeyUsage != "GENERATE_VERIFY_MAC" {
		t.Errorf("create_mac_key metadata = %+v; want HMAC_256 GENERATE_VERIFY_MAC", macKey)
	}

	// Round trips: Decrypt returns the plaintext and the key ARN.
	wantPlain := base64.StdEncoding.EncodeToString([]byte("kmsload compat plaintext \x00\x01\xff"))
	for _, step := range []string{"decrypt", "decrypt_ctx", "cross_decrypt"} {
		var d crypt
		compatDecode(t, res, step, &d)
		if d.Plaintext != wantPlain || d.KeyId != key.Arn {
			t.Errorf("%s = (Plaintext %q, KeyId %q); want (%q, %q)", step, d.Plaintext, d.KeyId, wantPlain, key.Arn)
		}
	}
	for _, step := range []string{"encrypt", "encrypt_ctx", "cross_encrypt_arn", "cross_encrypt_alias_arn"} {
		var e crypt
		compatDecode(t, res, step, &e)
		if e.KeyId != key.Arn || e.CiphertextBlob == "" {
			t.Errorf("%s KeyId = %q, CiphertextBlob %d chars; want %q and a blob", step, e.KeyId, len(e.CiphertextBlob), key.Arn)
		}
	}
	var dk, dkDecrypted crypt
	compatDecode(t, res, "generate_data_key", &dk)
	compatDecode(t, res, "decrypt_data_key", &dkDecrypted)
	if raw, _ := base64.StdEncoding.DecodeString(dk.Plaintext); len(raw) != 32 {
		t.Errorf("generate_data_key AES_256 plaintext is %d bytes; want 32", len(raw))
	}
	if dkDecrypted.Plaintext != dk.Plaintext {
		t.Errorf("decrypt(data key blob) = %q; want the data key %q", dkDecrypted.Plaintext, dk.Plaintext)
	}

	// The signature must verify with the public key outside KMS too.
	var pub struct {
		KeySpec           string
		PublicKey         string
		SigningAlgorithms []string
	}
	var sig struct{ Signature, Message string }
	compatDecode(t, res, "get_public_key", &pub)
	compatDecode(t, res, "sign", &sig)
	der, _ := base64.StdEncoding.DecodeString(pub.PublicKey)
	if k, err := x509.ParsePKIXPublicKey(der); err != nil {
		t.Errorf("get_public_key PublicKey is not PKIX DER: %v", err)
	} else if ec, ok := k.(*ecdsa.PublicKey); !ok || ec.Curve.Params().Name != "P-256" {
		t.Errorf("get_public_key PublicKey is %T; want an ECDSA P-256 key", k)
	} else {
		msg, _ := base64.StdEncoding.DecodeString(sig.Message)
		s, _ := base64.StdEncoding.DecodeString(sig.Signature)
		digest := sha256.Sum256(msg)
		if !ecdsa.VerifyASN1(ec, digest[:], s) {
			t.Errorf("sign: signature does not verify with the public key from get_public_key")
		}
	}
	var verified struct{ SignatureValid, MacValid bool }
	compatDecode(t, res, "verify", &verified)
	compatDecode(t, res, "verify_mac", &verified)
	if !verified.SignatureValid || !verified.MacValid {
		t.Errorf("verify/verify_mac = %+v; want both valid", verified)
	}
	var mac struct{ Mac string }
	compatDecode(t, res, "generate_mac", &mac)
	if raw, _ := base64.StdEncoding.DecodeString(mac.Mac); len(raw) != 32 {
		t.Errorf("generate_mac HMAC_SHA_256 is %d bytes; want 32", len(raw))
	}
	var sched struct{ KeyState string }
	compatDecode(t, res, "schedule_key_deletion", &sched)
	if sched.KeyState != "PendingDeletion" {
		t.Errorf("schedule_key_deletion KeyState = %q; want PendingDeletion", sched.KeyState)
	}
	if m := res["put_key_policy_condition"].Message; !strings.Contains(strings.ToLower(m), "condition") {
		t.Errorf("put_key_policy with a Condition: message %q; want it to explain that conditions are not supported", m)
	}
}

// decode unmarshals the value of a successful step into v; failed steps are
// already reported.
func compatDecode(t *testing.T, res map[string]boto3Result, step string, v any) {
	t.Helper()
	r := res[step]
	if !r.OK {
		return
	}
	if err := json.Unmarshal(r.Value, v); err != nil {
		t.Errorf("%s value %s: %v", step, r.Value, err)
	}
}

// awsCLI runs the aws CLI as account with JSON output and returns stdout,
// stderr and the exit error.
func awsCLI(t *testing.T, endpoint, account string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	return awsCLIEnv(t, clientEnv(endpoint, account), args...)
}

func awsCLIEnv(t *testing.T, env []string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "aws", append(args, "--output", "json")...)
	cmd.Env = env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

func TestCompatAWSCLI(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("aws CLI not installed")
	}
	ts := compatServer(t)
	dir := t.TempDir()
	plaintext := []byte("kmsload cli plaintext")
	ptFile := filepath.Join(dir, "plaintext")
	if err := os.WriteFile(ptFile, plaintext, 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun := func(account string, args ...string) map[string]any {
		t.Helper()
		out, errOut, err := awsCLI(t, ts.URL, account, args...)
		if err != nil {
			t.Fatalf("aws %s as %s: %v\n%s", strings.Join(args, " "), account, err, errOut)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("aws %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
		}
		return m
	}

	created := mustRun(compatOwner, "kms", "create-key", "--description", "compat cli")
	md, _ := created["KeyMetadata"].(map[string]any)
	keyID, _ := md["KeyId"].(string)
	keyARN, _ := md["Arn"].(string)
	if keyID == "" || keyARN != "arn:aws:kms:us-east-1:"+compatOwner+":key/"+keyID {
		t.Fatalf("create-key KeyMetadata = %v; want KeyId and Arn in account %s", md, compatOwner)
	}

	enc := mustRun(compatOwner, "kms", "encrypt", "--key-id", keyID, "--plaintext", "fileb://"+ptFile,
		"--encryption-context", "app=cli")
	blob, err := base64.StdEncoding.DecodeString(compatString(enc["CiphertextBlob"]))
	if err != nil || len(blob) == 0 {
		t.Fatalf("encrypt CiphertextBlob = %v; want base64 (%v)", enc["CiphertextBlob"], err)
	}
	if enc["KeyId"] != keyARN {
		t.Errorf("encrypt KeyId = %v; want %s", enc["KeyId"], keyARN)
	}
	ctFile := filepath.Join(dir, "ciphertext")
	if err := os.WriteFile(ctFile, blob, 0o600); err != nil {
		t.Fatal(err)
	}

	dec := mustRun(compatOwner, "kms", "decrypt", "--ciphertext-blob", "fileb://"+ctFile, "--encryption-context", "app=cli")
	if got, _ := base64.StdEncoding.DecodeString(compatString(dec["Plaintext"])); !bytes.Equal(got, plaintext) || dec["KeyId"] != keyARN {
		t.Errorf("decrypt = (Plaintext %q, KeyId %v); want (%q, %s)", got, dec["KeyId"], plaintext, keyARN)
	}

	// Another account is refused by the default key policy...
	_, errOut, err := awsCLI(t, ts.URL, compatOther, "kms", "encrypt", "--key-id", keyARN, "--plaintext", "fileb://"+ptFile)
	if err == nil || !strings.Contains(errOut, "(AccessDeniedException)") {
		t.Errorf("cross-account encrypt before PutKeyPolicy: err %v, stderr %q; want AccessDeniedException", err, errOut)
	}

	// ... and allowed by key ARN once the key policy names its account.
	policy := `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + compatOwner + `:root"},"Action":"kms:*","Resource":"*"},
		{"Effect":"Allow","Principal":{"AWS":"` + compatOther + `"},"Action":["kms:Encrypt","kms:Decrypt"],"Resource":"*"}]}`
	policyFile := filepath.Join(dir, "policy.json")
	if err := os.WriteFile(policyFile, []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut, err := awsCLI(t, ts.URL, compatOwner, "kms", "put-key-policy", "--key-id", keyID,
		"--policy-name", "default", "--policy", "file://"+policyFile); err != nil {
		t.Fatalf("put-key-policy: %v\n%s", err, errOut)
	}
	cross := mustRun(compatOther, "kms", "encrypt", "--key-id", keyARN, "--plaintext", "fileb://"+ptFile)
	if cross["KeyId"] != keyARN || compatString(cross["CiphertextBlob"]) == "" {
		t.Errorf("cross-account encrypt after PutKeyPolicy = %v; want KeyId %s and a ciphertext", cross, keyARN)
	}
}

// TestCompatAWSCLISigV4 checks the signature verification of the server
// against the signer of botocore, which is independent of the Go SDK's.
func TestCompatAWSCLISigV4(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("aws CLI not installed")
	}
	const secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	srv, err := emulator.New(emulator.Options{VerifySigV4: true, Credentials: map[string]string{compatOwner: secret}})
	if err != nil {
		t.Fatalf("emulator.New: %v", err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	tests := []struct {
		name, account, secret string
		wantCode              string // "" = success
	}{
		{"right secret", compatOwner, secret, ""},
		{"wrong secret", compatOwner, secret + "x", "InvalidSignatureException"},
		{"unknown access key", compatOther, secret, "UnrecognizedClientException"},
	}
	for _, tt := range tests {
		out, errOut, err := awsCLIEnv(t, clientEnvSecret(ts.URL, tt.account, tt.secret),
			"kms", "create-key", "--description", "sigv4 "+tt.name)
		switch {
		case tt.wantCode == "" && err != nil:
			t.Errorf("%s: create-key failed: %v\n%s", tt.name, err, errOut)
		case tt.wantCode == "" && !strings.Contains(out, `"KeyId"`):
			t.Errorf("%s: create-key output %q; want key metadata", tt.name, out)
		case tt.wantCode != "" && (err == nil || !strings.Contains(errOut, "("+tt.wantCode+")")):
			t.Errorf("%s: create-key err %v, stderr %q; want %s", tt.name, err, errOut, tt.wantCode)
		}
	}
}

func compatString(v any) string {
	s, _ := v.(string)
	return s
}
