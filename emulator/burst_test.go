package emulator_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/kmsload/kmsload/emulator"
	"github.com/kmsload/kmsload/quota"
)

// TestControlPlaneBurst: a test suite creating 30 keys in quick succession
// passes on the default quotas (CreateKey's bucket holds 10 s of its
// 5/s), while the data plane keeps its exact one-second window. Without
// the burst, the same volley throttles after 5.
func TestControlPlaneBurst(t *testing.T) {
	volley := func(cfg quota.Config) (created, throttled int) {
		m, err := quota.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, ts := start(t, emulator.Options{Quota: m}) // the clock stands still: one instant
		c := client(ts, acctA, "us-east-1")
		for range 30 {
			_, err := c.CreateKey(ctx(), &kms.CreateKeyInput{})
			switch code(err) {
			case "":
				created++
			case "ThrottlingException":
				throttled++
			default:
				t.Fatalf("CreateKey: %v", err)
			}
		}
		return created, throttled
	}
	if created, throttled := volley(quota.DefaultConfig()); created != 30 || throttled != 0 {
		t.Errorf("30 CreateKey at once, default quotas: %d created, %d throttled; want all 30 created", created, throttled)
	}
	noBurst := quota.DefaultConfig()
	noBurst.APIBurstSeconds = nil
	if created, throttled := volley(noBurst); created != 5 || throttled != 25 {
		t.Errorf("30 CreateKey at once without the burst: %d created, %d throttled; want 5 and 25", created, throttled)
	}
}
