package upstream

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/mizuchi-gw/mizuchi/httpparse"
	"github.com/mizuchi-gw/mizuchi/sigv4"
)

// ErrCredentials is returned when the route's credentials cannot be retrieved.
var ErrCredentials = errors.New("upstream: cannot retrieve backend credentials")

// ErrTooManyHeaders is returned when a request carries more forwarded
// headers than MaxForwarded; they are refused rather than silently dropped.
var ErrTooManyHeaders = errors.New("upstream: too many forwarded headers")

// MaxForwarded is the most client headers forwarded to the backend.
const MaxForwarded = 64

// Endpoint is one route's backend: where to connect, which bucket, and how to sign.
type Endpoint struct {
	Scheme    string // "http" or "https"
	Addr      string // host:port to dial
	Host      string // Host header value (no default port)
	Region    string
	Bucket    string
	KeyPrefix string
	Creds     aws.CredentialsProvider
	TLS       *tls.Config // non-nil for https

	Pool *Pool
	// Links counts the connections to this endpoint that event loops
	// hold (the engine's in-loop relay keeps and updates it).
	Links Conns

	// creds is the last credentials Retrieve returned, for AppendHeadCached.
	creds atomic.Pointer[aws.Credentials]

	hostB      []byte // Host as bytes
	bucketPath []byte // "/" + URI-encoded bucket + "/"
}

// NewEndpoint returns an Endpoint with its own connection pool. With
// pathStyle the bucket is the first path segment (host/bucket/key);
// otherwise it is a host label (bucket.host/key) and addr must already be
// the address of that host.
func NewEndpoint(scheme, addr, host, region, bucket, keyPrefix string, pathStyle bool, creds aws.CredentialsProvider, pc PoolConfig) *Endpoint {
	if !pathStyle {
		host = bucket + "." + host
		addr = bucket + "." + addr
	}
	ep := &Endpoint{Scheme: scheme, Addr: addr, Host: host, Region: region, Bucket: bucket, KeyPrefix: keyPrefix, Creds: creds}
	if scheme == "https" {
		ep.TLS = &tls.Config{ServerName: hostOnly(host), MinVersion: tls.VersionTLS12}
	}
	ep.Pool = NewPool(addr, ep.TLS, pc)
	ep.hostB = []byte(host)
	ep.bucketPath = []byte("/")
	if pathStyle {
		ep.bucketPath = append(sigv4.AppendURIEncode(ep.bucketPath, []byte(bucket), true), '/')
	}
	return ep
}

func hostOnly(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		return host
	}
	return h
}

// Request is the upstream request to build. Slices are borrowed for the call.
type Request struct {
	Method        []byte
	Key           []byte // decoded object key as the client named it (without KeyPrefix)
	Query         []byte // upstream query, already encoded ("partNumber=1&uploadId=x"), may be nil
	ContentLength int64  // -1: no body and no Content-Length header
	PayloadHash   []byte // client's x-amz-content-sha256, may be nil
	Headers       []httpparse.Header
	// Decoded means the gateway decodes the client's aws-chunked body
	// (signed chunks) and sends the plain bytes: the aws-chunked framing
	// headers (x-amz-decoded-content-length, x-amz-trailer,
	// x-amz-sdk-checksum-algorithm and the aws-chunked content coding) are
	// not forwarded, and PayloadHash should be nil (UNSIGNED-PAYLOAD).
	Decoded bool
	// Unsigned are complete header lines ("name: value\r\n") appended to
	// the head outside the signature (not in SignedHeaders), such as the
	// W3C traceparent: S3 accepts unsigned headers. Nil: none.
	Unsigned []byte
}

// Builder builds signed upstream heads. It is not safe for concurrent use;
// keep one per worker goroutine (or pool them).
type Builder struct {
	signer  *sigv4.Signer
	hdrs    []sigv4.Header
	path    []byte
	key     []byte
	date    []byte // x-amz-date of dateSec (Unix seconds)
	dateSec int64
	lower   []byte
	ce      []byte // content-encoding without aws-chunked
	fwd     []fwdHeader
	token   []byte // the session token of the last credentials
}

