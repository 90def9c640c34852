package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Validate checks the whole configuration and reports every problem found
// (up to 20) as *Error values joined with errors.Join. It does not change c.
// Parse calls it; call it again after ApplyFlags or after editing a Config.
func (c *Config) Validate() error {
	v := &validator{lines: c.lines}
	c.validateServer(v)
	if len(c.Buckets) == 0 {
		v.errorf("buckets", "at least one bucket is required")
	}
	names := map[string]int{}
	prefixes := map[string]int{}
	for i := range c.Buckets {
		b := &c.Buckets[i]
		p := fmt.Sprintf("buckets[%d]", i)
		c.validateBucket(v, p, b)
		if b.Name != "" {
			if j, dup := names[b.Name]; dup {
				v.errorf(p+".name", "duplicate bucket name %q (also buckets[%d])", b.Name, j)
			} else {
				names[b.Name] = i
			}
		}
		if b.PathPrefix != "" {
			if j, dup := prefixes[b.PathPrefix]; dup {
				v.errorf(p+".path_prefix", "duplicate path_prefix %q (also buckets[%d])", b.PathPrefix, j)
			} else {
				prefixes[b.PathPrefix] = i
			}
		}
	}
	if c.Metrics.Port < 1 || c.Metrics.Port > 65535 {
		v.errorf("metrics.port", "must be between 1 and 65535, got %d", c.Metrics.Port)
	}
	c.validateTracing(v)
	c.validateSTS(v)
	c.validateAccessLog(v)
	c.validateMemory(v)
	if len(v.errs) > 0 {
		return joinErrors(v.errs)
	}
	return nil
}

type validator struct {
	lines map[string]int
	errs  []error
}

func (v *validator) errorf(path, format string, args ...any) {
	v.errs = append(v.errs, &Error{Path: path, Line: v.lines[path], Msg: fmt.Sprintf(format, args...)})
}

func (c *Config) validateServer(v *validator) {
	s := &c.Server
	if err := checkListen(s.Address); err != nil {
		v.errorf("server.address", "invalid listen address %q: %v", s.Address, err)
	}
	if s.AdminAddress != "" {
		if err := checkListen(s.AdminAddress); err != nil {
			v.errorf("server.admin_address", "invalid listen address %q: %v", s.AdminAddress, err)
		} else if sameListener(s.Address, s.AdminAddress) {
			v.errorf("server.admin_address", "%q conflicts with server.address %q", s.AdminAddress, s.Address)
		}
	}
	if z := s.ZeroCopy.PipeBufferSize; z < 4<<10 || z > 1<<30 {
		v.errorf("server.zero_copy.pipe_buffer_size", "must be between 4KiB and 1GiB, got %d", int64(z))
	}
	if s.Loops < 0 || s.Loops > 4096 {
		v.errorf("server.loops", "must be between 0 (GOMAXPROCS) and 4096, got %d", s.Loops)
	}
	if s.PipePool < 1 {
		v.errorf("server.pipe_pool", "must be at least 1, got %d", s.PipePool)
	}
	if s.SpliceThreshold < 0 {
		v.errorf("server.splice_threshold", "must not be negative, got %d", int64(s.SpliceThreshold))
	}
	if s.MaxHeaderBytes < 1<<10 || s.MaxHeaderBytes > 16<<20 {
		v.errorf("server.max_header_bytes", "must be between 1KiB and 16MiB, got %d", int64(s.MaxHeaderBytes))
	}
	positive(v, "server.header_timeout_seconds", s.HeaderTimeout)
	positive(v, "server.idle_timeout_seconds", s.IdleTimeout)
	positive(v, "server.body_timeout_seconds", s.BodyTimeout)
	positive(v, "server.upstream_timeout_seconds", s.UpstreamTimeout)
	if s.MaxConnections < 1 {
		v.errorf("server.max_connections", "must be at least 1, got %d", s.MaxConnections)
	}
	s.Spool.validate(v)
	seen := map[string]bool{}
	for i, d := range s.VirtualHostDomains {
		p := fmt.Sprintf("server.virtual_host_domains[%d]", i)
		if !isHostname(d) {
			v.errorf(p, "invalid domain %q: want a DNS name without port, like \"s3.example.com\"", d)
		} else if seen[d] {
			v.errorf(p, "duplicate domain %q", d)
		}
		seen[d] = true
	}
	t := &s.TLS
	if t.Enabled() {
		if t.CertFile == "" || t.KeyFile == "" {
			v.errorf("server.tls", "cert_file and key_file must be set together")
		}
		checkFile(v, "server.tls.cert_file", t.CertFile)
		checkFile(v, "server.tls.key_file", t.KeyFile)
	}
	c.validateUploadIDSecrets(v)
	c.validateClientAddr(v)
	c.validateLimits(v)
}

