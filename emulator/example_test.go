package emulator_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"

	"github.com/kmsload/kmsload/emulator"
	"github.com/kmsload/kmsload/quota"
)

// Example starts the emulator on a loopback port, points an aws-sdk-go-v2
// KMS client at it (the 12-digit access key id is the caller account),
// encrypts and decrypts, then arms quotas scaled to one thousandth of AWS's
// and shows the throttle a client sees.
func Example() {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	srv, err := emulator.New(emulator.Options{Clock: func() time.Time { return now }})
	if err != nil {
		panic(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	c := kms.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("111111111111", "secret", ""),
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
	}, func(o *kms.Options) { o.BaseEndpoint = aws.String(ts.URL) })
	ctx := context.Background()

	key, err := c.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		panic(err)
	}
	enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: key.KeyMetadata.KeyId, Plaintext: []byte("hello")})
	if err != nil {
		panic(err)
	}
	dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
	if err != nil {
		panic(err)
	}
	fmt.Printf("decrypted %q with %s\n", dec.Plaintext, key.KeyMetadata.KeySpec)

	cfg := quota.DefaultConfig()
	cfg.Scale = 0.001 // us-east-1 symmetric: 100 requests per second
	m, err := quota.New(cfg)
	if err != nil {
		panic(err)
	}
	srv.SetQuota(m)
	ok := 0
	for {
		_, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: key.KeyMetadata.KeyId, NumberOfBytes: aws.Int32(32)})
		var ae smithy.APIError
		if errors.As(err, &ae) {
			fmt.Printf("after %d requests in one second: %s\n", ok, ae.ErrorCode())
			break
		}
		ok++
	}
	// Output:
	// decrypted "hello" with SYMMETRIC_DEFAULT
	// after 100 requests in one second: ThrottlingException
}
