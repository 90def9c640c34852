package policy

import (
	"net"
	"net/http"
	"time"
)

// NewEngineClient returns the HTTP client of a remote authorization engine
// (OPA server, OpenFGA): keep-alive with up to maxIdlePerHost idle
// connections per server, no proxy (the environment's proxy settings are
// ignored), no redirects followed, bounded dial and TLS handshake times.
// Request deadlines come from the caller's context.
func NewEngineClient(maxIdlePerHost int) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{
		Transport: &http.Transport{
			DialContext:         d.DialContext,
			MaxIdleConns:        4 * maxIdlePerHost,
			MaxIdleConnsPerHost: maxIdlePerHost,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 5 * time.Second,
			ForceAttemptHTTP2:   true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
