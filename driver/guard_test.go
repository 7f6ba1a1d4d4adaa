package driver_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/kmsload/kmsload/driver"
	"github.com/kmsload/kmsload/emulator"
	"github.com/kmsload/kmsload/guard"
	"github.com/kmsload/kmsload/plan"
	"github.com/kmsload/kmsload/record"
	"github.com/kmsload/kmsload/scenario"
)

// awsScenario: a in the default credentials, b through a role; b's
// workload uses a's key cross-account; c only appears in the key policy.
func awsScenario() *scenario.Scenario {
	sc := newScenario(time.Second)
	sc.Accounts["b"] = scenario.Account{Name: "b", ID: acctB, RoleARN: "arn:aws:iam::" + acctB + ":role/load"}
	sc.Keys["k"] = scenario.Key{Name: "k", Account: "a", Alias: "alias/prod", AllowAccounts: []string{"b", "c"}}
	sc.Workloads = []scenario.Workload{
		{Name: "own", Caller: "a", Key: "k", Operation: "Encrypt", Rate: 10},
		{Name: "cross", Caller: "b", Key: "k", KeyRef: scenario.KeyRefARN, Operation: "Encrypt", Rate: 10},
	}
	return sc
}

func TestAWSGuardsInNew(t *testing.T) {
	aws := driver.Target{Kind: driver.TargetAWS}
	all := []string{acctA, acctB, acctC}
	keyARN := "arn:aws:kms:us-east-1:" + acctA + ":key/1234abcd-12ab-34cd-56ef-1234567890ab"
	tests := []struct {
		name string
		set  func(*driver.Options)
		want error
	}{
		{"ok", func(o *driver.Options) {}, nil},
		{"no allowed accounts", func(o *driver.Options) { o.AllowAccounts = nil }, guard.ErrAccountNotAllowed},
		{"policy account missing", func(o *driver.Options) { o.AllowAccounts = all[:2] }, guard.ErrAccountNotAllowed},
		{"role of another account", func(o *driver.Options) {
			o.Scenario.Accounts["b"] = scenario.Account{Name: "b", ID: acctB, RoleARN: "arn:aws:iam::" + acctC + ":role/load"}
		}, guard.ErrAccountMismatch},
		{"two accounts on the default credentials", func(o *driver.Options) {
			o.Scenario.Accounts["b"] = scenario.Account{Name: "b", ID: acctB}
		}, guard.ErrAccountMismatch},
		{"existing key", func(o *driver.Options) {
			o.ExistingKeys = map[string]string{"k": keyARN}
			k := o.Scenario.Keys["k"]
			k.Alias = ""
			o.Scenario.Keys["k"] = k
		}, nil},
		{"existing key of another account", func(o *driver.Options) {
			o.ExistingKeys = map[string]string{"k": strings.Replace(keyARN, acctA, acctB, 1)}
		}, guard.ErrExistingKey},
		{"existing key not an ARN", func(o *driver.Options) { o.ExistingKeys = map[string]string{"k": "alias/prod"} }, guard.ErrExistingKey},
		{"event would change an existing key", func(o *driver.Options) {
			o.ExistingKeys = map[string]string{"k": keyARN}
			o.Scenario.Events = []scenario.Event{{At: 0, Action: scenario.ActionDisableKey, Key: "k"}}
		}, guard.ErrExistingKey},
		{"rotation would change an existing key", func(o *driver.Options) {
			o.ExistingKeys = map[string]string{"k": keyARN}
			k := o.Scenario.Keys["k"]
			k.Rotation = true
			o.Scenario.Keys["k"] = k
		}, guard.ErrExistingKey},
		{"cost cap without prices", func(o *driver.Options) { o.Limits.MaxCostUSD = 1 }, driver.ErrBadOptions},
	}
	for _, tt := range tests {
		opts := driver.Options{Scenario: awsScenario(), Target: aws, AllowAccounts: all}
		tt.set(&opts)
		_, err := driver.New(opts)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: New() error = %v; want %v", tt.name, err, tt.want)
		}
	}
}

func TestPredict(t *testing.T) {
	sc := newScenario(10 * time.Second)
	sc.Keys["k"] = scenario.Key{Name: "k", Account: "a", Alias: "alias/k"}
	sc.Keys["r"] = scenario.Key{Name: "r", Account: "a", Spec: "RSA_2048", Usage: scenario.UsageSignVerify}
	sc.Workloads = []scenario.Workload{
		{Name: "enc", Caller: "a", Key: "k", Operation: "Encrypt", Rate: 100},
		{Name: "ver", Caller: "a", Key: "r", Operation: "Verify", Rate: 10, Retry: scenario.RetryNone},
	}
	d, err := driver.New(driver.Options{Scenario: sc, Target: driver.Target{Kind: driver.TargetAWS}, AllowAccounts: []string{acctA}})
	if err != nil {
		t.Fatal(err)
	}
	p := d.Predict(plan.DefaultPricing())
	// k: CreateKey, PutKeyPolicy, CreateAlias; r: CreateKey, PutKeyPolicy; 64 Sign for the pool.
	if p.ProvisionRequests != 5+driver.DefaultPoolSize || p.MeasuredRequests != 1100 || p.CleanupRequests != 2 {
		t.Errorf("Predict: provisioning %d, measured %d, clean-up %d; want %d, 1100, 2",
			p.ProvisionRequests, p.MeasuredRequests, p.CleanupRequests, 5+driver.DefaultPoolSize)
	}
	if p.RequestsWithRetries != p.ProvisionRequests+3000+100+2 || p.AsymmetricRequests != driver.DefaultPoolSize+100 {
		t.Errorf("Predict: with retries %d, asymmetric %d", p.RequestsWithRetries, p.AsymmetricRequests)
	}
	wantCost := 2*1.0/plan.DefaultPricing().HoursPerMonth + float64(1007)*0.03/10000 + float64(driver.DefaultPoolSize+100)*0.15/10000
	if diff := p.CostUSD - wantCost; diff > 1e-9 || diff < -1e-9 || p.Hours != 1 {
		t.Errorf("Predict: cost $%.6f over %g h; want $%.6f over 1 h", p.CostUSD, p.Hours, wantCost)
	}
	if err := p.Check(guard.Limits{MaxRequests: 50}); err == nil {
		t.Error("Check(MaxRequests 50) = nil; want provisioning over the cap")
	}
	if err := p.Check(guard.Limits{MaxRequests: 100}); err != nil {
		t.Errorf("Check(MaxRequests 100) = %v; want nil", err)
	}
}

