// Command gentrail writes the synthetic CloudTrail trail that the worked
// example of `kmsload import` (docs/import.md) and the import benchmark
// read: several accounts, S3 calling KMS for a role (SSE-KMS), a
// cross-account caller of a central key, a denied caller, and a signing
// burst that KMS throttled. See package internal/trailgen for the
// traffic.
//
//	go run ./importer/testdata/gentrail -o /tmp/trail -duration 10m
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/kmsload/kmsload/internal/trailgen"
)

func main() {
	var c trailgen.Config
	out := flag.String("o", "trail", "directory to write the trail under")
	flag.DurationVar(&c.Duration, "duration", 10*time.Minute, "length of the trail")
	flag.Float64Var(&c.Rate, "rate", 1, "multiplier of every steady rate")
	flag.Float64Var(&c.BurstRate, "burst-rate", 1600, "Sign calls per second during the burst (below 0: no burst)")
	flag.DurationVar(&c.BurstFor, "burst-for", 20*time.Second, "length of the burst")
	flag.Uint64Var(&c.Seed, "seed", 1, "seed of every draw")
	flag.BoolVar(&c.Plain, "plain", false, "write .json files instead of .json.gz")
	flag.Parse()
	start := time.Now()
	res, err := trailgen.Generate(*out, c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gentrail:", err)
		os.Exit(1)
	}
	var calls, throttled int64
	for name, n := range res.Calls {
		calls += n
		throttled += res.Throttled[name]
	}
	fmt.Printf("gentrail: %d files, %d records (%d KMS calls, %d throttled) under %s in %.1f s\n",
		res.Files, res.Records, calls, throttled, *out, time.Since(start).Seconds())
}
