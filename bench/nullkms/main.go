// Command nullkms is the benchmark's ceiling: an HTTP server that answers
// every KMS request with a fixed, valid response, doing no work. It shows
// what the HTTP stack and the load generator alone can reach.
//
// GenerateDataKey, Encrypt and Decrypt get one fixed body each. CreateKey
// and DescribeKey get the metadata of an enabled SYMMETRIC_DEFAULT
// ENCRYPT_DECRYPT key whose ARN carries the caller's account (the access
// key id of the Authorization header) and Region (its credential scope),
// so kmsload's preflight and provisioning accept it. Every other
// operation (PutKeyPolicy, CreateAlias, ScheduleKeyDeletion, ...) gets {}.
// Nothing is stored: every key exists and is always enabled.
package main

import (
	"flag"
	"log"
	"net/http"
	"strconv"
	"strings"
)

const (
	keyID = "00000000-0000-0000-0000-000000000000"

	gdkBody = `{"CiphertextBlob":"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/QA==",` +
		`"KeyId":"arn:aws:kms:us-east-1:111111111111:key/` + keyID + `",` +
		`"Plaintext":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}`
	encryptBody = `{"CiphertextBlob":"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/QA==",` +
		`"KeyId":"arn:aws:kms:us-east-1:111111111111:key/` + keyID + `","EncryptionAlgorithm":"SYMMETRIC_DEFAULT"}`
	decryptBody = `{"KeyId":"arn:aws:kms:us-east-1:111111111111:key/` + keyID + `",` +
		`"Plaintext":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=","EncryptionAlgorithm":"SYMMETRIC_DEFAULT"}`
)

// fixed holds the prebuilt response of each data-plane operation, with its
// Content-Length.
var fixed = map[string][2]string{
	"TrentService.GenerateDataKey": {gdkBody, strconv.Itoa(len(gdkBody))},
	"TrentService.Encrypt":         {encryptBody, strconv.Itoa(len(encryptBody))},
	"TrentService.Decrypt":         {decryptBody, strconv.Itoa(len(decryptBody))},
}

// caller returns the account (access key id) and Region of a SigV4
// Authorization header: "... Credential=AKID/DATE/REGION/kms/aws4_request, ...".
func caller(auth string) (account, region string) {
	account, region = "111111111111", "us-east-1"
	i := strings.Index(auth, "Credential=")
	if i < 0 {
		return
	}
	f := strings.SplitN(auth[i+len("Credential="):], "/", 4)
	if len(f) >= 3 {
		if f[0] != "" {
			account = f[0]
		}
		if f[2] != "" {
			region = f[2]
		}
	}
	return
}

// metadata is a KeyMetadata response for the caller of r.
func metadata(r *http.Request) string {
	account, region := caller(r.Header.Get("Authorization"))
	arn := "arn:aws:kms:" + region + ":" + account + ":key/" + keyID
	return `{"KeyMetadata":{"AWSAccountId":"` + account + `","Arn":"` + arn + `","KeyId":"` + keyID + `",` +
		`"CreationDate":1.7671968E9,"Enabled":true,"KeyState":"Enabled","KeyManager":"CUSTOMER","Origin":"AWS_KMS",` +
		`"KeySpec":"SYMMETRIC_DEFAULT","CustomerMasterKeySpec":"SYMMETRIC_DEFAULT","KeyUsage":"ENCRYPT_DECRYPT",` +
		`"EncryptionAlgorithms":["SYMMETRIC_DEFAULT"],"MultiRegion":false,"Description":""}}`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:4598", "listen address")
	flag.Parse()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read the request as a real server must.
		buf := make([]byte, 512)
		for {
			if _, err := r.Body.Read(buf); err != nil {
				break
			}
		}
		hd := w.Header()
		hd.Set("Content-Type", "application/x-amz-json-1.1")
		hd.Set("x-amzn-RequestId", "00000000-0000-0000-0000-000000000000")
		op := r.Header.Get("X-Amz-Target")
		if f, ok := fixed[op]; ok {
			hd.Set("Content-Length", f[1])
			w.Write([]byte(f[0])) //nolint:errcheck // nothing to do for a benchmark
			return
		}
		body := "{}"
		switch op {
		case "TrentService.CreateKey", "TrentService.DescribeKey":
			body = metadata(r)
		}
		hd.Set("Content-Length", strconv.Itoa(len(body)))
		w.Write([]byte(body)) //nolint:errcheck // nothing to do for a benchmark
	})
	log.Fatal(http.ListenAndServe(*addr, h))
}
