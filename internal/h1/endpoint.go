package h1

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"golang.org/x/net/http/httpproxy"

	"github.com/kmsload/kmsload/internal/conns"
)

// ErrNotApplicable is wrapped by ForEndpoint when a Client cannot carry
// an endpoint's requests.
var ErrNotApplicable = errors.New("h1: client not applicable")

// ForEndpoint returns a client for endpoint when it is a plain http://
// URL that no proxy of the environment (HTTP_PROXY, NO_PROXY) applies to,
// dialling its host (port 80 when the URL names none) with a 10 s dial
// timeout and 30 s TCP keep-alive, its connections capped and counted by
// counter. Otherwise it returns an error wrapping ErrNotApplicable that
// says why.
func ForEndpoint(endpoint string, counter *conns.Counter) (*Client, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("%w: endpoint %q: %v", ErrNotApplicable, endpoint, err)
	}
	if u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("%w: endpoint %q is not an http:// URL with a host", ErrNotApplicable, endpoint)
	}
	p, err := httpproxy.FromEnvironment().ProxyFunc()(u)
	if err != nil {
		return nil, fmt.Errorf("%w: endpoint %q: proxy settings: %v", ErrNotApplicable, endpoint, err)
	}
	if p != nil {
		return nil, fmt.Errorf("%w: endpoint %q goes through proxy %s", ErrNotApplicable, endpoint, p.Redacted())
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return New(addr, dialer.DialContext, counter), nil
}
