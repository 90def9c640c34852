package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mizuchi-gw/mizuchi/sigv4"
)

// reqInfo describes the request a signer authenticates. Its byte slices are
// borrowed from the worker and valid only during the call.
type reqInfo struct {
	method        string
	host          string // Host header value
	path          []byte // escaped path, no query
	query         []byte // raw query as on the wire, without '?'; may be empty (the signer canonicalizes it)
	contentLength int64
	now           time.Time
}

// signer adds authentication headers to one request head. It is called once
// per request on the worker's goroutine (one signer per worker, so it may keep
// scratch buffers), must append complete "Name: value\r\n" lines to dst and
// should not allocate: the generator must not become the bottleneck.
type signer interface {
	appendAuth(dst []byte, r *reqInfo) []byte
}

// authConfig is the -auth mode and its flags.
type authConfig struct {
	mode string // none, sigv4 or jwt

	// sigv4
	region    string
	accessKey string
	secretKey string

	// jwt: token, or minted once from secret when token is empty
	jwtToken  string
	jwtSecret string
}

// newSigner returns a constructor for the -auth mode, so each worker gets its
// own signer. For jwt it mints the token here, once, at now.
func newSigner(a *authConfig, now time.Time) (func() signer, error) {
	switch a.mode {
	case "none":
		return func() signer { return noAuth{} }, nil
	case "sigv4":
		if a.region == "" || a.accessKey == "" || a.secretKey == "" {
			return nil, errors.New("-auth sigv4 needs -region, -access-key and -secret-key")
		}
		creds := &sigv4.Credentials{AccessKey: a.accessKey, SecretKey: a.secretKey}
		cache := sigv4.NewKeyCache(0) // shared: one client process, keys derived once a day
		return func() signer { return newSigV4Auth(cache, creds, a.region) }, nil
	case "jwt":
		tok := a.jwtToken
		switch {
		case tok != "" && a.jwtSecret != "":
			return nil, errors.New("-jwt-token and -jwt-secret are exclusive")
		case tok == "" && a.jwtSecret == "":
			return nil, errors.New("-auth jwt needs -jwt-token or -jwt-secret")
		case tok == "":
			var err error
			if tok, err = mintJWT(a.jwtSecret, now); err != nil {
				return nil, err
			}
		}
		line := "Authorization: Bearer " + tok + "\r\n"
		return func() signer { return bearerAuth{line: line} }, nil
	}
	return nil, fmt.Errorf("unknown -auth mode %q; want none, sigv4 or jwt", a.mode)
}

type noAuth struct{}

func (noAuth) appendAuth(dst []byte, _ *reqInfo) []byte { return dst }

// bearerAuth sends one pre-minted token with every request, as a real client
// reuses its token until it expires (and the gateway caches verified tokens).
type bearerAuth struct{ line string }

func (b bearerAuth) appendAuth(dst []byte, _ *reqInfo) []byte { return append(dst, b.line...) }

// mintJWT returns an HS256 token for subject "bench", valid for an hour from now.
func mintJWT(secret string, now time.Time) (string, error) {
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{
		Subject:   "bench",
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
	}).SignedString([]byte(secret))
	if err != nil {
		return "", fmt.Errorf("cannot mint JWT: %w", err)
	}
	return tok, nil
}

const unsignedPayload = "UNSIGNED-PAYLOAD"

// sigV4Auth signs every request afresh (x-amz-date is the request's own
// time; no signature is ever replayed) with the gateway's own signer over
// host, x-amz-content-sha256 and x-amz-date, the body unsigned. The query
// (multipart mode) is signed in its canonical form, which sigv4.Signer
// derives from the wire form: sorted by name, URI-encoded, "uploads" as
// "uploads=".
//
// Invariant: req.Headers points at hdr, whose values point at host, date and
// the shared unsigned-payload bytes; appendAuth only refreshes their
// contents, so a request allocates nothing once the signer's buffers have
// grown and the day's signing key is cached.
type sigV4Auth struct {
	s     *sigv4.Signer
	creds *sigv4.Credentials
	req   sigv4.Request
	hdr   [3]sigv4.Header
	host  []byte
	date  [16]byte
}

var (
	methodPUT            = []byte("PUT")
	methodPOST           = []byte("POST")
	methodDELETE         = []byte("DELETE")
	unsignedPayloadBytes = []byte(unsignedPayload)
)

// methodBytes returns m as bytes, without allocating for the methods the
// generator sends.
func methodBytes(m string) []byte {
	switch m {
	case "PUT":
		return methodPUT
	case "POST":
		return methodPOST
	case "DELETE":
		return methodDELETE
	}
	return []byte(m)
}

func newSigV4Auth(cache *sigv4.KeyCache, creds *sigv4.Credentials, region string) *sigV4Auth {
	a := &sigV4Auth{s: sigv4.NewSigner(cache), creds: creds}
	a.hdr[0].Name = []byte("host")
	a.hdr[1].Name = []byte("x-amz-content-sha256")
	a.hdr[1].Value = unsignedPayloadBytes
	a.hdr[2].Name = []byte("x-amz-date")
	a.req = sigv4.Request{
		Method:      methodPUT,
		Headers:     a.hdr[:],
		PayloadHash: unsignedPayloadBytes,
		Region:      region,
	}
	return a
}

func (a *sigV4Auth) appendAuth(dst []byte, r *reqInfo) []byte {
	if string(a.host) != r.host { // the conversion in a comparison does not allocate
		a.host = append(a.host[:0], r.host...)
	}
	if r.method != string(a.req.Method) {
		a.req.Method = methodBytes(r.method) // multipart mode alternates POST and PUT
	}
	date := sigv4.AppendAmzDate(a.date[:0], r.now)
	a.hdr[0].Value = a.host
	a.hdr[2].Value = date
	a.req.Path = r.path
	a.req.Query = r.query
	a.req.AmzDate = date

	dst = append(dst, "X-Amz-Date: "...)
	dst = append(dst, date...)
	dst = append(dst, "\r\nX-Amz-Content-Sha256: "+unsignedPayload+"\r\nAuthorization: "...)
	// r.path may point into dst: appending after it never overwrites it, and
	// if dst grows the old array still holds the path for this call.
	dst = a.s.AppendAuthorization(dst, a.creds, &a.req)
	return append(dst, "\r\n"...)
}