// TestMaxRequestsStopsRun: the cap stops the run at exactly the cap; the
// results say why.
func TestMaxRequestsStopsRun(t *testing.T) {
	e := newEnv(t, emulator.Options{})
	sc := newScenario(20 * time.Second)
	sc.Keys["k"] = scenario.Key{Name: "k", Account: "a"}
	sc.Workloads = []scenario.Workload{{Name: "w", Caller: "a", Key: "k", Operation: "Encrypt", Rate: 200}}
	out := e.run(t, context.Background(), sc, func(o *driver.Options) { o.Limits.MaxRequests = 100 })
	r := out.Results
	if !r.Partial || r.StopReason != guard.StopMaxRequests || r.Spend == nil {
		t.Fatalf("results: partial %v, stop %q, spend %v; want partial, %s, spend", r.Partial, r.StopReason, r.Spend, guard.StopMaxRequests)
	}
	if r.Spend.Requests != 100 || e.requests.Load() != 100 {
		t.Errorf("spend %d requests, emulator served %d; want 100 and 100", r.Spend.Requests, e.requests.Load())
	}
	if r.DurationS > 5 {
		t.Errorf("run lasted %.1fs; want it stopped at the cap (~0.5s)", r.DurationS)
	}
}

// TestPanicInDriverLoop: a panic in a driver goroutine stops the run, the
// keys it created are scheduled for deletion, and Run returns ErrPanic.
func TestPanicInDriverLoop(t *testing.T) {
	e := newEnv(t, emulator.Options{})
	sts := httptest.NewServer(http.HandlerFunc(serveCallerIdentity))
	t.Cleanup(sts.Close)
	t.Setenv("AWS_ACCESS_KEY_ID", acctA)
	t.Setenv("AWS_SECRET_ACCESS_KEY", "x")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_ENDPOINT_URL_KMS", e.url)
	t.Setenv("AWS_ENDPOINT_URL_STS", sts.URL)
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")

	sc := newScenario(30 * time.Second)
	sc.Keys["k"] = scenario.Key{Name: "k", Account: "a"}
	sc.Workloads = []scenario.Workload{{Name: "w", Caller: "a", Key: "k", Operation: "Encrypt", Rate: 50}}
	d, err := driver.New(driver.Options{
		Scenario: sc, Target: driver.Target{Kind: driver.TargetAWS}, AllowAccounts: []string{acctA}, Logf: t.Logf,
		Progress: func(string, record.Progress) { panic("progress exploded") },
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = d.Run(context.Background())
	if !errors.Is(err, guard.ErrPanic) || !strings.Contains(err.Error(), "progress exploded") {
		t.Fatalf("Run() error = %v; want ErrPanic with the panic value", err)
	}
	if time.Since(start) > 15*time.Second {
		t.Errorf("Run took %v after a panic; want it stopped at once", time.Since(start))
	}
	c := kms.New(kms.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.url),
		Credentials: credentials.NewStaticCredentialsProvider(acctA, "x", "")})
	keys, err := c.ListKeys(context.Background(), &kms.ListKeysInput{})
	if err != nil || len(keys.Keys) != 1 {
		t.Fatalf("ListKeys: %v, %d keys; want the run's 1", err, len(keys.Keys))
	}
	md, err := c.DescribeKey(context.Background(), &kms.DescribeKeyInput{KeyId: keys.Keys[0].KeyId})
	if err != nil || md.KeyMetadata.KeyState != "PendingDeletion" {
		t.Errorf("key after the panic: %v, %v; want PendingDeletion", md.KeyMetadata.KeyState, err)
	}
}

var credentialRE = regexp.MustCompile(`Credential=(\d{12})/`)

// serveCallerIdentity is a fake STS GetCallerIdentity: the account is the
// signing access key id.
func serveCallerIdentity(w http.ResponseWriter, r *http.Request) {
	m := credentialRE.FindStringSubmatch(r.Header.Get("Authorization"))
	if r.ParseForm() != nil || r.Form.Get("Action") != "GetCallerIdentity" || m == nil {
		http.Error(w, "unsupported", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::%s:user/t</Arn><UserId>AIDA</UserId><Account>%s</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`, m[1], m[1])
}