// fwdHeader is a forwarded header: its lower-cased name at
// Builder.lower[off:off+n] and its value (a view into the request).
type fwdHeader struct {
	off, n int
	val    []byte
}

// NewBuilder returns a Builder sharing the signing-key cache kc.
func NewBuilder(kc *sigv4.KeyCache) *Builder {
	return &Builder{signer: sigv4.NewSigner(kc), hdrs: make([]sigv4.Header, 0, 32), fwd: make([]fwdHeader, 0, MaxForwarded)}
}

var (
	unsignedPayload = []byte("UNSIGNED-PAYLOAD")
	streamingTrail  = []byte("STREAMING-UNSIGNED-PAYLOAD-TRAILER")
)

// UpstreamPayloadHash returns the x-amz-content-sha256 value to sign upstream
// for the client's value h: h itself when the backend can verify it, else
// UNSIGNED-PAYLOAD.
func UpstreamPayloadHash(h []byte) []byte {
	if isHexSHA256(h) || bytes.Equal(h, unsignedPayload) || bytes.Equal(h, streamingTrail) {
		return h
	}
	return unsignedPayload
}

func isHexSHA256(h []byte) bool {
	if len(h) != 64 {
		return false
	}
	for _, c := range h {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// AppendHead appends the complete signed upstream request head (ending in
// CRLFCRLF) for r to dst. It may call the credentials provider, which can
// block on a refresh: never call it on an event loop.
func (b *Builder) AppendHead(ctx context.Context, dst []byte, ep *Endpoint, r *Request, now time.Time) ([]byte, error) {
	creds, err := ep.Creds.Retrieve(ctx)
	if err != nil {
		return dst, errors.Join(ErrCredentials, err)
	}
	if c := ep.creds.Load(); c == nil || *c != creds {
		cc := creds
		ep.creds.Store(&cc)
	}
	return b.appendHead(dst, ep, r, now, &creds)
}

// ErrNoCachedCredentials is returned by AppendHeadCached when no fresh
// credentials are cached; AppendHead, off the loop, refreshes them.
var ErrNoCachedCredentials = errors.New("upstream: no cached backend credentials")

// credsMargin is how long before expiry cached credentials stop being used
// by AppendHeadCached.
const credsMargin = time.Minute

// AppendHeadCached is AppendHead with the credentials the last AppendHead
// retrieved, so it never blocks and may run on an event loop. It returns
// ErrNoCachedCredentials when there are none or they expire within a
// minute.
func (b *Builder) AppendHeadCached(dst []byte, ep *Endpoint, r *Request, now time.Time) ([]byte, error) {
	c := ep.creds.Load()
	if c == nil || c.CanExpire && !c.Expires.After(now.Add(credsMargin)) {
		return dst, ErrNoCachedCredentials
	}
	return b.appendHead(dst, ep, r, now, c)
}

func (b *Builder) appendHead(dst []byte, ep *Endpoint, r *Request, now time.Time, creds *aws.Credentials) ([]byte, error) {
	b.path = append(b.path[:0], ep.bucketPath...)
	b.key = append(append(b.key[:0], ep.KeyPrefix...), r.Key...)
	b.path = sigv4.AppendURIEncode(b.path, b.key, false)

	if sec := now.Unix(); sec != b.dateSec || len(b.date) == 0 {
		b.date = sigv4.AppendAmzDate(b.date[:0], now) // once per second
		b.dateSec = sec
	}
	ph := UpstreamPayloadHash(r.PayloadHash)

	b.lower = b.lower[:0]
	b.hdrs = b.hdrs[:0]
	b.hdrs = append(b.hdrs,
		sigv4.Header{Name: hdrHost, Value: ep.hostB},
		sigv4.Header{Name: hdrContentSHA, Value: ph},
		sigv4.Header{Name: hdrDate, Value: b.date},
	)
	if creds.SessionToken != "" {
		if string(b.token) != creds.SessionToken {
			b.token = append(b.token[:0], creds.SessionToken...) // once per credential, not per request
		}
		b.hdrs = append(b.hdrs, sigv4.Header{Name: hdrToken, Value: b.token})
	}
	// Lower-case the forwarded names into one scratch buffer; the views are
	// taken after all appends so growth cannot invalidate them.
	fwd := b.fwd[:0] // reused: a fresh array per call is zeroed per call
	for i := range r.Headers {
		h := &r.Headers[i]
		if !Forwarded(h.Name) {
			continue
		}
		val := h.Value
		if r.Decoded {
			if eqFold(h.Name, "x-amz-decoded-content-length") || eqFold(h.Name, "x-amz-trailer") ||
				eqFold(h.Name, "x-amz-sdk-checksum-algorithm") {
				continue
			}
			if eqFold(h.Name, "content-encoding") {
				b.ce = appendWithoutCoding(b.ce[:0], h.Value, "aws-chunked")
				if len(b.ce) == 0 {
					continue
				}
				val = b.ce
			}
		}
		if len(fwd) == MaxForwarded {
			return dst, ErrTooManyHeaders
		}
		off := len(b.lower)
		for _, c := range h.Name {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b.lower = append(b.lower, c)
		}
		fwd = append(fwd, fwdHeader{off, len(h.Name), val})
	}
	b.fwd = fwd
	for _, s := range fwd {
		b.hdrs = append(b.hdrs, sigv4.Header{Name: b.lower[s.off : s.off+s.n], Value: s.val})
	}

	sr := sigv4.Request{
		Method:      r.Method,
		Path:        b.path,
		Query:       r.Query,
		Headers:     b.hdrs,
		PayloadHash: ph,
		AmzDate:     b.date,
		Region:      ep.Region,
		Service:     "s3",
	}
	sc := sigv4.Credentials{AccessKey: creds.AccessKeyID, SecretKey: creds.SecretAccessKey, SessionToken: creds.SessionToken}

	dst = append(dst, r.Method...)
	dst = append(dst, ' ')
	dst = append(dst, b.path...)
	if len(r.Query) > 0 {
		dst = append(dst, '?')
		dst = append(dst, r.Query...)
	}
	dst = append(dst, " HTTP/1.1\r\n"...)
	for _, h := range b.hdrs {
		dst = append(dst, h.Name...)
		dst = append(dst, ": "...)
		dst = append(dst, h.Value...)
		dst = append(dst, "\r\n"...)
	}
	dst = append(dst, "authorization: "...)
	dst = b.signer.AppendAuthorization(dst, &sc, &sr) // signed in place: no copy
	dst = append(dst, "\r\n"...)
	dst = append(dst, r.Unsigned...)
	if r.ContentLength >= 0 {
		dst = append(dst, "content-length: "...)
		dst = strconv.AppendInt(dst, r.ContentLength, 10)
		dst = append(dst, "\r\n"...)
	}
	dst = append(dst, "\r\n"...)
	return dst, nil
}

var (
	hdrHost       = []byte("host")
	hdrContentSHA = []byte("x-amz-content-sha256")
	hdrDate       = []byte("x-amz-date")
	hdrToken      = []byte("x-amz-security-token")
)

// appendWithoutCoding appends the comma-separated list v without the tokens
// equal (case-insensitively) to coding, re-joined with ",".
func appendWithoutCoding(dst, v []byte, coding string) []byte {
	for len(v) > 0 {
		var tok []byte
		if i := bytes.IndexByte(v, ','); i >= 0 {
			tok, v = v[:i], v[i+1:]
		} else {
			tok, v = v, nil
		}
		tok = bytes.TrimSpace(tok)
		if len(tok) == 0 || eqFold(tok, coding) {
			continue
		}
		if len(dst) > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, tok...)
	}
	return dst
}
