package config

import (
	"flag"
	"math"
	"time"
)

// Limits is server.limits: admission limits and backpressure on the S3
// listener. Every limit is off by default (0). All of them are reloaded on
// SIGHUP; a lowered cap applies to new connections and requests, never to
// those already admitted. Refusals are counted in
// mizuchi_limit_refusals_total{limit="per_ip|inflight|inflight_identity|rate|min_body_rate"}.
type Limits struct {
	// MaxConnectionsPerIP caps concurrent client connections from one
	// client IP (the TCP peer, or with server.proxy_protocol the client
	// its header names); a connection beyond it gets 503 SlowDown with
	// Retry-After: 1 and is closed. Flag -max-connections-per-ip. Default 0 = off.
	MaxConnectionsPerIP int `yaml:"max_connections_per_ip"`
	// MinBodyBytesPerSecond is the slowest an upload body may arrive,
	// averaged over each window of MinBodyRateWindow: a body bringing less
	// in a window is cut with 400 RequestTimeout and nothing is stored (the
	// backend request is aborted). A size such as 1KiB. Windows count the
	// time the gateway waits for the client, not time spent writing to a
	// slow backend (except inside a splice call, which does both).
	// Flag -min-body-bytes-per-second. Default 0 = off.
	MinBodyBytesPerSecond Size `yaml:"min_body_bytes_per_second"`
	// MinBodyRateWindow is the window MinBodyBytesPerSecond is averaged
	// over. YAML: min_body_rate_window_seconds (seconds or "10s"); flag
	// -min-body-rate-window. Default 10s: long enough for TCP slow start
	// and a client's pauses between parts, short enough to free a slot
	// held by a trickling client quickly.
	MinBodyRateWindow time.Duration `yaml:"min_body_rate_window_seconds,s"`
	// MaxInflightUploads caps the PutObject and UploadPart requests in
	// flight in this process (from the accepted head to the reply); one
	// beyond it is answered 503 SlowDown with Retry-After: 1 at once,
	// before 100 Continue and before any body byte is read or forwarded.
	// Flag -max-inflight-uploads. Default 0 = off.
	MaxInflightUploads int `yaml:"max_inflight_uploads"`
	// MaxInflightUploadsPerIdentity is the same cap per authenticated
	// identity (authentication method and subject, or access key).
	// Anonymous routes are not subject to it. Flag
	// -max-inflight-uploads-per-identity. Default 0 = off.
	MaxInflightUploadsPerIdentity int `yaml:"max_inflight_uploads_per_identity"`
	// RequestsPerSecondPerIdentity is a token bucket per authenticated
	// identity over all its requests: beyond it a request gets 503
	// SlowDown with Retry-After (seconds until a token). Anonymous routes
	// are not subject to it. At most 32768 identities are tracked; idle
	// ones are forgotten first. Flag -requests-per-second-per-identity.
	// Default 0 = off.
	RequestsPerSecondPerIdentity float64 `yaml:"requests_per_second_per_identity"`
	// BurstPerIdentity is the token bucket's size: requests an idle
	// identity may send at once. Flag -burst-per-identity. Default 0 =
	// max(1, requests_per_second_per_identity).
	BurstPerIdentity int `yaml:"burst_per_identity"`
}

func (c *Config) validateLimits(v *validator) {
	l := &c.Server.Limits
	const p = "server.limits."
	if l.MaxConnectionsPerIP < 0 {
		v.errorf(p+"max_connections_per_ip", "must not be negative, got %d", l.MaxConnectionsPerIP)
	}
	if l.MinBodyBytesPerSecond < 0 {
		v.errorf(p+"min_body_bytes_per_second", "must not be negative, got %d", int64(l.MinBodyBytesPerSecond))
	}
	if l.MinBodyRateWindow < time.Second || l.MinBodyRateWindow > time.Hour {
		v.errorf(p+"min_body_rate_window_seconds", "must be between 1s and 1h, got %s", l.MinBodyRateWindow)
	}
	if l.MaxInflightUploads < 0 {
		v.errorf(p+"max_inflight_uploads", "must not be negative, got %d", l.MaxInflightUploads)
	}
	if l.MaxInflightUploadsPerIdentity < 0 {
		v.errorf(p+"max_inflight_uploads_per_identity", "must not be negative, got %d", l.MaxInflightUploadsPerIdentity)
	}
	if r := l.RequestsPerSecondPerIdentity; r < 0 || math.IsNaN(r) || math.IsInf(r, 0) {
		v.errorf(p+"requests_per_second_per_identity", "must be a non-negative number, got %v", r)
	}
	if l.BurstPerIdentity < 0 {
		v.errorf(p+"burst_per_identity", "must not be negative, got %d", l.BurstPerIdentity)
	}
}

