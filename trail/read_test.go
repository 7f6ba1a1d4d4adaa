package trail_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmsload/kmsload/trail"
)

// Records shaped as the AWS KMS Developer Guide's "Examples of AWS KMS log
// entries" show them.
const (
	decryptEvent   = `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"EX_PRINCIPAL_ID","arn":"arn:aws:iam::111122223333:user/Alice","accountId":"111122223333","accessKeyId":"AKIAIOSFODNN7EXAMPLE","userName":"Alice"},"eventTime":"2020-07-27T22:58:24Z","eventSource":"kms.amazonaws.com","eventName":"Decrypt","awsRegion":"us-west-2","sourceIPAddress":"192.0.2.0","userAgent":"aws-cli/2","requestParameters":{"encryptionContext":{"Department":"10103.0"},"encryptionAlgorithm":"SYMMETRIC_DEFAULT"},"responseElements":null,"requestID":"12345126-30d5-4b28-98b9-9153da559963","eventID":"abcde202-ba1a-467c-b4ba-f729d45ae521","readOnly":true,"resources":[{"accountId":"111122223333","type":"AWS::KMS::Key","ARN":"arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}],"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}`
	s3Event        = `{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:app","arn":"arn:aws:sts::111122223333:assumed-role/app/i-0123","accountId":"111122223333","invokedBy":"s3.amazonaws.com"},"eventTime":"2020-07-27T22:58:25Z","eventSource":"kms.amazonaws.com","eventName":"GenerateDataKey","awsRegion":"us-west-2","sourceIPAddress":"s3.amazonaws.com","userAgent":"s3.amazonaws.com","requestParameters":{"keyId":"arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab","keySpec":"AES_256","encryptionContext":{"aws:s3:arn":"arn:aws:s3:::bucket/key"}},"resources":[{"accountId":"111122223333","type":"AWS::KMS::Key","ARN":"arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}],"recipientAccountId":"111122223333"}`
	crossEvent     = `{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::444455556666:assumed-role/payments/x","accountId":"444455556666"},"eventTime":"2020-07-27T22:58:26Z","eventSource":"kms.amazonaws.com","eventName":"Encrypt","awsRegion":"us-west-2","requestParameters":{"keyId":"arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"},"resources":[{"accountId":"111122223333","type":"AWS::KMS::Key","ARN":"arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}],"recipientAccountId":"444455556666"}`
	throttledEvent = `{"userIdentity":{"type":"IAMUser","accountId":"111122223333","arn":"arn:aws:iam::111122223333:user/batch"},"eventTime":"2020-07-27T22:58:27Z","eventSource":"kms.amazonaws.com","eventName":"GenerateDataKey","awsRegion":"us-west-2","errorCode":"ThrottlingException","errorMessage":"Rate exceeded","requestParameters":{"keyId":"alias/app","numberOfBytes":32},"recipientAccountId":"111122223333"}`
	otherEvent     = `{"userIdentity":{"type":"IAMUser","accountId":"111122223333"},"eventTime":"2020-07-27T22:58:28Z","eventSource":"s3.amazonaws.com","eventName":"PutObject","awsRegion":"us-west-2"}`
	badTypes       = `{"eventTime":12,"eventSource":"kms.amazonaws.com","eventName":"Decrypt"}`
)

func write(t *testing.T, path, content string, gz bool) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	b := []byte(content)
	if gz {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write(b)
		w.Close()
		b = buf.Bytes()
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRead: delivery files plain and gzipped in a directory tree, a
// JSON-lines export, non-KMS events, bad records (each named by file and
// index) and a truncated file; the good records all arrive.
func TestRead(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "AWSLogs/111122223333/CloudTrail/us-west-2/2020/07/27/b.json.gz"),
		`{"Records":[`+s3Event+`,`+badTypes+`,`+crossEvent+`]}`, true)
	write(t, filepath.Join(dir, "AWSLogs/111122223333/CloudTrail/us-west-2/2020/07/27/a.json"),
		`{"Records":[`+decryptEvent+`,`+otherEvent+`]}`, false)
	write(t, filepath.Join(dir, "lake/export.jsonl"), throttledEvent+"\n\n"+"{not json\n"+decryptEvent+"\n", false)
	write(t, filepath.Join(dir, "truncated.json"), `{"Records":[`+decryptEvent+`,{"eventTime":`, false)
	write(t, filepath.Join(dir, "notes.txt"), "not a log", false)
	var got []trail.Event
	s, err := trail.Read([]string{dir}, func(e trail.Event) error { got = append(got, e); return nil })
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range got {
		names = append(names, e.Name)
	}
	// a.json, b.json.gz, lake/export.jsonl, truncated.json in name order.
	if want := "Decrypt GenerateDataKey Encrypt GenerateDataKey Decrypt Decrypt"; strings.Join(names, " ") != want {
		t.Errorf("events %v; want %s", names, want)
	}
	if s.Files != 4 || s.KMS != 6 || s.Other != 1 || s.SkippedCount != 3 {
		t.Errorf("summary %+v; want 4 files, 6 KMS events, 1 other, 3 skipped", s)
	}
	var reasons []string
	for _, k := range s.Skipped {
		reasons = append(reasons, k.String())
	}
	joined := strings.Join(reasons, "\n")
	for _, want := range []string{"b.json.gz: record 1: not a CloudTrail event", "export.jsonl: record 1: malformed JSON", "truncated.json: record 1: malformed JSON, the rest of the file is skipped"} {
		if !strings.Contains(joined, want) {
			t.Errorf("skipped:\n%s\nwant a line with %q", joined, want)
		}
	}
}

