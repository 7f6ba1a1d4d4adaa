package failure_test

import (
	"fmt"
	"testing"

	"github.com/kmsload/kmsload/failure"
)

func TestOf(t *testing.T) {
	for _, tc := range []struct {
		code string
		want failure.Class
	}{
		{"ThrottlingException", failure.Throttled},
		{"LimitExceededException", failure.Throttled},
		{"QuotaExceededError", failure.RetryQuota},
		{"AccessDeniedException", failure.AccessDenied},
		{"DisabledException", failure.KeyState},
		{"KMSInvalidStateException", failure.KeyState},
		{"KeyUnavailableException", failure.KeyState},
		{"Canceled", failure.Unfinished},
		{"Timeout", failure.Unfinished},
		{"RequestCapReached", failure.Unfinished},
		{"ConnectionError", failure.Transport},
		{"ClientError", failure.Transport},
		{"HTTP503", failure.Transport},
		{"NotFoundException", failure.Other},
		{"ValidationException", failure.Other},
		{"", failure.Other},
	} {
		if got := failure.Of(tc.code); got != tc.want {
			t.Errorf("Of(%q) = %q; want %q", tc.code, got, tc.want)
		}
	}
}

func TestParse(t *testing.T) {
	for _, c := range failure.Classes {
		if got, ok := failure.Parse(string(c)); !ok || got != c {
			t.Errorf("Parse(%q) = %q, %v; want %q, true", c, got, ok, c)
		}
		if c.Label() == "" {
			t.Errorf("%q has no label", c)
		}
	}
	if _, ok := failure.Parse("AccessDeniedException"); ok {
		t.Error("Parse accepted a code as a class")
	}
}

func TestExpectationMatches(t *testing.T) {
	for _, tc := range []struct {
		match string
		class failure.Class
		code  string
		want  bool
	}{
		{"AccessDeniedException", failure.AccessDenied, "AccessDeniedException", true},
		{"access-denied", failure.AccessDenied, "AccessDeniedException", true},
		{"key-state", failure.KeyState, "DisabledException", true},
		{"DisabledException", failure.KeyState, "KMSInvalidStateException", false},
		{"dropped", failure.Dropped, "", true},
		{"", failure.Dropped, "", false},
		{"throttled", failure.RetryQuota, "QuotaExceededError", false},
	} {
		e := failure.Expectation{Match: tc.match}
		if got := e.Matches(tc.class, tc.code); got != tc.want {
			t.Errorf("Expectation{%q}.Matches(%q, %q) = %v; want %v", tc.match, tc.class, tc.code, got, tc.want)
		}
	}
}

func ExampleOf() {
	for _, code := range []string{"QuotaExceededError", "AccessDeniedException", "HTTP500"} {
		fmt.Printf("%s: %s\n", code, failure.Of(code).Label())
	}
	// Output:
	// QuotaExceededError: retry quota exhausted
	// AccessDeniedException: access denied
	// HTTP500: connection or transport error
}
