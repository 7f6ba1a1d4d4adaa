package h1_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/kmsload/kmsload/internal/conns"
	"github.com/kmsload/kmsload/internal/h1"
)

func ExampleForEndpoint() {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		fmt.Fprintf(w, `{"Target":%q}`, r.Header.Get("X-Amz-Target"))
	}))
	defer ts.Close()

	counter := conns.NewCounter(4)
	c, err := h1.ForEndpoint(ts.URL, counter)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodPost, ts.URL, strings.NewReader("{}"))
	req.Header.Set("X-Amz-Target", "TrentService.GenerateRandom")
	resp, err := c.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body), "connections open:", counter.Open())

	_, err = h1.ForEndpoint("https://kms.us-east-1.amazonaws.com", counter)
	fmt.Println(err)
	// Output:
	// 200 {"Target":"TrentService.GenerateRandom"} connections open: 1
	// h1: client not applicable: endpoint "https://kms.us-east-1.amazonaws.com" is not an http:// URL with a host
}
