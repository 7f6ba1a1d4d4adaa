// Command nullkms is the benchmark's ceiling: an HTTP server that answers
// every KMS request with one fixed GenerateDataKey response, doing no work.
// It shows what the HTTP stack and the load generator alone can reach.
package main

import (
	"flag"
	"log"
	"net/http"
	"strconv"
)

const body = `{"CiphertextBlob":"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/QA==",` +
	`"KeyId":"arn:aws:kms:us-east-1:111111111111:key/00000000-0000-0000-0000-000000000000",` +
	`"Plaintext":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}`

func main() {
	addr := flag.String("addr", "127.0.0.1:4598", "listen address")
	flag.Parse()
	n := strconv.Itoa(len(body))
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
		hd.Set("Content-Length", n)
		hd.Set("x-amzn-RequestId", "00000000-0000-0000-0000-000000000000")
		w.Write([]byte(body)) //nolint:errcheck // nothing to do for a benchmark
	})
	log.Fatal(http.ListenAndServe(*addr, h))
}
