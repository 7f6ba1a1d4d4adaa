package driver

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/kmsload/kmsload/guard"
	"github.com/kmsload/kmsload/kmscall"
	"github.com/kmsload/kmsload/plan"
	"github.com/kmsload/kmsload/quota"
	"github.com/kmsload/kmsload/scenario"
)

// Prediction is what a run is expected to send and cost, computed before
// it starts from the scenario, the scale and the duration: an upper bound
// for a run whose arrivals all reach KMS.
//
// Requests count:
//   - provisioning: per created key CreateKey, PutKeyPolicy, CreateAlias
//     (in each Region of the key), CreateGrant per grant account and
//     Region, EnableKeyRotation, and per replica ReplicateKey plus one
//     DescribeKey while it becomes Enabled; DescribeKey per existing key;
//     DefaultPoolSize calls per Decrypt, ReEncrypt, VerifyMac or Verify
//     workload;
//   - measured: each workload's scaled mean rate x the duration, in each
//     measured window (with Isolate, each workload runs twice), without
//     the data-key cache's savings; events once per window, plus three
//     restore calls per touched key after each isolated window;
//   - clean-up: one ScheduleKeyDeletion per created key and replica.
//
// RequestsWithRetries is the same with every measured request making
// all of its attempts (max_attempts, 3 by default, 1 with retry none).
//
// Cost prices requests at Prices' rates by class (asymmetric for
// workloads on RSA, ECC, SM2 and ML-DSA keys, symmetric otherwise;
// management APIs as symmetric) and every created key and replica (and
// the new material of each rotate event) at KeyMonthUSD / HoursPerMonth per
// started hour for Hours hours: KMS prorates the key fee hourly and does
// not charge keys pending deletion. The free tier (20,000 requests a month)
// is not deducted, so the figure is an upper bound. A run's actual spend
// (report.Spend) uses the same rules with the requests actually sent.
type Prediction struct {
	ProvisionRequests   int64
	MeasuredRequests    int64
	CleanupRequests     int64
	Requests            int64 // the sum of the three
	RequestsWithRetries int64
	AsymmetricRequests  int64 // of Requests
	CreatedKeys         int   // keys and replicas the run creates
	ExistingKeys        int   // keys named by ExistingKeys or AWS managed
	Windows             int   // measured windows
	// Hours is the predicted wall time of the run (provisioning paced at
	// ManagementRate, the windows, drain), in started hours.
	Hours float64
	// ProvisionCostUSD covers provisioning and the keys; CostUSD the
	// whole run; CostWithRetriesUSD with RequestsWithRetries.
	ProvisionCostUSD   float64
	CostUSD            float64
	CostWithRetriesUSD float64
}

// Predict returns the prediction of the run, priced with prices.
func (d *Driver) Predict(prices plan.Pricing) Prediction {
	var p Prediction
	p.Windows = 1
	if d.opts.Isolate {
		p.Windows = 1 + len(d.wls)
	}
	var provAsym, measAsym, measRetriesAsym, measRetries int64
	for _, name := range slices.Sorted(maps.Keys(d.res.Scenario.Keys)) {
		k := d.resolveKey(name)
		if _, ok := d.existing[name]; ok || k.AWSManaged() {
			p.ExistingKeys++
			p.ProvisionRequests++ // DescribeKey
			continue
		}
		regions := int64(1 + len(k.Replicas))
		p.CreatedKeys += int(regions)
		n := int64(2) // CreateKey, PutKeyPolicy
		if k.Alias != "" {
			n += regions
		}
		n += int64(len(k.GrantAccounts)) * regions
		if k.Rotation {
			n++
		}
		n += 2 * int64(len(k.Replicas))
		p.ProvisionRequests += n
	}
	for _, w := range d.wls {
		asym := asymClass(w.Bucket().Class)
		if kmscall.NeedsPool(w.Spec.Operation) {
			p.ProvisionRequests += DefaultPoolSize
			if asym || w.Spec.Operation == "Verify" {
				provAsym += DefaultPoolSize
			}
		}
		windows := int64(1)
		if d.opts.Isolate {
			windows = 2
		}
		n := int64(math.Ceil(w.mean*d.res.Duration.Seconds())) * windows
		attempts := int64(3)
		switch {
		case w.Client.Retry == scenario.RetryNone:
			attempts = 1
		case w.client.MaxAttempts > 0:
			attempts = int64(w.client.MaxAttempts)
		}
		p.MeasuredRequests += n
		measRetries += n * attempts
		if asym {
			measAsym += n
			measRetriesAsym += n * attempts
		}
	}
	rotations := 0
	touched := map[string]bool{}
	for _, ev := range d.res.Scenario.Events {
		if ev.At >= d.res.Duration {
			continue
		}
		p.MeasuredRequests += int64(p.Windows)
		measRetries += int64(p.Windows)
		if ev.Action == scenario.ActionRotate {
			rotations += p.Windows
		}
		if ev.Action != scenario.ActionShiftTraffic && ev.Action != scenario.ActionRotate {
			touched[ev.Key] = true
		}
	}
	if d.opts.Isolate {
		restore := int64(3 * len(touched) * len(d.wls))
		p.MeasuredRequests += restore
		measRetries += restore
	}
	p.CleanupRequests = int64(p.CreatedKeys)
	p.Requests = p.ProvisionRequests + p.MeasuredRequests + p.CleanupRequests
	p.RequestsWithRetries = p.ProvisionRequests + measRetries + p.CleanupRequests
	p.AsymmetricRequests = provAsym + measAsym

	wall := time.Duration(float64(p.ProvisionRequests+p.CleanupRequests)/kmscall.ManagementRate*float64(time.Second)) +
		time.Duration(p.Windows)*(d.res.Duration+d.drain)
	p.Hours = math.Max(1, math.Ceil(wall.Hours()))
	keyUSD := float64(p.CreatedKeys+rotations) * p.Hours * prices.KeyHourUSD()
	price := func(all, asym int64) float64 {
		return float64(all-asym)*prices.RequestUSD(false) + float64(asym)*prices.RequestUSD(true)
	}
	p.ProvisionCostUSD = keyUSD + price(p.ProvisionRequests, provAsym)
	p.CostUSD = keyUSD + price(p.Requests, p.AsymmetricRequests)
	p.CostWithRetriesUSD = keyUSD + price(p.RequestsWithRetries, provAsym+measRetriesAsym)
	return p
}

// Check refuses limits that the run cannot meet even before it measures:
// provisioning alone would exceed a cap.
func (p Prediction) Check(l guard.Limits) error {
	if l.MaxRequests > 0 && p.ProvisionRequests >= l.MaxRequests {
		return fmt.Errorf("%w: provisioning alone needs about %d requests; --max-requests is %d",
			ErrBadOptions, p.ProvisionRequests, l.MaxRequests)
	}
	if l.MaxCostUSD > 0 && p.ProvisionCostUSD >= l.MaxCostUSD {
		return fmt.Errorf("%w: provisioning and keys alone cost about $%.4f; --max-cost-usd is %g",
			ErrBadOptions, p.ProvisionCostUSD, l.MaxCostUSD)
	}
	return nil
}

// asymClass reports whether requests charged to class are priced as
// asymmetric.
func asymClass(c quota.Class) bool { return c == quota.RSA || c == quota.ECC || c == quota.MLDSA }
