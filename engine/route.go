package engine

import (
	"bytes"
	"sort"
	"strings"
	"time"

	"github.com/mizuchi-gw/mizuchi/policy/authz"
	"github.com/mizuchi-gw/mizuchi/policy/keytemplate"
	"github.com/mizuchi-gw/mizuchi/policy/seal"
	"github.com/mizuchi-gw/mizuchi/upstream"
)

// Route maps a client bucket (a path prefix, or a virtual host name) to a
// backend endpoint.
type Route struct {
	Name     string // the bucket name clients use; virtual-host label
	Prefix   string // path prefix without trailing '/', e.g. "/uploads"; "" matches every path
	Endpoint *upstream.Endpoint
	Auth     *Auth // nil: anonymous uploads
	// Authz authorizes every request after authentication (authorize.go);
	// nil: any authenticated request may upload.
	Authz *authz.Authorizer
	// AllowHead lets HeadObject through (authenticated like an upload),
	// for clients that check their upload.
	AllowHead bool
	CORS      *CORS // nil: preflights refused, no CORS headers
	// Upload turns a PutObject above Upload.Threshold, or a chunked one of
	// unknown length, into a multipart upload (see automp.go), and binds
	// keys and upload ids to the uploader and limits uploads (binding.go).
	Upload UploadConfig

	m    *routeMetrics
	bind binding // derived from Upload and Endpoint by NewRouter
}

// UploadConfig is a route's upload handling (config buckets[].upload).
// Zero values are the documented defaults: no binding and no limits
// beyond S3's own.
type UploadConfig struct {
	Threshold  int64 // PutObject bodies above it become multipart uploads; 0 = 5 GiB
	PartSize   int64 // 0 = 16 MiB; raised so that a known length fits 10,000 parts
	Concurrent int   // parts in flight; 0 = 4

	// Sealer seals the multipart upload ids handed to clients, bound to
	// route, stored key and subject (package policy/uploadid); nil: the
	// backend's ids pass through unbound.
	Sealer *seal.Sealer
	// MaxUploadAge is how long a sealed upload id stays valid; 0 = 7 days.
	MaxUploadAge time.Duration
	// KeyTemplate maps the client's key to the stored key (before the
	// endpoint's KeyPrefix); nil or "{key}": the client's key.
	KeyTemplate *keytemplate.Template
	// MaxObjectSize bounds a PutObject (auto-multipart included); 0 = none
	// beyond S3's 5 TiB.
	MaxObjectSize int64
	// MaxPartSize bounds an UploadPart; 0 = none beyond S3's 5 GiB.
	MaxPartSize int64
	// AllowedContentTypes are media type globs (policy/limits) a PutObject
	// or CreateMultipartUpload must match; empty: any.
	AllowedContentTypes []string
}

// errRouteAmbiguous refuses a path whose percent-decoded form (what a
// SigV4 signature covers) matches another route than the path as sent.
var errRouteAmbiguous = &s3Error{"InvalidURI", 400, "Couldn't parse the specified URI: the percent-decoded path names another bucket route."}

// Router matches requests to routes. It is immutable once built; the live
// one sits in an atomic pointer so a reload swaps it whole.
type Router struct {
	// STS serves AssumeRoleWithWebIdentity on "/" (sts.go); nil: off.
	// Set it before the Router is served (Server.New, SetRouter).
	STS *STS

	byPrefix []*Route          // longest prefix first
	byName   map[string]*Route // virtual-host lookup
	domains  [][]byte          // ".domain" suffixes, lower-case
}

// NewRouter builds a Router. vhostDomains enable bucket.<domain> addressing.
func NewRouter(routes []*Route, vhostDomains []string) *Router {
	r := &Router{byName: make(map[string]*Route, len(routes))}
	r.byPrefix = append(r.byPrefix, routes...)
	sort.SliceStable(r.byPrefix, func(i, j int) bool { return len(r.byPrefix[i].Prefix) > len(r.byPrefix[j].Prefix) })
	for _, rt := range routes {
		r.byName[rt.Name] = rt
		rt.bind = newBinding(rt)
		if a := rt.Auth; a != nil && a.SigV4 != nil && a.SigV4.Resolve != nil {
			// STS sessions carry their claims sealed: decoded (after the
			// signature verified) only where something reads them.
			t := rt.Upload.KeyTemplate
			a.sessionClaims = rt.Authz != nil || t != nil && strings.Contains(t.String(), "{claims.")
		}
	}
	for _, d := range vhostDomains {
		r.domains = append(r.domains, []byte("."+strings.ToLower(strings.TrimPrefix(d, "."))))
	}
	return r
}