func (c *Config) validateBucket(v *validator, p string, b *Bucket) {
	switch {
	case b.Name == "":
		v.errorf(p+".name", "is required")
	case !isBucketName(b.Name):
		v.errorf(p+".name", "invalid bucket name %q: want 1 to 63 of [A-Za-z0-9._-]", b.Name)
	case len(c.Server.VirtualHostDomains) > 0 && !isHostname(b.Name):
		v.errorf(p+".name", "invalid bucket name %q: virtual_host_domains needs lower-case DNS names", b.Name)
	}
	if b.PathPrefix != "" {
		if err := checkPathPrefix(b.PathPrefix); err != nil {
			v.errorf(p+".path_prefix", "invalid path_prefix %q: %v", b.PathPrefix, err)
		}
	}
	s := &b.S3
	switch {
	case s.Bucket == "":
		v.errorf(p+".s3.bucket", "is required")
	case strings.ContainsAny(s.Bucket, "/ \t\r\n") || len(s.Bucket) > 255:
		v.errorf(p+".s3.bucket", "invalid bucket name %q", s.Bucket)
	}
	switch {
	case s.Region == "":
		v.errorf(p+".s3.region", "is required")
	case !isRegion(s.Region):
		v.errorf(p+".s3.region", "invalid region %q", s.Region)
	}
	if s.EndpointURL != "" {
		if _, _, _, err := s.Endpoint(); err != nil {
			v.errorf(p+".s3.endpoint", "%v", err)
		}
	}
	if (s.AccessKey == "") != (s.SecretKey == "") {
		v.errorf(p+".s3", "access_key and secret_key must be set together")
	}
	if s.SessionToken != "" && s.AccessKey == "" {
		v.errorf(p+".s3.session_token", "needs access_key and secret_key")
	}
	if strings.HasPrefix(s.KeyPrefix, "/") {
		v.errorf(p+".s3.key_prefix", "must not start with '/'")
	}
	u := &b.Upload
	if u.MultipartThreshold < 0 {
		v.errorf(p+".upload.multipart_threshold", "must not be negative")
	}
	if u.PartSize < 5<<20 || u.PartSize > 5<<30 {
		v.errorf(p+".upload.part_size", "must be between 5MiB and 5GiB (S3's part size limits), got %d", int64(u.PartSize))
	}
	if u.ConcurrentParts < 1 {
		v.errorf(p+".upload.concurrent_parts", "must be at least 1, got %d", u.ConcurrentParts)
	}
	validateUploadLimits(v, p+".upload", u)
	validateAuth(v, p+".auth", &b.Auth)
	if c := b.CORS; c != nil {
		cp := p + ".cors"
		if len(c.AllowedOrigins) == 0 {
			v.errorf(cp+".allowed_origins", "must list at least one origin")
		}
		for i, o := range c.AllowedOrigins {
			if o != "*" && !isHTTPURL(o) || strings.Count(o, "/") > 2 {
				v.errorf(fmt.Sprintf("%s.allowed_origins[%d]", cp, i), "invalid origin %q: want scheme://host[:port] or *", o)
			}
		}
		for i, h := range append(append([]string{}, c.AllowedHeaders...), c.ExposeHeaders...) {
			if h == "" || strings.ContainsAny(h, " ,:\r\n\t") {
				v.errorf(cp, "invalid header name %q (entry %d)", h, i)
			}
		}
		if c.MaxAge < 0 {
			v.errorf(cp+".max_age_seconds", "must not be negative")
		}
	}
	validateAuthz(v, p+".authz", &b.Authz)
}