// LimitFlags are the flags overriding server.limits.
type LimitFlags struct {
	MaxConnectionsPerIP           int
	MinBodyBytesPerSecond         Size
	MinBodyRateWindow             time.Duration
	MaxInflightUploads            int
	MaxInflightUploadsPerIdentity int
	RequestsPerSecondPerIdentity  float64
	BurstPerIdentity              int
}

func (f *LimitFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&f.MaxConnectionsPerIP, "max-connections-per-ip", 0,
		"Maximum concurrent client connections per client IP; 0 means no limit. Overrides server.limits.max_connections_per_ip (default 0)")
	fs.Var(&f.MinBodyBytesPerSecond, "min-body-bytes-per-second",
		"Uploads whose body arrives slower than this `size` per second, averaged over -min-body-rate-window, are cut with 400 RequestTimeout; "+
			"0 means no limit. Overrides server.limits.min_body_bytes_per_second (default 0)")
	fs.DurationVar(&f.MinBodyRateWindow, "min-body-rate-window", 0,
		"Window the minimum body rate is averaged over, e.g. 10s. Overrides server.limits.min_body_rate_window_seconds (default 10s)")
	fs.IntVar(&f.MaxInflightUploads, "max-inflight-uploads", 0,
		"Maximum PutObject and UploadPart requests in flight in the process, beyond which requests get 503 SlowDown; 0 means no limit. "+
			"Overrides server.limits.max_inflight_uploads (default 0)")
	fs.IntVar(&f.MaxInflightUploadsPerIdentity, "max-inflight-uploads-per-identity", 0,
		"Maximum uploads in flight per authenticated identity; 0 means no limit. Overrides server.limits.max_inflight_uploads_per_identity (default 0)")
	fs.Float64Var(&f.RequestsPerSecondPerIdentity, "requests-per-second-per-identity", 0,
		"Token-bucket request rate per authenticated identity, beyond which requests get 503 SlowDown; 0 means no limit. "+
			"Overrides server.limits.requests_per_second_per_identity (default 0)")
	fs.IntVar(&f.BurstPerIdentity, "burst-per-identity", 0,
		"Token-bucket size per identity; 0 means max(1, rate). Overrides server.limits.burst_per_identity (default 0)")
}

// apply copies the flag named name, when it is a limits flag, into l.
func (f *LimitFlags) apply(l *Limits, name string) {
	switch name {
	case "max-connections-per-ip":
		l.MaxConnectionsPerIP = f.MaxConnectionsPerIP
	case "min-body-bytes-per-second":
		l.MinBodyBytesPerSecond = f.MinBodyBytesPerSecond
	case "min-body-rate-window":
		l.MinBodyRateWindow = f.MinBodyRateWindow
	case "max-inflight-uploads":
		l.MaxInflightUploads = f.MaxInflightUploads
	case "max-inflight-uploads-per-identity":
		l.MaxInflightUploadsPerIdentity = f.MaxInflightUploadsPerIdentity
	case "requests-per-second-per-identity":
		l.RequestsPerSecondPerIdentity = f.RequestsPerSecondPerIdentity
	case "burst-per-identity":
		l.BurstPerIdentity = f.BurstPerIdentity
	}
}

func init() {
	for flagName, key := range map[string]string{
		"max-connections-per-ip":            "server.limits.max_connections_per_ip",
		"min-body-bytes-per-second":         "server.limits.min_body_bytes_per_second",
		"min-body-rate-window":              "server.limits.min_body_rate_window_seconds",
		"max-inflight-uploads":              "server.limits.max_inflight_uploads",
		"max-inflight-uploads-per-identity": "server.limits.max_inflight_uploads_per_identity",
		"requests-per-second-per-identity":  "server.limits.requests_per_second_per_identity",
		"burst-per-identity":                "server.limits.burst_per_identity",
	} {
		flagPaths[flagName] = key
	}
}
