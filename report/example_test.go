package report_test

import (
	"fmt"
	"os"
	"time"

	"github.com/kmsload/kmsload/failure"
	"github.com/kmsload/kmsload/internal/reporttest"
	"github.com/kmsload/kmsload/record"
	"github.com/kmsload/kmsload/render"
	"github.com/kmsload/kmsload/report"
)

func ExampleWriteText() {
	r := reporttest.Example()
	// The scenario disabled key orders at 20 s: DisabledException is
	// expected from then on.
	report.Judge(r, report.Policy{ErrorBudget: 0.01, Expected: map[string][]failure.Expectation{
		"orders-api": {{Match: "DisabledException", FromS: 20, Reason: "disable-key of orders at 20s"}},
	}})
	if err := render.WriteText(os.Stdout, r); err != nil {
		fmt.Println(err)
	}
	// Output:
	// kmsload results: key-per-service
	//   file         scenarios/key-per-service.yaml
	//   target       embedded
	//   quota model  fixed-window, applied by kmsload
	//   scale        0.01 (quotas and rates scaled together)
	//   duration     60.0 s, started 2025-03-01T12:00:00Z
	//
	// Workloads (latency from intended send time; thr-att% = throttled attempts / attempts)
	//   workload    target/s  sent/s  goodput/s  ok     thr-att%  thr-req  dropped  cache-hits  p50ms  p99ms   p999ms  svc-p99ms  errors
	//   s3-ingest   600.0     600.0   590.0      35400  20.9      400      0        0           2.10   180.50  420.00  3.20       QuotaExceededError=200,ThrottlingException=400
	//   orders-api  300.0     290.0   200.0      12000  42.0      4800     600      0           1.80   150.25  380.00  2.90       DisabledException=600,ThrottlingException=4800
	//   billing     50.0      50.0    50.0       2000   0.0       0        0        1000        1.20   3.00    5.00    2.50       -
	//
	// Failures (share of arrivals, worst first; error budget 1% of arrivals per workload)
	//   workload    failure                share  count  codes                     expected                            judged-by
	//   orders-api  throttled              26.7%  4800   ThrottlingException 4800  -                                   thresholds
	//   orders-api  dropped arrivals       3.3%   600    600                       -                                   error budget
	//   s3-ingest   throttled              1.1%   400    ThrottlingException 400   -                                   thresholds
	//   s3-ingest   retry quota exhausted  0.6%   200    QuotaExceededError 200    -                                   error budget
	//   orders-api  invalid key state      3.3%   600    DisabledException 600     600 (disable-key of orders at 20s)  expected
	//
	// Quota buckets (caller account/Region/class; demand = attempts/s)
	//   bucket                            quota/s  demand/s  util%  thr-att%  workloads             keys
	//   111111111111/us-east-1/symmetric  1000.0   1250.0    125.0  29.3      orders-api,s3-ingest  ingest,orders
	//   999999999999/us-east-1/symmetric  1000.0   50.0      5.0    0.0       billing               orders
	//
	// Coupling (alone vs together; coupling% = 1 - goodput together / goodput alone)
	//   workload    goodput/s-alone  goodput/s-together  thr-att%-alone  thr-att%-together  p99ms-alone  p99ms-together  coupling%  shares-bucket-with  shares-key-with
	//   s3-ingest   600.0            590.0               0.0             20.9               2.50         180.50          1.7        orders-api          -
	//   orders-api  290.0            200.0               0.0             42.0               2.00         150.25          31.0       s3-ingest           billing
	//   billing     50.0             50.0                0.0             0.0                3.00         3.00            0.0        -                   orders-api
	//
	// Events (blast radius: workloads with non-throttle failures from the event's second on)
	//   at 20.0s  disable-key orders
	//     orders-api  600 failed  seconds 20-21  DisabledException=600
	//   at 22.0s  enable-key orders
	//     no workload failed after it
	//
	// Verdict
	//   FAIL: orders-api (3.3%, mostly dropped arrivals) failed more of its arrivals
	//   than the 1% error budget allows, other than by throttling
	//
	//   orders-api: 600 of its 18000 arrivals (3.3%) were dropped: they found the
	//   workload's max_in_flight requests already in flight and were never sent: the
	//   client fell behind (requests waiting in backoff, in the SDK's rate limiter
	//   or on a slow target). The scenario does not expect it.
	//
	//   orders-api: 600 of its 18000 arrivals (3.3%) failed with DisabledException
	//   (invalid key state): key orders was disabled, pending deletion or
	//   unavailable. Expected (disable-key of orders at 20s): not counted against
	//   the error budget.
	//
	//   Bucket 111111111111/us-east-1/symmetric (caller account 111111111111, Region
	//   us-east-1, class symmetric) throttled 29.3% of its 75000 attempts at 125% of
	//   its quota (1250.0/s demand, 1000.0/s quota). It is shared by orders-api and
	//   s3-ingest. Workloads on different keys were throttled (orders-api on key
	//   orders and s3-ingest on key ingest): throttling followed the bucket (caller
	//   account x Region x class), not the key.
	//
	//   s3-ingest kept its goodput; its p99 went from 2 ms alone to 180 ms together;
	//   it shares bucket 111111111111/us-east-1/symmetric with orders-api.
	//
	//   orders-api lost 31.0% of its goodput when run with the others (290.0/s
	//   alone, 200.0/s together); its p99 went from 2 ms alone to 150 ms together;
	//   it shares bucket 111111111111/us-east-1/symmetric with s3-ingest.
}

func ExampleRecorder() {
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	rec := record.NewRecorder(start, []record.WorkloadInfo{{Name: "orders-api", Operation: "Decrypt",
		Bucket: "111111111111/us-east-1/symmetric", TargetPerS: 10}})
	// Ten requests a second for two seconds, each intended every 100 ms.
	// Every fifth one is throttled once and then succeeds after a backoff.
	for i := 0; i < 20; i++ {
		intended := start.Add(time.Duration(i) * 100 * time.Millisecond)
		rec.Sent(0, intended)
		attempts := 1
		done := intended.Add(4 * time.Millisecond)
		if i%5 == 0 {
			rec.Attempt(0, intended, 3*time.Millisecond, record.Throttled, "ThrottlingException")
			attempts, done = 2, done.Add(50*time.Millisecond)
		}
		rec.Attempt(0, done.Add(-4*time.Millisecond), 4*time.Millisecond, record.OK, "")
		rec.Done(0, intended, done, attempts, record.OK, "")
	}
	w := rec.Finish(start.Add(2 * time.Second))[0]
	fmt.Printf("requests %d, attempts %d, throttled attempts %d, goodput %.1f/s\n",
		w.Requests, w.Attempts, w.ThrottledAttempts, w.GoodputPerS)
	fmt.Printf("p50 %.1f ms, p99 %.1f ms, seconds %d\n", w.LatencyMs.P50, w.LatencyMs.P99, len(w.Series))
	// Output:
	// requests 20, attempts 24, throttled attempts 4, goodput 10.0/s
	// p50 4.0 ms, p99 54.0 ms, seconds 2
}
