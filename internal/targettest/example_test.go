package targettest_test

import (
	"testing"

	"github.com/kmsload/kmsload/internal/targettest"
)

// A test starts moto_server and local-kms on free loopback ports; both stop
// when the test ends, and the test is skipped when either is unavailable.
func Example() {
	_ = func(t *testing.T) {
		moto := targettest.Moto(t)
		lk := targettest.LocalKMS(t, "111111111111", "us-east-1")
		t.Logf("moto_server at %s, local-kms at %s", moto, lk)
	}
}
