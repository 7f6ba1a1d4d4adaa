package driver_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"

	"github.com/kmsload/kmsload/driver"
	"github.com/kmsload/kmsload/report"
)

func TestClassify(t *testing.T) {
	throttle := &smithy.GenericAPIError{Code: "ThrottlingException", Message: "You have exceeded the rate"}
	op := func(err error) error {
		return &smithy.OperationError{ServiceID: "KMS", OperationName: "Decrypt", Err: err}
	}
	tests := []struct {
		name     string
		err      error
		wantO    report.Outcome
		wantCode string
	}{
		{"nil", nil, report.OK, ""},
		{"throttle", op(throttle), report.Throttled, "ThrottlingException"},
		{"limit exceeded", op(&smithy.GenericAPIError{Code: "LimitExceededException"}), report.Throttled, "LimitExceededException"},
		{"max attempts", op(&retry.MaxAttemptsError{Attempt: 3, Err: throttle}), report.Throttled, "ThrottlingException"},
		{"disabled", op(&smithy.GenericAPIError{Code: "DisabledException"}), report.Failed, "DisabledException"},
		// The SDK joins the throttle with the retry quota error.
		{"retry quota", op(errors.Join(throttle, fmt.Errorf("failed to get rate limit token, %w",
			ratelimit.QuotaExceededError{Available: 3, Requested: 5}))), report.Failed, driver.CodeQuotaExceeded},
		{"canceled", op(&aws.RequestCanceledError{Err: context.Canceled}), report.Failed, driver.CodeCanceled},
		{"context canceled", op(fmt.Errorf("send: %w", context.Canceled)), report.Failed, driver.CodeCanceled},
		{"deadline", op(context.DeadlineExceeded), report.Failed, driver.CodeTimeout},
		{"refused", op(&net.OpError{Op: "dial", Err: errors.New("connection refused")}), report.Failed, driver.CodeConnection},
		{"eof", op(io.ErrUnexpectedEOF), report.Failed, driver.CodeConnection},
		{"closed before answering (internal/h1)", op(fmt.Errorf("read response: %w", io.ErrUnexpectedEOF)), report.Failed, driver.CodeConnection},
		{"other", errors.New("boom"), report.Failed, driver.CodeClient},
	}
	for _, tt := range tests {
		o, code := driver.Classify(tt.err)
		if o != tt.wantO || code != tt.wantCode {
			t.Errorf("%s: Classify(%v) = (%v, %q); want (%v, %q)", tt.name, tt.err, o, code, tt.wantO, tt.wantCode)
		}
	}
}

func TestKeyCache(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	type step struct {
		at      time.Duration
		refresh bool // Refresh at at instead of Use
		want    bool
	}
	tests := []struct {
		name    string
		maxAge  time.Duration
		maxUses int
		steps   []step
	}{
		{"empty misses", time.Minute, 10, []step{{0, false, false}, {time.Second, false, false}}},
		{"max uses", time.Minute, 3, []step{
			{0, true, false},                   // new key, 1 use
			{1, false, true}, {2, false, true}, // uses 2 and 3
			{3, false, false}, // exhausted
			{4, false, false}, // stays invalid until refreshed
			{5, true, false}, {6, false, true},
		}},
		{"max age", time.Second, 0, []step{
			{0, true, false},
			{999 * time.Millisecond, false, true},
			{time.Second, false, false},
		}},
		{"unbounded", 0, 0, []step{{0, true, false}, {time.Hour, false, true}, {2 * time.Hour, false, true}}},
	}
	for _, tt := range tests {
		c := driver.NewKeyCache(tt.maxAge, tt.maxUses)
		for i, s := range tt.steps {
			if s.refresh {
				c.Refresh(t0.Add(s.at))
				continue
			}
			if got := c.Use(t0.Add(s.at)); got != s.want {
				t.Errorf("%s: step %d: Use(t0+%v) = %v; want %v", tt.name, i, s.at, got, s.want)
			}
		}
	}
}
