package metrics_test

import (
	"bufio"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/kmsload/kmsload/metrics"
	"github.com/kmsload/kmsload/record"
)

// A window's observer is given to the window's record.Recorder; the
// handler serves what it has counted.
func Example() {
	m := metrics.New()
	m.SetRun("quickstart", "embedded")
	wls := []record.WorkloadInfo{{Name: "orders-api", Bucket: "111111111111/us-east-1/symmetric", BucketQuotaPerS: 1000}}
	start := time.Now()
	rec := record.NewRecorder(start, wls)
	rec.SetObserver(m.Window(metrics.WindowCombined, wls))

	rec.Sent(0, start)
	rec.Attempt(0, start, 2*time.Millisecond, record.Throttled, "ThrottlingException")
	rec.Attempt(0, start.Add(time.Second), 2*time.Millisecond, record.OK, "")
	rec.Done(0, start, start.Add(1002*time.Millisecond), 2, record.OK, "")

	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	sc := bufio.NewScanner(w.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "kmsload_attempts_total") || strings.HasPrefix(line, "kmsload_requests_total") ||
			strings.HasPrefix(line, "kmsload_run_info") {
			fmt.Println(line)
		}
	}
	// Output:
	// kmsload_attempts_total{bucket="111111111111/us-east-1/symmetric",outcome="failed",window="combined",workload="orders-api"} 0
	// kmsload_attempts_total{bucket="111111111111/us-east-1/symmetric",outcome="ok",window="combined",workload="orders-api"} 1
	// kmsload_attempts_total{bucket="111111111111/us-east-1/symmetric",outcome="throttled",window="combined",workload="orders-api"} 1
	// kmsload_requests_total{outcome="failed",window="combined",workload="orders-api"} 0
	// kmsload_requests_total{outcome="ok",window="combined",workload="orders-api"} 1
	// kmsload_requests_total{outcome="throttled",window="combined",workload="orders-api"} 0
	// kmsload_run_info{phase="combined",scenario="quickstart",target="embedded"} 1
}
