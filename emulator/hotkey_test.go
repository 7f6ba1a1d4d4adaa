package emulator_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/kmsload/kmsload/emulator"
	"github.com/kmsload/kmsload/quota"
)

// TestHotKey: a volley of DisableKey/EnableKey on one key is throttled
// after 5 changes, below the 5/s APIs' own buckets with their burst;
// another key's changes are not; a second later one more change passes.
func TestHotKey(t *testing.T) {
	clock := &fixedClock{now: t0}
	m, err := quota.New(quota.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	_, ts := start(t, emulator.Options{Quota: m, Clock: clock.Now})
	c := client(ts, acctA, "us-east-1")
	hot := createKey(t, c, &kms.CreateKeyInput{})
	cold := createKey(t, c, &kms.CreateKeyInput{})
	changes, throttled := 0, 0
	for i := range 8 {
		var err error
		if i%2 == 0 {
			_, err = c.DisableKey(ctx(), &kms.DisableKeyInput{KeyId: hot.KeyId})
		} else {
			_, err = c.EnableKey(ctx(), &kms.EnableKeyInput{KeyId: hot.KeyId})
		}
		switch code(err) {
		case "":
			changes++
		case "ThrottlingException":
			throttled++
		default:
			t.Fatalf("change %d: %v", i, err)
		}
	}
	if changes != 5 || throttled != 3 {
		t.Errorf("8 state changes of one key at once: %d passed, %d throttled; want 5 and 3", changes, throttled)
	}
	if _, err := c.DisableKey(ctx(), &kms.DisableKeyInput{KeyId: cold.KeyId}); err != nil {
		t.Errorf("DisableKey of another key: %v; want it to pass", err)
	}
	r := raw(t, ts, acctA, "us-east-1", "EnableKey", `{"KeyId":"`+*hot.KeyId+`"}`)
	if want := acctA + "/us-east-1/key:" + *hot.KeyId; r.header.Get(quota.HeaderThrottledBy) != want {
		t.Errorf("hot key throttle names %q; want %q", r.header.Get(quota.HeaderThrottledBy), want)
	}
	clock.Set(t0.Add(1100 * time.Millisecond))
	if _, err := c.EnableKey(ctx(), &kms.EnableKeyInput{KeyId: hot.KeyId}); err != nil {
		t.Errorf("a change a second later: %v; want it to pass", err)
	}
}
