package scenario_test

import (
	"errors"
	"fmt"

	"github.com/kmsload/kmsload/scenario"
)

func ExampleParse() {
	src := []byte(`name: shared-key
accounts: {prod: "111111111111", security: "999999999999"}
keys:
  central: {account: security, alias: alias/central}
workloads:
  orders-api: {caller: prod, key: alias/central, operation: Decrypt, rate: 30000/s}
`)
	s, err := scenario.Parse("shared-key.yaml", src)
	if err != nil {
		fmt.Println(err)
		return
	}
	w := s.Workloads[0]
	fmt.Println(w.Key, w.KeyRef, w.Region, w.Rate)
	// Output: central alias-arn us-east-1 30000/s
}

func ExampleErrors() {
	src := []byte(`name: broken
accounts: {prod: "111111111111", security: "999999999999"}
keys:
  central: {account: security, alias: alias/central}
workloads:
  orders-api: {caller: prod, key: central, key_ref: id, operation: Decrpyt, rate: 30000/sec}
`)
	_, err := scenario.Parse("broken.yaml", src)
	var errs scenario.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			fmt.Println(e)
		}
	}
	// Output:
	// broken.yaml:6:53: workloads.orders-api.key_ref: caller prod does not own key central (account security): KMS requires a key ARN or alias ARN for cross-account use, so key_ref must be arn or alias-arn, not id
	// broken.yaml:6:68: workloads.orders-api.operation: unknown operation "Decrpyt"; did you mean "Decrypt"?
	// broken.yaml:6:83: workloads.orders-api.rate: invalid rate "30000/sec": want N/s, N/min, N/h or a bare number of requests per second, such as "600/s", "36000/min" or "5/h"
}
