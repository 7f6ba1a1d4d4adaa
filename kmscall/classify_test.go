package kmscall_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"

	"github.com/kmsload/kmsload/failure"
	"github.com/kmsload/kmsload/kmscall"
	"github.com/kmsload/kmsload/record"
)

func TestClassify(t *testing.T) {
	throttle := &smithy.GenericAPIError{Code: "ThrottlingException", Message: "You have exceeded the rate"}
	op := func(err error) error {
		return &smithy.OperationError{ServiceID: "KMS", OperationName: "Decrypt", Err: err}
	}
	tests := []struct {
		name     string
		err      error
		wantO    record.Outcome
		wantCode string
	}{
		{"nil", nil, record.OK, ""},
		{"throttle", op(throttle), record.Throttled, "ThrottlingException"},
		{"limit exceeded", op(&smithy.GenericAPIError{Code: "LimitExceededException"}), record.Throttled, "LimitExceededException"},
		{"max attempts", op(&retry.MaxAttemptsError{Attempt: 3, Err: throttle}), record.Throttled, "ThrottlingException"},
		{"disabled", op(&smithy.GenericAPIError{Code: "DisabledException"}), record.Failed, "DisabledException"},
		// The SDK joins the throttle with the retry quota error.
		{"retry quota", op(errors.Join(throttle, fmt.Errorf("failed to get rate limit token, %w",
			ratelimit.QuotaExceededError{Available: 3, Requested: 5}))), record.Failed, failure.CodeQuotaExceeded},
		{"canceled", op(&aws.RequestCanceledError{Err: context.Canceled}), record.Failed, failure.CodeCanceled},
		{"context canceled", op(fmt.Errorf("send: %w", context.Canceled)), record.Failed, failure.CodeCanceled},
		{"deadline", op(context.DeadlineExceeded), record.Failed, failure.CodeTimeout},
		{"refused", op(&net.OpError{Op: "dial", Err: errors.New("connection refused")}), record.Failed, failure.CodeConnection},
		{"eof", op(io.ErrUnexpectedEOF), record.Failed, failure.CodeConnection},
		{"closed before answering (internal/h1)", op(fmt.Errorf("read response: %w", io.ErrUnexpectedEOF)), record.Failed, failure.CodeConnection},
		{"other", errors.New("boom"), record.Failed, failure.CodeClient},
	}
	for _, tt := range tests {
		o, code := kmscall.Classify(tt.err)
		if o != tt.wantO || code != tt.wantCode {
			t.Errorf("%s: Classify(%v) = (%v, %q); want (%v, %q)", tt.name, tt.err, o, code, tt.wantO, tt.wantCode)
		}
	}
}
