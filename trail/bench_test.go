package trail_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"testing"
	"time"

	"github.com/kmsload/kmsload/trail"
)

// synthetic writes a delivery file of n records shaped like a day of an
// account's trail: KMS calls by applications, by S3 for SSE-KMS, from
// another account and throttled, over a few keys and callers, with one
// record in eight from other services. Request and event IDs are random,
// as CloudTrail's are, so that gzip compresses it as it would a real
// file. It returns the count of KMS records.
func synthetic(w io.Writer, n int, seed uint64) (kms int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	t0 := time.Date(2020, 7, 27, 0, 0, 0, 0, time.UTC)
	io.WriteString(w, `{"Records":[`)
	for i := range n {
		if i > 0 {
			io.WriteString(w, ",")
		}
		key := fmt.Sprintf("arn:aws:kms:us-west-2:111122223333:key/%08x-12ab-34cd-56ef-1234567890ab", rng.IntN(20))
		when := t0.Add(time.Duration(i) * 7 * time.Millisecond).Format(time.RFC3339)
		ids := fmt.Sprintf(`"requestID":"%08x-30d5-4b28-98b9-%012x","eventID":"%08x-ba1a-467c-b4ba-%012x"`,
			rng.Uint32(), rng.Uint64()>>16, rng.Uint32(), rng.Uint64()>>16)
		res := `"resources":[{"accountId":"111122223333","type":"AWS::KMS::Key","ARN":"` + key + `"}]`
		var rec string
		switch k := rng.IntN(16); {
		case k < 2:
			rec = fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE%d","arn":"arn:aws:iam::111122223333:user/u%d","accountId":"111122223333","accessKeyId":"AKIAIOSFODNN7EXAMPLE","userName":"u%d"},"eventTime":"%s","eventSource":"s3.amazonaws.com","eventName":"PutObject","awsRegion":"us-west-2","sourceIPAddress":"192.0.2.%d","userAgent":"[aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5]","requestParameters":{"bucketName":"bucket","Host":"bucket.s3.us-west-2.amazonaws.com","key":"data/%d.parquet"},"responseElements":null,%s,"readOnly":false,"resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::bucket/data/%d.parquet"}],"eventType":"AwsApiCall","managementEvent":false,"recipientAccountId":"111122223333","eventCategory":"Data"}`,
				rng.IntN(50), rng.IntN(50), rng.IntN(50), when, rng.IntN(256), rng.IntN(1e6), ids, rng.IntN(1e6))
			kms--
		case k < 8:
			rec = fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:i-%012x","arn":"arn:aws:sts::111122223333:assumed-role/app/i-%012x","accountId":"111122223333","accessKeyId":"ASIAEXAMPLE%04d","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLE","arn":"arn:aws:iam::111122223333:role/app","accountId":"111122223333","userName":"app"},"attributes":{"creationDate":"%s","mfaAuthenticated":"false"}}},"eventTime":"%s","eventSource":"kms.amazonaws.com","eventName":"Decrypt","awsRegion":"us-west-2","sourceIPAddress":"10.0.%d.%d","userAgent":"aws-sdk-java/1.12.470 Linux/5.10 OpenJDK_64-Bit_Server_VM/17","requestParameters":{"encryptionContext":{"Department":"%d"},"encryptionAlgorithm":"SYMMETRIC_DEFAULT"},"responseElements":null,%s,"readOnly":true,%s,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"kms.us-west-2.amazonaws.com"}}`,
				rng.IntN(8), rng.IntN(8), rng.IntN(100), when, when, rng.IntN(4), rng.IntN(256), rng.IntN(10), ids, res)
		case k < 12:
			rec = fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"AWSService","invokedBy":"s3.amazonaws.com"},"eventTime":"%s","eventSource":"kms.amazonaws.com","eventName":"GenerateDataKey","awsRegion":"us-west-2","sourceIPAddress":"s3.amazonaws.com","userAgent":"s3.amazonaws.com","requestParameters":{"keyId":"%s","keySpec":"AES_256","encryptionContext":{"aws:s3:arn":"arn:aws:s3:::bucket/data/%d.parquet"}},"responseElements":null,%s,"readOnly":true,%s,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","sharedEventID":"%08x-1c3f-4a5e-9a8b-%012x","eventCategory":"Management"}`,
				when, key, rng.IntN(1e6), ids, res, rng.Uint32(), rng.Uint64()>>16)
		case k < 14:
			rec = fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROAPAYMENTS:x%d","arn":"arn:aws:sts::444455556666:assumed-role/payments/x%d","accountId":"444455556666","accessKeyId":"ASIAPAYMENTS%04d"},"eventTime":"%s","eventSource":"kms.amazonaws.com","eventName":"Encrypt","awsRegion":"us-west-2","sourceIPAddress":"203.0.113.%d","userAgent":"Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#5.10 md/arch#x86_64 lang/python#3.12.1","requestParameters":{"keyId":"%s","encryptionAlgorithm":"SYMMETRIC_DEFAULT"},"responseElements":null,%s,"readOnly":false,%s,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"444455556666","eventCategory":"Management"}`,
				rng.IntN(4), rng.IntN(4), rng.IntN(100), when, rng.IntN(256), key, ids, res)
		default:
			rec = fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDABATCH","arn":"arn:aws:iam::111122223333:user/batch","accountId":"111122223333","accessKeyId":"AKIABATCHEXAMPLE","userName":"batch"},"eventTime":"%s","eventSource":"kms.amazonaws.com","eventName":"GenerateDataKey","awsRegion":"us-west-2","errorCode":"ThrottlingException","errorMessage":"Rate exceeded","sourceIPAddress":"198.51.100.%d","userAgent":"aws-cli/2.15.0 Python/3.11.6 Linux/5.10 exe/x86_64.amzn.2","requestParameters":{"keyId":"alias/app","numberOfBytes":32},"responseElements":null,%s,"readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}`,
				when, rng.IntN(256), ids)
		}
		kms++
		io.WriteString(w, rec)
	}
	io.WriteString(w, `]}`)
	return kms
}

// BenchmarkImport reads a synthetic delivery file of 20,000 records (one
// in eight from other services), plain and gzipped: events/s counts the
// KMS events delivered per second, allocs/event the allocations per KMS
// event.
func BenchmarkImport(b *testing.B) {
	const records = 20000
	var plain bytes.Buffer
	kms := synthetic(&plain, records, 1)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(plain.Bytes())
	zw.Close()
	for _, c := range []struct {
		name string
		data []byte
	}{{"plain", plain.Bytes()}, {"gzip", gz.Bytes()}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(plain.Len()))
			for b.Loop() {
				s, err := trail.ReadStream("bench.json", bytes.NewReader(c.data), func(trail.Event) error { return nil })
				if err != nil || s.KMS != int64(kms) || s.SkippedCount != 0 {
					b.Fatalf("ReadStream = %+v, %v; want %d KMS events", s, err, kms)
				}
			}
			b.ReportMetric(float64(kms*b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(testing.AllocsPerRun(1, func() {
				trail.ReadStream("bench.json", bytes.NewReader(c.data), func(trail.Event) error { return nil })
			}))/float64(kms), "allocs/event")
		})
	}
}

// trailStream returns a maker of delivery files of n records (n a
// multiple of 20,000): synthetic's 20,000 records over and over, gzipped
// (as concatenated gzip members, which a gzip reader reads as one stream)
// or not, made as they are read; and the count of their KMS records.
func trailStream(n int, gz bool) (func() io.Reader, int) {
	var block bytes.Buffer
	kms := synthetic(&block, 20000, 2)
	body := block.Bytes()[len(`{"Records":[`) : block.Len()-len(`]}`)]
	parts := [][]byte{[]byte(`{"Records":[`), body, append([]byte(","), body...), []byte(`]}`)}
	if gz {
		for i, p := range parts {
			var z bytes.Buffer
			w := gzip.NewWriter(&z)
			w.Write(p)
			w.Close()
			parts[i] = z.Bytes()
		}
	}
	return func() io.Reader {
		rs := []io.Reader{bytes.NewReader(parts[0]), bytes.NewReader(parts[1])}
		for range n/20000 - 1 {
			rs = append(rs, bytes.NewReader(parts[2]))
		}
		return io.MultiReader(append(rs, bytes.NewReader(parts[3]))...)
	}, kms * (n / 20000)
}

// BenchmarkImportFlat reads a trail of TRAIL_BENCH_EVENTS records
// (default 1,000,000) in one stream, plain and gzipped, once per
// iteration, and reports KMS events/s, allocations per KMS event and how
// far the live heap (as the last collection found it) rose above where it
// was before the read, sampled every 20,000 events: it stays flat however
// long the trail. With TRAIL_BENCH_SUMMARY set it also prints them as
// one line, for make bench.
func BenchmarkImportFlat(b *testing.B) {
	n := 1000000
	if v, err := strconv.Atoi(os.Getenv("TRAIL_BENCH_EVENTS")); err == nil && v >= 20000 {
		n = v / 20000 * 20000
	}
	var rate [2]float64
	var allocs, rise float64
	for i, gz := range []bool{false, true} {
		b.Run(map[bool]string{false: "plain", true: "gzip"}[gz], func(b *testing.B) {
			stream, kms := trailStream(n, gz)
			heap := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
			runtime.GC()
			metrics.Read(heap)
			base, peak, events := heap[0].Value.Uint64(), uint64(0), 0
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			for b.Loop() {
				s, err := trail.ReadStream("flat.json", stream(), func(trail.Event) error {
					if events++; events%20000 == 0 {
						metrics.Read(heap)
						peak = max(peak, heap[0].Value.Uint64())
					}
					return nil
				})
				if err != nil || s.KMS != int64(kms) {
					b.Fatalf("ReadStream = %+v, %v; want %d KMS events", s, err, kms)
				}
			}
			runtime.ReadMemStats(&m1)
			rate[i] = float64(kms*b.N) / b.Elapsed().Seconds()
			allocs = float64(m1.Mallocs-m0.Mallocs) / float64(kms*b.N)
			rise = max(rise, float64(max(peak, base)-base)/(1<<20))
			b.ReportMetric(rate[i], "events/s")
			b.ReportMetric(allocs, "allocs/event")
			b.ReportMetric(float64(max(peak, base)-base)/(1<<20), "heap-rise-MiB")
		})
	}
	if os.Getenv("TRAIL_BENCH_SUMMARY") != "" {
		fmt.Printf("trail import of %s records in one stream: %s KMS events/s (plain), %s events/s (gzip), allocs/event %.1f, live heap +%.1f MiB (goal: >= 200,000 events/s, flat)\n",
			thousands(n), thousands(int(rate[0])), thousands(int(rate[1])), allocs, rise)
	}
}

// thousands writes n with thousands separators.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
