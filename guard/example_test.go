package guard_test

import (
	"fmt"

	"github.com/kmsload/kmsload/guard"
)

// A throttle kill switch and the alias a real-AWS run uses.
func ExampleParseThrottleLimit() {
	l, err := guard.ParseThrottleLimit("5%/10s")
	if err != nil {
		panic(err)
	}
	fmt.Println(l.Share, l.Window, l)
	fmt.Println(guard.AWSAlias("alias/prod"))
	// Output:
	// 0.05 10s 5%/10s
	// alias/kmsload-prod
}
