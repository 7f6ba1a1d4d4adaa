// Package compat is kmsload's own KMS compatibility suite: checks
// organised by operation that assert response shapes and error codes as
// the AWS KMS API reference documents them (each operation's "Errors"
// section), run through aws-sdk-go-v2 against any KMS endpoint. The
// emulator's tests require every check to pass; `make compat` runs the
// same suite against moto_server and local-kms and prints a pass table,
// so the fidelity gap between emulators is a number.
package compat

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"

	"github.com/kmsload/kmsload/target"
)

// Accounts the suite signs as: Owner owns the keys, Other calls across
// accounts. The access key id is the account, as the emulator, LocalStack
// and (with its header) moto take it.
const (
	Owner  = "111111111111"
	Other  = "222222222222"
	Region = "us-east-1"
)

// Target is a KMS endpoint under test.
type Target struct {
	// Name labels the target in the table; Server is what target.Identify
	// calls it ("" when unknown), which decides per-server request options.
	Name, Server string
	Endpoint     string
	// HTTPClient sends the requests (nil: a default client).
	HTTPClient *http.Client
}

// client returns an SDK client of t signing as account, retries off.
func (t Target) client(account string) *kms.Client {
	hc := t.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	cfg := aws.Config{
		Region:      Region,
		Credentials: credentials.NewStaticCredentialsProvider(account, "secret", ""),
		HTTPClient:  hc,
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
	}
	return kms.NewFromConfig(cfg, func(o *kms.Options) {
		o.BaseEndpoint = aws.String(t.Endpoint)
		o.APIOptions = append(o.APIOptions, target.APIOptions(t.Server, account)...)
	})
}

// env is what a check runs with: the owner's and the other account's
// clients.
type env struct {
	ctx          context.Context
	owner, other *kms.Client
}

// Check is one assertion of the suite about one operation.
type Check struct {
	// Op is the operation the check is about; Name what it asserts.
	Op, Name string
	run      func(e *env) error
}

// Result is one check's outcome on one target.
type Result struct {
	Check
	// Err is why the check failed; nil when it passed.
	Err error
}

// Run runs every check of the suite against t, each with fresh keys, and
// returns the results in the suite's order. It stops early when ctx ends.
func Run(ctx context.Context, t Target) []Result {
	e := &env{ctx: ctx, owner: t.client(Owner), other: t.client(Other)}
	var out []Result
	for _, c := range Suite() {
		if ctx.Err() != nil {
			break
		}
		out = append(out, Result{Check: c, Err: runOne(e, c)})
	}
	return out
}

// runOne runs c, turning a panic (a target's answer the SDK could not
// read into what the check expects) into a failure.
func runOne(e *env, c Check) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic: %v", v)
		}
	}()
	return c.run(e)
}

// code is the KMS error code of err, "" for nil.
func code(err error) string {
	if err == nil {
		return ""
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return "not a KMS error: " + err.Error()
}

// wantCode fails unless err carries KMS error code want.
func wantCode(err error, want string) error {
	if got := code(err); got != want {
		if got == "" {
			return fmt.Errorf("succeeded; want %s", want)
		}
		return fmt.Errorf("error %s; want %s", clip(got), want)
	}
	return nil
}

// must returns err wrapped with what failed, nil for nil.
func must(what string, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %s", what, clip(err.Error()))
	}
	return nil
}

func clip(s string) string {
	if len(s) > 160 {
		return s[:160] + "..."
	}
	return s
}

// first returns the first non-nil error.
func first(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// Ops returns the operations the suite covers, in its order.
func Ops() []string {
	var ops []string
	for _, c := range Suite() {
		if !slices.Contains(ops, c.Op) {
			ops = append(ops, c.Op)
		}
	}
	return ops
}

// Table renders results per target (in targets' order) as a pass table:
// one row per operation with passed/total per target, then a total row,
// then each failure with its reason.
func Table(targets []string, results map[string][]Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-24s", "operation")
	for _, t := range targets {
		fmt.Fprintf(&b, " %12s", t)
	}
	b.WriteString("\n")
	total := map[string][2]int{}
	for _, op := range Ops() {
		fmt.Fprintf(&b, "%-24s", op)
		for _, t := range targets {
			pass, n := 0, 0
			for _, r := range results[t] {
				if r.Op == op {
					n++
					if r.Err == nil {
						pass++
					}
				}
			}
			tt := total[t]
			total[t] = [2]int{tt[0] + pass, tt[1] + n}
			fmt.Fprintf(&b, " %12s", fmt.Sprintf("%d/%d", pass, n))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%-24s", "all")
	for _, t := range targets {
		fmt.Fprintf(&b, " %12s", fmt.Sprintf("%d/%d", total[t][0], total[t][1]))
	}
	b.WriteString("\n")
	for _, t := range targets {
		for _, r := range results[t] {
			if r.Err != nil {
				fmt.Fprintf(&b, "  %s: %s %s: %v\n", t, r.Op, r.Name, r.Err)
			}
		}
	}
	return b.String()
}
