package conns_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kmsload/kmsload/internal/conns"
)

func TestNewCounterMax(t *testing.T) {
	for _, tt := range []struct{ n, want int }{{128, 128}, {1, 1}, {0, 0}, {-1, 0}} {
		if got := conns.NewCounter(tt.n).Max(); got != tt.want {
			t.Errorf("NewCounter(%d).Max() = %d; want %d", tt.n, got, tt.want)
		}
	}
}

func TestCounterTrackCountsOpenAndPeak(t *testing.T) {
	c := conns.NewCounter(0)
	var tracked []net.Conn
	for range 3 {
		a, b := net.Pipe()
		defer b.Close()
		tracked = append(tracked, c.Track(a))
	}
	tracked[0].Close()
	tracked[0].Close() // a second Close counts nothing
	if got, want := [2]int{c.Open(), c.Peak()}, [2]int{2, 3}; got != want {
		t.Errorf("after one of three closed (twice): open, peak = %v; want %v", got, want)
	}
	if nc, ok := tracked[1].(interface{ NetConn() net.Conn }); !ok || nc.NetConn() == tracked[1] {
		t.Errorf("a tracked connection's NetConn must return the connection it wraps")
	}
}

func TestNilCounterCountsNothing(t *testing.T) {
	var c *conns.Counter
	a, b := net.Pipe()
	defer b.Close()
	if got := c.Track(a); got != a {
		t.Errorf("nil Counter: Track returned a wrapper; want the connection itself")
	}
	tr := &http.Transport{}
	c.Apply(tr)
	if tr.DialContext != nil || tr.MaxConnsPerHost != 0 || c.Max() != 0 || c.Open() != 0 || c.Peak() != 0 {
		t.Errorf("nil Counter changed the transport or counted something")
	}
}

func TestCounterApplyCountsTransportConnections(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer ts.Close()
	c := conns.NewCounter(2)
	tr := &http.Transport{}
	c.Apply(tr)
	if tr.MaxConnsPerHost != 2 {
		t.Errorf("MaxConnsPerHost = %d; want 2", tr.MaxConnsPerHost)
	}
	resp, err := (&http.Client{Transport: tr}).Get(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if c.Open() != 1 || c.Peak() != 1 {
		t.Errorf("after one request: open %d, peak %d; want 1, 1", c.Open(), c.Peak())
	}
	tr.CloseIdleConnections()
	if c.Open() != 0 {
		t.Errorf("after CloseIdleConnections: open %d; want 0", c.Open())
	}
}
