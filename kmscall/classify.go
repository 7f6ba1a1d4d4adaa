package kmscall

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/kmsload/kmsload/failure"
	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/record"
)

// throttleCodes are the KMS error codes that mean "throttled".
var throttleCodes = map[string]bool{
	failure.CodeThrottling:   true,
	"LimitExceededException": true,
}

// Classify returns the outcome and code of one attempt's error: OK and ""
// for nil; Throttled for ThrottlingException and LimitExceededException;
// Failed with the KMS error code for other service errors, with
// failure.CodeQuotaExceeded when the SDK's retry quota was exhausted,
// failure.CodeCapReached for a capped attempt, failure.CodeCanceled for a
// cancelled context, and a transport code (failure.CodeTimeout,
// failure.CodeConnection, "HTTP<status>", failure.CodeClient) otherwise.
func Classify(err error) (record.Outcome, string) {
	if err == nil {
		return record.OK, ""
	}
	var q ratelimit.QuotaExceededError
	if errors.As(err, &q) {
		return record.Failed, failure.CodeQuotaExceeded
	}
	if errors.Is(err, failure.ErrCapReached) {
		return record.Failed, failure.CodeCapReached
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		code := api.ErrorCode()
		if throttleCodes[code] {
			return record.Throttled, code
		}
		return record.Failed, code
	}
	return record.Failed, transportCode(err)
}

// transportCode is the code of an error that is not KMS's answer.
func transportCode(err error) string {
	var rc *aws.RequestCanceledError
	if errors.As(err, &rc) || errors.Is(err, context.Canceled) {
		return failure.CodeCanceled
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return failure.CodeTimeout
	}
	var oe *net.OpError
	if errors.As(err, &oe) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return failure.CodeConnection
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return fmt.Sprintf("HTTP%d", re.HTTPStatusCode())
	}
	return failure.CodeClient
}

// ThrottledBy returns the quota bucket that a throttled answer names in
// the emulator's quota.HeaderThrottledBy header, "" when the answer names
// none (other targets).
func ThrottledBy(err error) string {
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.Response == nil {
		return ""
	}
	return re.Response.Header.Get(quota.HeaderThrottledBy)
}