// TestEventFields: the caller's account, the key's owner, cross-account
// use, a service acting for the caller, throttling.
func TestEventFields(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "t.json"), `{"Records":[`+decryptEvent+`,`+s3Event+`,`+crossEvent+`,`+throttledEvent+`]}`, false)
	var es []trail.Event
	if _, err := trail.Read([]string{dir}, func(e trail.Event) error { es = append(es, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(es) != 4 {
		t.Fatalf("%d events; want 4", len(es))
	}
	dec, s3, cross, thr := es[0], es[1], es[2], es[3]
	if dec.CallerAccount() != "111122223333" || dec.KeyAccount() != "111122223333" || dec.CrossAccount() || dec.Params.EncryptionContext["Department"] != "10103.0" {
		t.Errorf("Decrypt: caller %s key %s cross %v", dec.CallerAccount(), dec.KeyAccount(), dec.CrossAccount())
	}
	if s3.Identity.InvokedBy != "s3.amazonaws.com" || s3.CallerAccount() != "111122223333" || s3.Params.KeySpec != "AES_256" {
		t.Errorf("S3's GenerateDataKey: invokedBy %q caller %s keySpec %s", s3.Identity.InvokedBy, s3.CallerAccount(), s3.Params.KeySpec)
	}
	if !cross.CrossAccount() || cross.CallerAccount() != "444455556666" || cross.KeyAccount() != "111122223333" {
		t.Errorf("cross-account Encrypt: caller %s key %s cross %v", cross.CallerAccount(), cross.KeyAccount(), cross.CrossAccount())
	}
	if !thr.Throttled() || thr.KeyARN() != "" || thr.Params.NumberOfBytes != 32 || !thr.Time.Equal(dec.Time.Add(3e9)) {
		t.Errorf("throttled GenerateDataKey: throttled %v key %q bytes %d time %v", thr.Throttled(), thr.KeyARN(), thr.Params.NumberOfBytes, thr.Time)
	}
}

// TestReadStops: fn's error stops the read and is returned.
func TestReadStops(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "t.json"), `{"Records":[`+decryptEvent+`,`+decryptEvent+`]}`, false)
	stop := errors.New("enough")
	n := 0
	_, err := trail.Read([]string{dir}, func(trail.Event) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("Read = %v after %d events; want the callback's error after 1", err, n)
	}
}

func FuzzReadStream(f *testing.F) {
	f.Add([]byte(`{"Records":[` + decryptEvent + `]}`))
	f.Add([]byte(throttledEvent + "\n" + badTypes))
	f.Add([]byte(`{"Records":[` + decryptEvent + `,{"eventTime":`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := trail.ReadStream("f.json", bytes.NewReader(b), func(trail.Event) error { return nil })
		if err != nil || s.Records < s.KMS+s.Other || s.SkippedCount < int64(len(s.Skipped)) {
			t.Errorf("ReadStream = %+v, %v", s, err)
		}
	})
}

// BenchmarkReadStream reads a delivery file of 10,000 Decrypt records;
// events/s is the figure `kmsload import cloudtrail` starts from.
func BenchmarkReadStream(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString(`{"Records":[`)
	for i := range 10000 {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(decryptEvent)
	}
	buf.WriteString(`]}`)
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		if _, err := trail.ReadStream("bench.json", bytes.NewReader(data), func(trail.Event) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(10000*b.N)/b.Elapsed().Seconds(), "events/s")
}
