package guard

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kmsload/kmsload/failure"
	"github.com/kmsload/kmsload/plan"
	"github.com/kmsload/kmsload/quota"
)

func TestThrottleWatch(t *testing.T) {
	b1 := quota.BucketKey{Account: "111111111111", Region: "us-east-1", Class: quota.Symmetric}
	b2 := quota.BucketKey{Account: "222222222222", Region: "us-east-1", Class: quota.Symmetric}
	t0 := time.Unix(1_700_000_000, 0)
	w := newThrottleWatch(ThrottleLimit{Share: 0.25, Window: 2 * time.Second})
	steps := []struct {
		at        time.Duration
		bucket    quota.BucketKey
		throttled bool
		share     float64
		n         int64
		tripped   bool
	}{
		{0, b1, false, 0, 1, false},
		{100 * time.Millisecond, b1, false, 0, 2, false},
		{200 * time.Millisecond, b1, false, 0, 3, false},
		{300 * time.Millisecond, b1, true, 0.25, 4, false}, // exactly the share: not above it
		{300 * time.Millisecond, b2, true, 1, 1, true},     // buckets are apart
		{400 * time.Millisecond, b1, true, 0.4, 5, true},
		// 2.35 s later the first four attempts have left the window.
		{2350 * time.Millisecond, b1, false, 0.5, 2, true},
		{5 * time.Second, b1, false, 0, 1, false}, // all old attempts gone
	}
	for _, s := range steps {
		share, n, tripped := w.add(t0.Add(s.at), s.bucket, s.throttled)
		if share != s.share || n != s.n || tripped != s.tripped {
			t.Errorf("add(+%v, %s, %v) = %.2f, %d, %v; want %.2f, %d, %v", s.at, s.bucket, s.throttled, share, n, tripped, s.share, s.n, s.tripped)
		}
	}
}

func TestGuardCaps(t *testing.T) {
	prices := plan.DefaultPricing()
	ctx := context.Background()
	var cause error
	g := New(Limits{MaxRequests: 3, Prices: prices}, 1)
	g.Arm(func(err error) { cause = err })
	for i := range 3 {
		if err := g.admit(ctx, "Encrypt", false); err != nil {
			t.Fatalf("admit #%d = %v; want nil", i+1, err)
		}
	}
	var se *StopError
	if !errors.As(cause, &se) || se.Reason != StopMaxRequests {
		t.Errorf("after 3 of 3 requests the run's cause = %v; want a %s stop", cause, StopMaxRequests)
	}
	if err := g.admit(ctx, "Encrypt", false); !errors.Is(err, failure.ErrCapReached) {
		t.Errorf("admit over the cap = %v; want failure.ErrCapReached", err)
	}
	if err := g.admit(WithoutCaps(ctx), "ScheduleKeyDeletion", false); err != nil {
		t.Errorf("clean-up admit over the cap = %v; want nil", err)
	}
	s, _, _ := g.Result()
	if s.Requests != 4 || s.CleanupRequests != 1 {
		t.Errorf("spend: %d requests, %d clean-up; want 4, 1", s.Requests, s.CleanupRequests)
	}

	// Cost: a key (one hour) plus asymmetric requests.
	g = New(Limits{MaxCostUSD: 1.0/prices.HoursPerMonth + 2*0.15/10000, Prices: prices}, 1)
	if err := g.admit(ctx, "CreateKey", false); err != nil {
		t.Fatal(err)
	}
	if err := g.admit(ctx, "Sign", true); err != nil {
		t.Fatal(err)
	}
	if err := g.admit(ctx, "Sign", true); !errors.Is(err, failure.ErrCapReached) {
		t.Errorf("admit over the cost cap = %v; want failure.ErrCapReached", err)
	}
	s, stop, _ := g.Result()
	if stop == nil || stop.Reason != StopMaxCost || s.AsymmetricRequests != 1 || s.SymmetricRequests != 1 {
		t.Errorf("cost cap: stop %v, spend %+v; want %s after 1 symmetric and 1 asymmetric request", stop, s, StopMaxCost)
	}
}
