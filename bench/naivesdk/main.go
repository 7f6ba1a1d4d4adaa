// Command naivesdk is the benchmark's naive client: aws-sdk-go-v2's KMS
// client as an application would build it (kms.New with a base endpoint
// and static credentials; the default retryer and HTTP client), called in
// a closed loop by a fixed number of goroutines, each sending its next
// GenerateDataKey as soon as the previous one returns. It prints the
// successful requests per second over the measured window.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

func main() {
	endpoint := flag.String("endpoint", "http://127.0.0.1:4598", "KMS endpoint URL")
	workers := flag.Int("workers", 64, "goroutines, each with one request in flight")
	duration := flag.Duration("duration", 10*time.Second, "measured window")
	warmup := flag.Duration("warmup", 2*time.Second, "unmeasured loop before the window")
	account := flag.String("account", "111111111111", "access key id (the account on kmsload's emulator and the null handler)")
	region := flag.String("region", "us-east-1", "Region to sign for")
	keyID := flag.String("key", "00000000-0000-0000-0000-000000000000", "KeyId of each request")
	flag.Parse()

	c := kms.New(kms.Options{
		Region:       *region,
		BaseEndpoint: aws.String(*endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(*account, "naivesdk", ""),
	})
	ctx := context.Background()
	in := &kms.GenerateDataKeyInput{KeyId: keyID, NumberOfBytes: aws.Int32(32)}

	// loop runs the closed loop for d and returns the successful and
	// failed requests and the time until the last request returned.
	loop := func(d time.Duration) (ok, failed int64, elapsed time.Duration) {
		var nOK, nFailed atomic.Int64
		var firstErr atomic.Value
		start := time.Now()
		end := start.Add(d)
		var wg sync.WaitGroup
		for range *workers {
			wg.Go(func() {
				var o, f int64
				for time.Now().Before(end) {
					if _, err := c.GenerateDataKey(ctx, in); err != nil {
						f++
						firstErr.CompareAndSwap(nil, err)
						continue
					}
					o++
				}
				nOK.Add(o)
				nFailed.Add(f)
			})
		}
		wg.Wait()
		if err, _ := firstErr.Load().(error); err != nil {
			log.Printf("naivesdk: first error: %v", err)
		}
		return nOK.Load(), nFailed.Load(), time.Since(start)
	}

	if *warmup > 0 {
		loop(*warmup)
	}
	ok, failed, elapsed := loop(*duration)
	fmt.Printf("%.0f requests/s (%d ok, %d failed in %.2fs, %d goroutines)\n",
		float64(ok)/elapsed.Seconds(), ok, failed, elapsed.Seconds(), *workers)
}