func (c *Config) validateTracing(v *validator) {
	t := &c.Tracing
	if !t.Enabled {
		return
	}
	if !isHTTPURL(t.OTLP.Endpoint) {
		v.errorf("tracing.otlp.endpoint", "must be an http:// or https:// URL")
	}
	if t.OTLP.Protocol != "grpc" && t.OTLP.Protocol != "http/protobuf" && t.OTLP.Protocol != "http" {
		v.errorf("tracing.otlp.protocol", "invalid protocol %q: want grpc, http/protobuf or http", t.OTLP.Protocol)
	}
	if x := t.OTLP.Compression; x != "" && x != "none" && x != "gzip" {
		v.errorf("tracing.otlp.compression", "invalid compression %q: want gzip or none", x)
	}
	switch t.Sampling.Strategy {
	case "always", "never", "ratio", "parent_based":
	default:
		v.errorf("tracing.sampling.strategy", "invalid strategy %q: want always, never, ratio or parent_based", t.Sampling.Strategy)
	}
	if r := t.Sampling.Ratio; r < 0 || r > 1 {
		v.errorf("tracing.sampling.ratio", "must be between 0 and 1, got %g", r)
	}
}

func positive(v *validator, path string, d time.Duration) {
	if d <= 0 {
		v.errorf(path, "must be positive, got %s", d)
	}
}

func checkFile(v *validator, path, name string) {
	if name == "" {
		return
	}
	st, err := os.Stat(name)
	if err != nil {
		v.errorf(path, "cannot use %q: %v", name, err)
	} else if st.IsDir() {
		v.errorf(path, "%q is a directory", name)
	}
}

// checkListen accepts "host:port" with an IP, a host name or nothing as the
// host and a port 0..65535 (0 picks a free port).
func checkListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("invalid port %q", port)
	}
	if host != "" && !isHostname(strings.ToLower(host)) {
		if _, err := netip.ParseAddr(host); err != nil {
			return fmt.Errorf("invalid host %q", host)
		}
	}
	return nil
}

// sameListener reports whether two valid listen addresses would collide.
func sameListener(a, b string) bool {
	ah, ap, _ := net.SplitHostPort(a)
	bh, bp, _ := net.SplitHostPort(b)
	if ap != bp || ap == "0" {
		return false
	}
	wild := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }
	return ah == bh || wild(ah) || wild(bh)
}

// checkPathPrefix: '/' then segments of unreserved characters
// [A-Za-z0-9._~-], no empty, "." or ".." segment, no trailing '/'.
func checkPathPrefix(p string) error {
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("must start with '/'")
	}
	if p == "/" || strings.HasSuffix(p, "/") {
		return fmt.Errorf("must not end with '/'")
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("empty, '.' or '..' segment")
		}
		for i := 0; i < len(seg); i++ {
			if !isUnreserved(seg[i]) {
				return fmt.Errorf("character %q not allowed; use [A-Za-z0-9._~-] and '/'", seg[i])
			}
		}
	}
	return nil
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

func isBucketName(s string) bool {
	if len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isUnreserved(c) || c == '~' {
			return false
		}
	}
	return true
}

// isHostname reports whether s is a lower-case DNS name: dot-separated
// labels of [a-z0-9-], not starting or ending with '-'.
func isHostname(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			if c := l[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

func isRegion(s string) bool {
	if len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