// Routes returns the routes, longest prefix first.
func (r *Router) Routes() []*Route { return r.byPrefix }

// Match finds the route for a request and returns the raw (still
// percent-encoded) object key, without its leading '/'. An empty key means a
// bucket-level request. ok is false when no route matches.
func (r *Router) Match(host, path []byte) (rt *Route, rawKey []byte, ok bool) {
	if len(r.domains) > 0 && len(host) > 0 {
		rt, under := r.vhost(host)
		if rt != nil {
			if len(path) > 0 && path[0] == '/' {
				path = path[1:]
			}
			return rt, path, true
		}
		if under {
			return nil, nil, false
		}
	}
	for _, rt := range r.byPrefix {
		p := rt.Prefix
		if len(path) < len(p) || string(path[:len(p)]) != p {
			continue
		}
		rest := path[len(p):]
		if len(rest) == 0 {
			return rt, nil, true
		}
		if rest[0] != '/' {
			continue // "/ab" does not match prefix "/a"
		}
		return rt, rest[1:], true
	}
	return nil, nil, false
}

// MatchesDecoded reports whether a path-style request that Match sent to
// rt would go to the same route if its path were percent-decoded first, as
// SigV4 verification canonicalizes it (sigv4 decodes once and re-encodes
// without escaping '/', so "/a/b%2Fk" verifies as "/a/b/k"). When it would
// not (routes "/a" and "/a/b": "/a/b%2Fk" matches "/a" raw but "/a/b"
// decoded), the request must be refused: a signature computed for one
// route would otherwise be spent on another. Requests without '%' in the
// path, and virtual-hosted ones (the host picks the route, the whole path
// is the key), always agree. It allocates nothing.
func (r *Router) MatchesDecoded(host, path []byte, rt *Route) bool {
	if bytes.IndexByte(path, '%') < 0 {
		return true
	}
	if len(r.domains) > 0 && len(host) > 0 {
		if _, under := r.vhost(host); under {
			return true
		}
	}
	for _, d := range r.byPrefix {
		if prefixMatchesDecoded(d.Prefix, path) {
			return d == rt
		}
	}
	return rt == nil
}

// prefixMatchesDecoded is Match's prefix test on path decoded once
// (%XX with two hex digits is a byte, anything else stands for itself,
// as sigv4 decodes): the decoded path starts with prefix, followed by
// '/' or nothing.
func prefixMatchesDecoded(prefix string, path []byte) bool {
	i := 0
	next := func() (c byte, ok bool) {
		if i >= len(path) {
			return 0, false
		}
		c = path[i]
		if c == '%' && i+2 < len(path) {
			if hi, ok1 := unhexByte(path[i+1]); ok1 {
				if lo, ok2 := unhexByte(path[i+2]); ok2 {
					i += 3
					return hi<<4 | lo, true
				}
			}
		}
		i++
		return c, true
	}
	for j := 0; j < len(prefix); j++ {
		c, ok := next()
		if !ok || c != prefix[j] {
			return false
		}
	}
	c, ok := next()
	return !ok || c == '/'
}

func unhexByte(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// hostRoute returns the route a virtual-hosted request for host names,
// or nil.
func (r *Router) hostRoute(host []byte) *Route {
	if len(r.domains) == 0 || len(host) == 0 {
		return nil
	}
	rt, _ := r.vhost(host)
	return rt
}

// vhost returns the route of host's bucket label when host is
// <label>.<domain> of a virtual-host domain (under reports that), or nil.
func (r *Router) vhost(host []byte) (rt *Route, under bool) {
	h := host
	if i := bytes.LastIndexByte(h, ':'); i >= 0 && bytes.IndexByte(h, ']') < i {
		h = h[:i]
	}
	for _, d := range r.domains {
		if len(h) > len(d) && hasSuffixFold(h, d) {
			label := h[:len(h)-len(d)]
			var lower [63]byte
			if len(label) > len(lower) {
				return nil, true
			}
			for i, c := range label {
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				lower[i] = c
			}
			// A map lookup with a []byte->string conversion does not allocate.
			return r.byName[string(lower[:len(label)])], true
		}
	}
	return nil, false
}

func hasSuffixFold(b, suffix []byte) bool {
	b = b[len(b)-len(suffix):]
	for i := range suffix {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != suffix[i] {
			return false
		}
	}
	return true
}
