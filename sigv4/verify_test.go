package sigv4_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/mizuchi-gw/mizuchi/sigv4"
)

const testSubject = "alice"

var hexSHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func testVerifyConfig() *sigv4.VerifyConfig {
	return &sigv4.VerifyConfig{
		Region: testRegion,
		Keys: sigv4.Keys{
			testCreds.AccessKey: {Secret: testCreds.SecretKey, Subject: testSubject},
			"AKIDOTHER":         {Secret: "other-secret", Subject: "bob"},
		},
	}
}

func sdkCreds(c *sigv4.Credentials) aws.Credentials {
	return aws.Credentials{AccessKeyID: c.AccessKey, SecretAccessKey: c.SecretKey, SessionToken: c.SessionToken}
}

func disableEscaping(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }

// sdkSignedInput signs a request with aws-sdk-go-v2's SignHTTP (as its S3
// client does) and returns it as a Verify Input carrying every header the
// request would have on the wire, in a deterministic order.
func sdkSignedInput(tb testing.TB, c *sigv4.Credentials, method, path, query string, headers []string, contentLength int64, payloadHash string) *sigv4.Input {
	tb.Helper()
	req := newSDKRequest(tb, method, testHost, path, query, headers, contentLength)
	if err := v4.NewSigner().SignHTTP(context.Background(), sdkCreds(c), req, payloadHash, "s3", testRegion, testTime, disableEscaping); err != nil {
		tb.Fatalf("sdk SignHTTP: %s", err)
	}
	in := &sigv4.Input{Method: []byte(method), Path: []byte(path), Query: []byte(req.URL.RawQuery), Now: testTime}
	in.Headers = append(in.Headers, sigv4.Header{Name: []byte("Host"), Value: []byte(req.Host)})
	if contentLength > 0 {
		in.Headers = append(in.Headers, sigv4.Header{Name: []byte("Content-Length"), Value: []byte(strconv.FormatInt(contentLength, 10))})
	}
	in.Headers = appendHTTPHeaders(in.Headers, req.Header)
	in.Headers = append(in.Headers, sigv4.Header{Name: []byte("User-Agent"), Value: []byte("unsigned/1.0")})
	return in
}

func appendHTTPHeaders(dst []sigv4.Header, h http.Header) []sigv4.Header {
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range h {
			if !yield(k) {
				return
			}
		}
	}) {
		for _, v := range h[k] {
			dst = append(dst, sigv4.Header{Name: []byte(k), Value: []byte(v)})
		}
	}
	return dst
}

// sdkPresignedInput presigns a request with aws-sdk-go-v2's PresignHTTP
// (X-Amz-Expires set by the caller, as the S3 presign client does) and
// returns the request a client would send with that URL.
func sdkPresignedInput(tb testing.TB, c *sigv4.Credentials, method, path, query string, headers []string, expires int, payloadHash string) *sigv4.Input {
	tb.Helper()
	if query != "" {
		query += "&"
	}
	query += "X-Amz-Expires=" + strconv.Itoa(expires)
	req := newSDKRequest(tb, method, testHost, path, query, headers, 0)
	uri, signed, err := v4.NewSigner().PresignHTTP(context.Background(), sdkCreds(c), req, payloadHash, "s3", testRegion, testTime, disableEscaping)
	if err != nil {
		tb.Fatalf("sdk PresignHTTP: %s", err)
	}
	rest, ok := strings.CutPrefix(uri, "https://"+testHost)
	if !ok {
		tb.Fatalf("unexpected presigned URL %q", uri)
	}
	p, q, _ := strings.Cut(rest, "?")
	if p != path {
		tb.Fatalf("presigned URL changed the path; got %q; want %q", p, path)
	}
	in := &sigv4.Input{Method: []byte(method), Path: []byte(p), Query: []byte(q), Now: testTime}
	in.Headers = appendHTTPHeaders(in.Headers, signed)
	in.Headers = append(in.Headers, sigv4.Header{Name: []byte("User-Agent"), Value: []byte("unsigned/1.0")})
	return in
}

func headerOf(in *sigv4.Input, name string) string {
	for _, h := range in.Headers {
		if strings.EqualFold(string(h.Name), name) {
			return string(h.Value)
		}
	}
	return ""
}

func setHeader(in *sigv4.Input, name, value string) {
	for i, h := range in.Headers {
		if strings.EqualFold(string(h.Name), name) {
			in.Headers[i].Value = []byte(value)
			return
		}
	}
	in.Headers = append(in.Headers, sigv4.Header{Name: []byte(name), Value: []byte(value)})
}

func delHeader(in *sigv4.Input, name string) {
	in.Headers = slices.DeleteFunc(in.Headers, func(h sigv4.Header) bool { return strings.EqualFold(string(h.Name), name) })
}

func queryParam(in *sigv4.Input, name string) string {
	for _, p := range strings.Split(string(in.Query), "&") {
		if v, ok := strings.CutPrefix(p, name+"="); ok {
			return v
		}
	}
	return ""
}

func setQueryParam(in *sigv4.Input, name, value string) {
	var ps []string
	found := false
	for _, p := range strings.Split(string(in.Query), "&") {
		if strings.HasPrefix(p, name+"=") {
			found = true
			if value == "\x00" {
				continue // delete
			}
			p = name + "=" + value
		}
		ps = append(ps, p)
	}
	if !found && value != "\x00" {
		ps = append(ps, name+"="+value)
	}
	in.Query = []byte(strings.Join(ps, "&"))
}

// wantSigningKey derives the SigV4 signing key with crypto/hmac.
func wantSigningKey(secret, date, region, service string) [32]byte {
	k := []byte("AWS4" + secret)
	for _, s := range []string{date, region, service, "aws4_request"} {
		m := hmac.New(sha256.New, k)
		m.Write([]byte(s))
		k = m.Sum(nil)
	}
	return [32]byte(k)
}

// checkVerified checks the parts of out that do not depend on the form.
func checkVerified(t *testing.T, out *sigv4.Verified, wantSig, wantPayload string) {
	t.Helper()
	if string(out.AccessKey) != testCreds.AccessKey || out.Key == nil || out.Key.Subject != testSubject {
		t.Fatalf("unexpected identity; got access key %q key %+v", out.AccessKey, out.Key)
	}
	if string(out.Signature[:]) != wantSig {
		t.Fatalf("unexpected Signature; got %s; want %s", out.Signature[:], wantSig)
	}
	if string(out.PayloadHash) != wantPayload {
		t.Fatalf("unexpected PayloadHash; got %s; want %s", out.PayloadHash, wantPayload)
	}
	if string(out.AmzDate[:]) != "20240307T090501Z" {
		t.Fatalf("unexpected AmzDate; got %s; want 20240307T090501Z", out.AmzDate[:])
	}
	if string(out.Scope()) != "20240307/"+testRegion+"/s3/aws4_request" {
		t.Fatalf("unexpected Scope; got %s", out.Scope())
	}
	if want := wantSigningKey(testCreds.SecretKey, "20240307", testRegion, "s3"); out.SigningKey != want {
		t.Fatalf("unexpected SigningKey; got %x; want %x", out.SigningKey, want)
	}
}

// uploadShape is one S3 request shape for the SDK cross-checks.
type uploadShape struct {
	method, key, query string
	headers            []string
	contentLength      int64
	payloadHash        string
}

var uploadShapes = []uploadShape{
	{"PUT", "photos/2024/my file.jpg", "x-id=PutObject", []string{"X-Amz-Content-Sha256", hexSHA, "Content-Type", "image/jpeg", "Content-Md5", "CY9rzUYh03PK3k6DJie09g=="}, 4, hexSHA},
	{"PUT", "日本語/ファイル 名.txt", "x-id=PutObject", []string{"X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD", "X-Amz-Meta-Author", "  Jane   Doe  ", "X-Amz-Meta-Note", "a\tb"}, 0, "UNSIGNED-PAYLOAD"},
	{"PUT", "a+b=c&d.txt", "", []string{"X-Amz-Content-Sha256", emptySHA}, 0, emptySHA},
	{"PUT", "100%/50% off!.txt", "x-id=PutObject", []string{"X-Amz-Content-Sha256", emptySHA}, 0, emptySHA},
	{"PUT", "dir/sub/~user/.hidden/-_.~", "", []string{"X-Amz-Content-Sha256", emptySHA}, 0, emptySHA},
	{"PUT", "what?#[]@!$'()*,;:=", "", []string{"X-Amz-Content-Sha256", emptySHA}, 0, emptySHA},
	{"PUT", "emoji 😀 ünïcödé", "partNumber=3&uploadId=abc%2Bdef", []string{"X-Amz-Content-Sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "X-Amz-Trailer", "x-amz-checksum-crc32", "Content-Encoding", "aws-chunked", "X-Amz-Decoded-Content-Length", "1048576"}, 1048660, "STREAMING-UNSIGNED-PAYLOAD-TRAILER"},
	{"PUT", "chunked/sig", "partNumber=1&uploadId=xyz", []string{"X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "Content-Encoding", "aws-chunked", "X-Amz-Decoded-Content-Length", "65536"}, 66824, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"},
	{"PUT", "chunked/trailer", "", []string{"X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", "X-Amz-Trailer", "x-amz-checksum-crc32c", "Content-Encoding", "aws-chunked", "X-Amz-Decoded-Content-Length", "10"}, 300, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"},
	{"POST", "big/object.bin", "uploads", []string{"X-Amz-Content-Sha256", emptySHA, "Content-Type", "application/octet-stream"}, 0, emptySHA},
	{"POST", "big/object.bin", "uploads=&x-id=CreateMultipartUpload", []string{"X-Amz-Content-Sha256", emptySHA}, 0, emptySHA},
	{"POST", "big/object.bin", "uploadId=2~Zx.y-z_9%2F%2B%3D&x-id=CompleteMultipartUpload", []string{"X-Amz-Content-Sha256", hexSHA, "Content-Type", "application/xml"}, 200, hexSHA},
	{"DELETE", "big/object.bin", "uploadId=abc", []string{"X-Amz-Content-Sha256", emptySHA}, 0, emptySHA},
	{"PUT", "checksummed", "x-id=PutObject", []string{"X-Amz-Content-Sha256", hexSHA, "X-Amz-Checksum-Crc32", "NhCmhg==", "X-Amz-Sdk-Checksum-Algorithm", "CRC32", "X-Amz-Meta-Tag", "one", "X-Amz-Meta-Tag", "two", "Cache-Control", "no-cache", "If-None-Match", "*"}, 5, hexSHA},
	{"PUT", "q", "prefix=a+b&b=2&a=1&a=0&&c=%26%3D&d=%7e%7E", []string{"X-Amz-Content-Sha256", emptySHA}, 0, emptySHA},
	{"PUT", "q", "Z=1&a=1&_=1&~=1&-=1&.=1", []string{"X-Amz-Content-Sha256", emptySHA}, 0, emptySHA},
	{"GET", "", "list-type=2&prefix=photos%2F", []string{"X-Amz-Content-Sha256", emptySHA}, 0, emptySHA},
}

func TestVerifySDKHeader_Success(t *testing.T) {
	vf := sigv4.NewVerifier(sigv4.NewKeyCache(16))
	cfg := testVerifyConfig()
	withToken := testCreds
	withToken.SessionToken = "FwoGZXIvYXdzEJr//////////wEaDOEXAMPLETOKEN+/=="
	f := func(c sigv4.Credentials, sh uploadShape, mutate func(in *sigv4.Input)) {
		t.Helper()
		path := string(sigv4.AppendURIEncode([]byte("/my-bucket/"), []byte(sh.key), false))
		if sh.key == "" {
			path = "/my-bucket"
		}
		in := sdkSignedInput(t, &c, sh.method, path, sh.query, sh.headers, sh.contentLength, sh.payloadHash)
		auth := headerOf(in, "Authorization")
		mutate(in)
		var out sigv4.Verified
		if err := vf.Verify(cfg, in, &out); err != nil {
			t.Fatalf("unexpected error for %s %q?%s: %s\nserver canonical request:\n%s", sh.method, path, sh.query, err, vf.CanonicalRequest())
		}
		checkVerified(t, &out, auth[len(auth)-64:], sh.payloadHash)
		if out.Presigned {
			t.Fatalf("unexpected Presigned; got true; want false")
		}
	}
	keep := func(*sigv4.Input) {}
	s3cmd := func(in *sigv4.Input) { // no spaces after commas
		setHeader(in, "Authorization", strings.ReplaceAll(headerOf(in, "Authorization"), ", ", ","))
	}
	reorder := func(in *sigv4.Input) { // components in another order, extra spaces
		a := headerOf(in, "Authorization")
		alg, rest, _ := strings.Cut(a, " ")
		parts := strings.Split(rest, ", ")
		slices.Reverse(parts)
		setHeader(in, "Authorization", "  "+alg+"   "+strings.Join(parts, " ,  ")+" ")
	}
	upper := func(in *sigv4.Input) { // header names in another case and order
		for i := range in.Headers {
			in.Headers[i].Name = []byte(strings.ToUpper(string(in.Headers[i].Name)))
		}
		// Reverse by name; repeated names keep their arrival order.
		slices.SortStableFunc(in.Headers, func(a, b sigv4.Header) int { return strings.Compare(string(b.Name), string(a.Name)) })
	}
	for _, sh := range uploadShapes {
		f(testCreds, sh, keep)
		f(testCreds, sh, s3cmd)
		f(testCreds, sh, reorder)
		f(withToken, sh, upper)
	}
}

func TestVerifySDKPresigned_Success(t *testing.T) {
	vf := sigv4.NewVerifier(sigv4.NewKeyCache(16))
	cfg := testVerifyConfig()
	f := func(method, key, query string, headers []string, expires int, payloadHash string, now time.Time) {
		t.Helper()
		path := string(sigv4.AppendURIEncode([]byte("/my-bucket/"), []byte(key), false))
		in := sdkPresignedInput(t, &testCreds, method, path, query, headers, expires, payloadHash)
		in.Now = now
		sig := queryParam(in, "X-Amz-Signature")
		var out sigv4.Verified
		if err := vf.Verify(cfg, in, &out); err != nil {
			t.Fatalf("unexpected error for %s %q?%s: %s\nserver canonical request:\n%s", method, path, in.Query, err, vf.CanonicalRequest())
		}
		checkVerified(t, &out, sig, payloadHash)
		if !out.Presigned {
			t.Fatalf("unexpected Presigned; got false; want true")
		}
	}
	f("PUT", "photos/2024/my file.jpg", "x-id=PutObject", []string{"Content-Type", "image/jpeg"}, 900, "UNSIGNED-PAYLOAD", testTime)
	f("PUT", "日本語/ファイル 名+(1)!.txt", "", []string{"X-Amz-Meta-Author", "Jane Doe"}, 3600, "UNSIGNED-PAYLOAD", testTime)
	f("PUT", "100%/~a=b", "partNumber=2&uploadId=abc%2Bdef", nil, 60, "UNSIGNED-PAYLOAD", testTime)
	// X-Amz-Content-Sha256 in the query is the payload line.
	f("PUT", "hashed", "X-Amz-Content-Sha256="+hexSHA, nil, 60, hexSHA, testTime)
	f("PUT", "hashed", "X-Amz-Content-Sha256=UNSIGNED-PAYLOAD", nil, 60, "UNSIGNED-PAYLOAD", testTime)
	f("GET", "k", "response-content-type=text%2Fplain", nil, 604800, "UNSIGNED-PAYLOAD", testTime)
	// Time window edges: Now == X-Amz-Date+X-Amz-Expires, and X-Amz-Date ==
	// Now+MaxSkew.
	f("PUT", "k", "", nil, 60, "UNSIGNED-PAYLOAD", testTime.Add(60*time.Second))
	f("PUT", "k", "", nil, 60, "UNSIGNED-PAYLOAD", testTime.Add(-5*time.Minute))
}

// TestVerifyPaths_Success checks the canonical URI rules: the wire path is
// decoded once and re-encoded as S3 does, and a client that signed the wire
// path verbatim (unencoded sub-delims, %2F, lower-case hex) still verifies.
func TestVerifyPaths_Success(t *testing.T) {
	vf := sigv4.NewVerifier(nil)
	s := sigv4.NewSigner(nil)
	cfg := testVerifyConfig()
	f := func(wirePath, signedPath string) {
		t.Helper()
		r := ourRequest(&testCreds, "PUT", testHost, signedPath, "", []string{"x-amz-content-sha256", emptySHA}, 0, emptySHA, testTime)
		auth := s.AppendAuthorization(nil, &testCreds, r)
		in := &sigv4.Input{
			Method:  r.Method,
			Path:    []byte(wirePath),
			Headers: append(r.Headers, sigv4.Header{Name: []byte("authorization"), Value: auth}),
			Now:     testTime,
		}
		var out sigv4.Verified
		if err := vf.Verify(cfg, in, &out); err != nil {
			t.Fatalf("unexpected error for wire path %q signed as %q: %s\nserver canonical request:\n%s", wirePath, signedPath, err, vf.CanonicalRequest())
		}
	}
	f("/b/k", "/b/k")
	f("", "/")
	f("/", "/")
	f("/b/a!b(c)*'", "/b/a!b(c)*'")           // signed verbatim
	f("/b/a!b(c)*'", "/b/a%21b%28c%29%2A%27") // signed S3-normalized
	f("/b/a%21b", "/b/a%21b")
	f("/b/a%2Fb", "/b/a%2Fb") // encoded slash signed verbatim
	f("/b/a%2fb", "/b/a%2fb")
	f("/b/a%7Eb", "/b/a%7Eb")
	f("/b/a%7Eb", "/b/a~b")
	f("/b/a%7eb", "/b/a~b")
	f("/b/a b", "/b/a%20b")
	f("/b/a+b", "/b/a%2Bb")
	f("/b/a+b", "/b/a+b")
	f("/b/100%", "/b/100%25") // stray '%'
	f("/b/100%", "/b/100%")
	f("/b/%E6%97%A5", "/b/%E6%97%A5")
	f("/b/%e6%97%a5", "/b/%E6%97%A5")
	f("/b/./../x//y/", "/b/./../x//y/") // no dot-segment normalization
}

func TestVerifyDateHeader_Success(t *testing.T) {
	// Without X-Amz-Date the Date header (http.TimeFormat) is the signing
	// time, as S3 allows.
	vf := sigv4.NewVerifier(nil)
	s := sigv4.NewSigner(nil)
	cfg := testVerifyConfig()
	f := func(date string, now time.Time) {
		t.Helper()
		r := ourRequest(&testCreds, "PUT", testHost, "/b/k", "", []string{"x-amz-content-sha256", emptySHA, "date", date}, 0, emptySHA, testTime)
		r.Headers = slices.DeleteFunc(r.Headers, func(h sigv4.Header) bool { return string(h.Name) == "x-amz-date" })
		auth := s.AppendAuthorization(nil, &testCreds, r)
		in := &sigv4.Input{Method: r.Method, Path: r.Path, Headers: append(r.Headers, sigv4.Header{Name: []byte("Authorization"), Value: auth}), Now: now}
		var out sigv4.Verified
		if err := vf.Verify(cfg, in, &out); err != nil {
			t.Fatalf("unexpected error for Date %q: %s", date, err)
		}
	}
	f(testTime.Format(http.TimeFormat), testTime)
	f("Thu, 07 Mar 2024 09:05:01 GMT", testTime.Add(5*time.Minute))
	f("Thu, 07 Mar 2024 09:05:01 GMT", testTime.Add(-5*time.Minute))
}

func TestVerifySkew_Success(t *testing.T) {
	vf := sigv4.NewVerifier(nil)
	f := func(maxSkew, offset time.Duration) {
		t.Helper()
		cfg := testVerifyConfig()
		cfg.MaxSkew = maxSkew
		in := sdkSignedInput(t, &testCreds, "PUT", "/b/k", "", []string{"X-Amz-Content-Sha256", emptySHA}, 0, emptySHA)
		in.Now = testTime.Add(offset)
		var out sigv4.Verified
		if err := vf.Verify(cfg, in, &out); err != nil {
			t.Fatalf("unexpected error for MaxSkew %s offset %s: %s", maxSkew, offset, err)
		}
	}
	f(0, 5*time.Minute)
	f(0, -5*time.Minute)
	f(time.Minute, time.Minute)
	f(time.Minute, -time.Minute)
	f(15*time.Minute, 14*time.Minute)
}

func TestVerifyServiceRegion_Success(t *testing.T) {
	vf := sigv4.NewVerifier(nil)
	s := sigv4.NewSigner(nil)
	f := func(region, service string) {
		t.Helper()
		r := ourRequest(&testCreds, "PUT", testHost, "/b/k", "", []string{"x-amz-content-sha256", emptySHA}, 0, emptySHA, testTime)
		r.Region, r.Service = region, service
		auth := s.AppendAuthorization(nil, &testCreds, r)
		in := &sigv4.Input{Method: r.Method, Path: r.Path, Headers: append(r.Headers, sigv4.Header{Name: []byte("Authorization"), Value: auth}), Now: testTime}
		cfg := testVerifyConfig()
		cfg.Region, cfg.Service = region, service
		var out sigv4.Verified
		if err := vf.Verify(cfg, in, &out); err != nil {
			t.Fatalf("unexpected error for region %q service %q: %s", region, service, err)
		}
	}
	f("us-east-1", "")
	f("us-east-1", "s3")
	f("garage", "s3")
	f("auto", "s3express")
}

// TestVerifyHeader_Failure starts from a valid SDK-signed request and
// breaks it in one way per case.
func TestVerifyHeader_Failure(t *testing.T) {
	vf := sigv4.NewVerifier(nil)
	f := func(mutate func(in *sigv4.Input, cfg *sigv4.VerifyConfig), want error, wantDetail string) {
		t.Helper()
		cfg := testVerifyConfig()
		in := sdkSignedInput(t, &testCreds, "PUT", "/my-bucket/photos/a%20b.jpg", "x-id=PutObject",
			[]string{"X-Amz-Content-Sha256", hexSHA, "Content-Type", "image/jpeg", "X-Amz-Meta-A", "b"}, 4, hexSHA)
		auth := headerOf(in, "Authorization")
		sig := auth[len(auth)-64:]
		mutate(in, cfg)
		var out sigv4.Verified
		err := vf.Verify(cfg, in, &out)
		if !errors.Is(err, want) {
			t.Fatalf("unexpected error; got %v; want %v", err, want)
		}
		if !strings.Contains(err.Error(), wantDetail) {
			t.Fatalf("unexpected error detail; got %q; want it to contain %q", err, wantDetail)
		}
		if strings.Contains(err.Error(), sig) || strings.Contains(err.Error(), testCreds.SecretKey) {
			t.Fatalf("error detail leaks the signature or the secret: %q", err)
		}
		for _, other := range []error{sigv4.ErrNoAuth, sigv4.ErrMalformed, sigv4.ErrQueryMalformed, sigv4.ErrMissingSecurityHeader,
			sigv4.ErrUnknownAccessKey, sigv4.ErrSignatureMismatch, sigv4.ErrSkewed, sigv4.ErrExpired} {
			if other != want && errors.Is(err, other) {
				t.Fatalf("error %v also matches %v", err, other)
			}
		}
	}
	auth := func(fn func(a string) string) func(in *sigv4.Input, cfg *sigv4.VerifyConfig) {
		return func(in *sigv4.Input, _ *sigv4.VerifyConfig) {
			setHeader(in, "Authorization", fn(headerOf(in, "Authorization")))
		}
	}
	replace := func(old, new string) func(in *sigv4.Input, cfg *sigv4.VerifyConfig) {
		return auth(func(a string) string { return strings.Replace(a, old, new, 1) })
	}
	cfgFn := func(fn func(cfg *sigv4.VerifyConfig)) func(*sigv4.Input, *sigv4.VerifyConfig) {
		return func(_ *sigv4.Input, cfg *sigv4.VerifyConfig) { fn(cfg) }
	}
	now := func(d time.Duration) func(*sigv4.Input, *sigv4.VerifyConfig) {
		return func(in *sigv4.Input, _ *sigv4.VerifyConfig) { in.Now = testTime.Add(d) }
	}

	// Anonymous.
	f(func(in *sigv4.Input, _ *sigv4.VerifyConfig) { delHeader(in, "Authorization") }, sigv4.ErrNoAuth, "")
	f(func(in *sigv4.Input, _ *sigv4.VerifyConfig) {
		delHeader(in, "Authorization")
		in.Query = []byte("X-Amz-Date=20240307T090501Z&X-Amz-Expires=60")
	}, sigv4.ErrNoAuth, "")

	// Malformed Authorization.
	f(func(in *sigv4.Input, _ *sigv4.VerifyConfig) { in.Query = append(in.Query, "&X-Amz-Signature=abc"...) }, sigv4.ErrMalformed, "only one auth mechanism")
	f(func(in *sigv4.Input, _ *sigv4.VerifyConfig) {
		in.Headers = append(in.Headers, sigv4.Header{Name: []byte("authorization"), Value: []byte(headerOf(in, "Authorization"))})
	}, sigv4.ErrMalformed, "more than one Authorization")
	f(replace("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256"), sigv4.ErrMalformed, "AWS4-ECDSA-P256-SHA256")
	f(auth(func(string) string { return "AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=" }), sigv4.ErrMalformed, "signature version 2")
	f(replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512"), sigv4.ErrMalformed, "'AWS4-HMAC-SHA512'")
	f(replace("AWS4-HMAC-SHA256 ", "AWS4-HMAC-SHA256"), sigv4.ErrMalformed, "unsupported algorithm (unrecognized)")
	f(auth(func(string) string { return "" }), sigv4.ErrMalformed, "unsupported algorithm")
	f(auth(func(string) string { return "AWS4-HMAC-SHA256" }), sigv4.ErrMalformed, "missing Credential")
	f(replace("Credential=", "Credentials="), sigv4.ErrMalformed, "unknown component 'Credentials'")
	f(replace("Credential=", "credential="), sigv4.ErrMalformed, "unknown component")
	f(replace("SignedHeaders=", "SignedHeader="), sigv4.ErrMalformed, "unknown component")
	f(replace("Signature=", "signature="), sigv4.ErrMalformed, "unknown component")
	f(replace("Signature=", "Signature"), sigv4.ErrMalformed, "Name=value")
	f(auth(func(a string) string { i := strings.Index(a, ", Signature"); return a[:i] }), sigv4.ErrMalformed, "missing Signature")
	f(auth(func(a string) string {
		i, j := strings.Index(a, ", SignedHeaders"), strings.Index(a, ", Signature")
		return a[:i] + a[j:]
	}), sigv4.ErrMalformed, "missing SignedHeaders")
	f(auth(func(a string) string {
		i, j := strings.Index(a, "Credential"), strings.Index(a, "SignedHeaders")
		return a[:i] + a[j:]
	}), sigv4.ErrMalformed, "missing Credential")
	f(auth(func(a string) string { return a + ", SignedHeaders=host" }), sigv4.ErrMalformed, "SignedHeaders given more than once")
	f(replace("/20240307/eu-west-1/s3/aws4_request", "/20240307/s3/aws4_request"), sigv4.ErrMalformed, "5 parts")
	f(replace("/20240307/eu-west-1/s3/aws4_request", "/20240307/eu-west-1/s3/aws4_request/x"), sigv4.ErrMalformed, "5 parts")
	f(replace("Credential=AKIAIOSFODNN7EXAMPLE/", "Credential=/"), sigv4.ErrMalformed, "empty access key")
	f(replace("aws4_request", "aws4_reqest"), sigv4.ErrMalformed, "must end with aws4_request")
	f(replace("/s3/", "/s4/"), sigv4.ErrMalformed, "the service 's4' is wrong; expecting 's3'")
	f(cfgFn(func(cfg *sigv4.VerifyConfig) { cfg.Service = "s3express" }), sigv4.ErrMalformed, "the service 's3' is wrong; expecting 's3express'")
	f(cfgFn(func(cfg *sigv4.VerifyConfig) { cfg.Region = "us-east-1" }), sigv4.ErrMalformed, "the region 'eu-west-1' is wrong; expecting 'us-east-1'")
	f(replace("/eu-west-1/", "/EU-WEST-1/"), sigv4.ErrMalformed, "the region 'EU-WEST-1' is wrong")
	f(replace("/20240307/", "/20240308/"), sigv4.ErrMalformed, "credential date '20240308' does not match the request date 20240307")
	f(replace("SignedHeaders=content-length;content-type;host;", "SignedHeaders=content-length;content-type;"), sigv4.ErrMalformed, "must include host")
	f(replace("SignedHeaders=", "SignedHeaders=;"), sigv4.ErrMalformed, "empty header name")
	f(replace(";x-amz-meta-a", ";;x-amz-meta-a"), sigv4.ErrMalformed, "empty header name")
	f(replace(", Signature", "; , Signature"), sigv4.ErrMalformed, "empty header name")
	f(auth(func(a string) string { return strings.Replace(a, "SignedHeaders=content-length;", "SignedHeaders=", 1) }), sigv4.ErrSignatureMismatch, "")
	f(auth(func(a string) string { return a[:len(a)-1] }), sigv4.ErrMalformed, "64 hexadecimal")
	f(auth(func(a string) string { return a + "0" }), sigv4.ErrMalformed, "64 hexadecimal")
	f(auth(func(a string) string { return a[:len(a)-1] + "g" }), sigv4.ErrMalformed, "64 hexadecimal")
	f(auth(func(a string) string { return a[:len(a)-64] + strings.ToUpper(a[len(a)-64:]) }), sigv4.ErrSignatureMismatch, "")

	// Missing or invalid security headers.
	f(func(in *sigv4.Input, _ *sigv4.VerifyConfig) { delHeader(in, "X-Amz-Date") }, sigv4.ErrMissingSecurityHeader, "Date or x-amz-date")
	f(func(in *sigv4.Input, _ *sigv4.VerifyConfig) {
		delHeader(in, "X-Amz-Date")
		setHeader(in, "Date", "2024-03-07T09:05:01Z")
	}, sigv4.ErrMissingSecurityHeader, "Date or x-amz-date")
	f(func(in *sigv4.Input, _ *sigv4.VerifyConfig) {
		delHeader(in, "X-Amz-Date")
		setHeader(in, "Date", "Thu, 07 Mar 2024 09:05:01 UTC")
	}, sigv4.ErrMissingSecurityHeader, "Date or x-amz-date")
	// Date is the fallback only: a signed x-amz-date that is absent makes
	// the Date-based signature mismatch.
	f(func(in *sigv4.Input, _ *sigv4.VerifyConfig) {
		delHeader(in, "X-Amz-Date")
		setHeader(in, "Date", testTime.Format(http.TimeFormat))
	}, sigv4.ErrSignatureMismatch, "")
	f(func(in *sigv4.Input, _ *sigv4.VerifyConfig) { setHeader(in, "X-Amz-Date", "20240307T090501") }, sigv4.ErrMissingSecurityHeader, "20060102T150405Z")
	f(func(in *sigv4.Input, _ *sigv4.VerifyConfig) { setHeader(in, "X-Amz-Date", "20240230T090501Z") }, sigv4.ErrMissingSecurityHeader, "20060102T150405Z")
	f(func(in *sigv4.Input, _ *sigv4.VerifyConfig) { setHeader(in, "X-Amz-Date", "20240307T250501Z") }, sigv4.ErrMissingSecurityHeader, "20060102T150405Z")
	f(func(in *sigv4.Input, _ *sigv4.VerifyConfig) {
		in.Headers = append(in.Headers, sigv4.Header{Name: []byte("x-amz-date"), Value: []byte("20240307T090501Z")})
	}, sigv4.ErrMissingSecurityHeader, "one value")
	f(func(in *sigv4.Input, _ *sigv4.VerifyConfig) { delHeader(in, "X-Amz-Content-Sha256") }, sigv4.ErrMissingSecurityHeader, "missing x-amz-content-sha256")
	f(func(in *sigv4.Input, _ *sigv4.VerifyConfig) {
		in.Headers = append(in.Headers, sigv4.Header{Name: []byte("x-amz-content-sha256"), Value: []byte(hexSHA)})
	}, sigv4.ErrMissingSecurityHeader, "more than one")
	f(func(in *sigv4.Input, _ *sigv4.VerifyConfig) { setHeader(in, "X-Amz-Content-Sha256", "UNSIGNED") }, sigv4.ErrMissingSecurityHeader, "must be UNSIGNED-PAYLOAD")
	f(func(in *sigv4.Input, _ *sigv4.VerifyConfig) { setHeader(in, "X-Amz-Content-Sha256", hexSHA[1:]) }, sigv4.ErrMissingSecurityHeader, "must be UNSIGNED-PAYLOAD")

	// Keys.
	f(replace("AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLF"), sigv4.ErrUnknownAccessKey, "'AKIAIOSFODNN7EXAMPLF'")
	f(replace("AKIAIOSFODNN7EXAMPLE", "AKIDOTHER"), sigv4.ErrSignatureMismatch, "")
	f(cfgFn(func(cfg *sigv4.VerifyConfig) { cfg.Keys = nil }), sigv4.ErrUnknownAccessKey, "")
	f(cfgFn(func(cfg *sigv4.VerifyConfig) {
		cfg.Keys = sigv4.Keys{testCreds.AccessKey: {Secret: testCreds.SecretKey + "x", Subject: testSubject}}
	}), sigv4.ErrSignatureMismatch, "")

	// Time.
	f(now(5*time.Minute+time.Second), sigv4.ErrSkewed, "")
	f(now(-5*time.Minute-time.Second), sigv4.ErrSkewed, "")
	f(now(5*time.Minute+time.Nanosecond), sigv4.ErrSkewed, "")
	f(func(in *sigv4.Input, cfg *sigv4.VerifyConfig) {
		cfg.MaxSkew = time.Minute
		in.Now = testTime.Add(61 * time.Second)
	}, sigv4.ErrSkewed, "larger than 1m0s")
	f(now(-24*time.Hour), sigv4.ErrSkewed, "")

	// The request itself.
	f(func(in *sigv4.Input, _ *sigv4.VerifyConfig) { in.Method = []byte("POST") }, sigv4.ErrSignatureMismatch, "")
	f(func(in *sigv4.Input, _ *sigv4.VerifyConfig) { in.Path = []byte("/my-bucket/photos/a%20c.jpg") }, sigv4.ErrSignatureMismatch, "")
	f(func(in *sigv4.Input, _ *sigv4.VerifyConfig) { in.Path = []byte("/my-bucket/photos/a+b.jpg") }, sigv4.ErrSignatureMismatch, "")
	f(func(in *sigv4.Input, _ *sigv4.VerifyConfig) { in.Query = nil }, sigv4.ErrSignatureMismatch, "")
	f(func(in *sigv4.Input, _ *sigv4.VerifyConfig) { in.Query = append(in.Query, "&acl"...) }, sigv4.ErrSignatureMismatch, "")
	f(func(in *sigv4.Input, _ *sigv4.VerifyConfig) { setHeader(in, "Host", "evil.example.com") }, sigv4.ErrSignatureMismatch, "")
	f(func(in *sigv4.Input, _ *sigv4.VerifyConfig) { delHeader(in, "Content-Type") }, sigv4.ErrSignatureMismatch, "")
	f(func(in *sigv4.Input, _ *sigv4.VerifyConfig) {
		in.Headers = append(in.Headers, sigv4.Header{Name: []byte("x-amz-meta-a"), Value: []byte("c")})
	}, sigv4.ErrSignatureMismatch, "")
	f(func(in *sigv4.Input, _ *sigv4.VerifyConfig) {
		setHeader(in, "X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	}, sigv4.ErrSignatureMismatch, "")
	f(func(in *sigv4.Input, _ *sigv4.VerifyConfig) { setHeader(in, "X-Amz-Date", "20240307T090502Z") }, sigv4.ErrSignatureMismatch, "")
}

func TestVerifyPresigned_Failure(t *testing.T) {
	vf := sigv4.NewVerifier(nil)
	f := func(mutate func(in *sigv4.Input, cfg *sigv4.VerifyConfig), want error, wantDetail string) {
		t.Helper()
		cfg := testVerifyConfig()
		in := sdkPresignedInput(t, &testCreds, "PUT", "/my-bucket/photos/a%20b.jpg", "x-id=PutObject", []string{"Content-Type", "image/jpeg"}, 900, "UNSIGNED-PAYLOAD")
		sig := queryParam(in, "X-Amz-Signature")
		mutate(in, cfg)
		var out sigv4.Verified
		err := vf.Verify(cfg, in, &out)
		if !errors.Is(err, want) {
			t.Fatalf("unexpected error; got %v; want %v", err, want)
		}
		if !strings.Contains(err.Error(), wantDetail) {
			t.Fatalf("unexpected error detail; got %q; want it to contain %q", err, wantDetail)
		}
		if strings.Contains(err.Error(), sig) || strings.Contains(err.Error(), testCreds.SecretKey) {
			t.Fatalf("error detail leaks the signature or the secret: %q", err)
		}
	}
	set := func(name, value string) func(*sigv4.Input, *sigv4.VerifyConfig) {
		return func(in *sigv4.Input, _ *sigv4.VerifyConfig) { setQueryParam(in, name, value) }
	}
	const del = "\x00"
	now := func(d time.Duration) func(*sigv4.Input, *sigv4.VerifyConfig) {
		return func(in *sigv4.Input, _ *sigv4.VerifyConfig) { in.Now = testTime.Add(d) }
	}

	f(func(in *sigv4.Input, _ *sigv4.VerifyConfig) { in.Query = []byte("x-id=PutObject") }, sigv4.ErrNoAuth, "")
	f(func(in *sigv4.Input, _ *sigv4.VerifyConfig) { setHeader(in, "Authorization", "AWS4-HMAC-SHA256 x") }, sigv4.ErrMalformed, "only one auth mechanism")
	for _, name := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders"} {
		f(set(name, del), sigv4.ErrQueryMalformed, "missing "+name)
		f(func(in *sigv4.Input, _ *sigv4.VerifyConfig) {
			in.Query = append(in.Query, "&"+name+"="+queryParam(in, name)...)
		}, sigv4.ErrQueryMalformed, name+" appears more than once")
	}
	f(set("X-Amz-Algorithm", "AWS4-ECDSA-P256-SHA256"), sigv4.ErrQueryMalformed, "AWS4-ECDSA-P256-SHA256")
	f(set("X-Amz-Algorithm", "HMAC"), sigv4.ErrQueryMalformed, "unsupported algorithm 'HMAC'")
	f(set("X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE%2F20240307%2Feu-west-1%2Fs3"), sigv4.ErrQueryMalformed, "5 parts")
	f(set("X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE%2F20240307%2Fus-east-1%2Fs3%2Faws4_request"), sigv4.ErrQueryMalformed, "the region 'us-east-1' is wrong; expecting 'eu-west-1'")
	f(set("X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE%2F20240307%2Feu-west-1%2Fsqs%2Faws4_request"), sigv4.ErrQueryMalformed, "the service 'sqs' is wrong")
	f(set("X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE%2F20240307%2Feu-west-1%2Fs3%2Faws5_request"), sigv4.ErrQueryMalformed, "aws4_request")
	f(set("X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE%2F20240306%2Feu-west-1%2Fs3%2Faws4_request"), sigv4.ErrQueryMalformed, "credential date")
	f(set("X-Amz-Credential", "AKIAIOSFODNN7EXAMPLF%2F20240307%2Feu-west-1%2Fs3%2Faws4_request"), sigv4.ErrUnknownAccessKey, "AKIAIOSFODNN7EXAMPLF")
	f(set("X-Amz-Date", "20240307T0905Z"), sigv4.ErrQueryMalformed, "ISO8601")
	f(set("X-Amz-Expires", ""), sigv4.ErrQueryMalformed, "should be a number")
	f(set("X-Amz-Expires", "15m"), sigv4.ErrQueryMalformed, "should be a number")
	f(set("X-Amz-Expires", "-1"), sigv4.ErrQueryMalformed, "non-negative")
	f(set("X-Amz-Expires", "604801"), sigv4.ErrQueryMalformed, "604800")
	f(set("X-Amz-Expires", "99999999999999999999"), sigv4.ErrQueryMalformed, "")
	f(set("X-Amz-SignedHeaders", "content-type"), sigv4.ErrQueryMalformed, "must include host")
	f(set("X-Amz-SignedHeaders", "content-type%3B%3Bhost"), sigv4.ErrQueryMalformed, "empty header name")
	f(set("X-Amz-Signature", "abc"), sigv4.ErrQueryMalformed, "64 hexadecimal")
	f(set("X-Amz-Content-Sha256", "nope"), sigv4.ErrQueryMalformed, "X-Amz-Content-Sha256")

	// Time window.
	f(now(900*time.Second+time.Second), sigv4.ErrExpired, "")
	f(now(900*time.Second+time.Nanosecond), sigv4.ErrExpired, "")
	f(now(-5*time.Minute-time.Second), sigv4.ErrSkewed, "in the future")
	f(func(in *sigv4.Input, cfg *sigv4.VerifyConfig) {
		cfg.MaxSkew = time.Second
		in.Now = testTime.Add(-2 * time.Second)
	}, sigv4.ErrSkewed, "")

	// Signed content.
	f(set("X-Amz-Expires", "901"), sigv4.ErrSignatureMismatch, "")
	f(set("x-id", "GetObject"), sigv4.ErrSignatureMismatch, "")
	f(set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"), sigv4.ErrSignatureMismatch, "")
	f(set("X-Amz-Content-Sha256", emptySHA), sigv4.ErrSignatureMismatch, "")
	f(func(in *sigv4.Input, _ *sigv4.VerifyConfig) { setHeader(in, "Content-Type", "text/html") }, sigv4.ErrSignatureMismatch, "")
	f(func(in *sigv4.Input, _ *sigv4.VerifyConfig) { in.Method = []byte("GET") }, sigv4.ErrSignatureMismatch, "")
	f(func(in *sigv4.Input, cfg *sigv4.VerifyConfig) {
		cfg.Keys = sigv4.Keys{testCreds.AccessKey: {Secret: "wrong"}}
	}, sigv4.ErrSignatureMismatch, "")
}

// TestVerifyTamper_Failure changes every byte of the method, path, query,
// each signed header value, the date and the signature of valid header and
// presigned requests, one at a time, and requires Verify to reject each.
// The replacement is the byte XOR 1: it never maps a byte to one with the
// same canonical form here (no case-only change, no space/escape swap).
func TestVerifyTamper_Failure(t *testing.T) {
	vf := sigv4.NewVerifier(nil)
	cfg := testVerifyConfig()
	f := func(name string, in *sigv4.Input, field []byte) {
		t.Helper()
		var out sigv4.Verified
		if err := vf.Verify(cfg, in, &out); err != nil {
			t.Fatalf("%s: the untouched request fails: %s", name, err)
		}
		for i := range field {
			field[i] ^= 1
			err := vf.Verify(cfg, in, &out)
			field[i] ^= 1
			if err == nil {
				t.Fatalf("%s: flipping byte %d (%q) was accepted", name, i, field[i])
			}
		}
	}
	headers := []string{"X-Amz-Content-Sha256", hexSHA, "Content-Type", "image/jpeg", "X-Amz-Meta-Author", "  Jane   Doe ", "X-Amz-Meta-Tag", "one", "X-Amz-Meta-Tag", "two"}
	build := func() *sigv4.Input {
		return sdkSignedInput(t, &testCreds, "PUT", "/my-bucket/a%20b/~c%2Bd!.txt", "partNumber=3&uploadId=abc%2Bdef+g&x-id=UploadPart", headers, 4, hexSHA)
	}
	in := build()
	f("method", in, in.Method)
	f("path", in, in.Path)
	f("query", in, in.Query)
	for i, h := range in.Headers {
		n := strings.ToLower(string(h.Name))
		if n == "user-agent" {
			continue // not signed
		}
		f("header "+n, in, in.Headers[i].Value)
		if n != "authorization" && n != "x-amz-date" && n != "x-amz-content-sha256" {
			f("header name "+n, in, in.Headers[i].Name)
		}
	}

	pin := sdkPresignedInput(t, &testCreds, "PUT", "/my-bucket/a%20b/~c%2Bd!.txt", "partNumber=3&uploadId=abc%2Bdef+g", []string{"Content-Type", "image/jpeg"}, 900, "UNSIGNED-PAYLOAD")
	f("presigned method", pin, pin.Method)
	f("presigned path", pin, pin.Path)
	f("presigned query", pin, pin.Query)
	for i, h := range pin.Headers {
		if n := strings.ToLower(string(h.Name)); n != "user-agent" {
			f("presigned header "+n, pin, pin.Headers[i].Value)
		}
	}
}

// TestVerifyReuse_Success checks that one Verifier gives the same answers
// when requests of different forms and sizes alternate, and that Verified
// views do not depend on the Verifier's scratch for header requests.
func TestVerifyReuse_Success(t *testing.T) {
	vf := sigv4.NewVerifier(sigv4.NewKeyCache(2))
	cfg := testVerifyConfig()
	var ins []*sigv4.Input
	for _, sh := range uploadShapes {
		path := string(sigv4.AppendURIEncode([]byte("/b/"), []byte(sh.key), false))
		ins = append(ins, sdkSignedInput(t, &testCreds, sh.method, path, sh.query, sh.headers, sh.contentLength, sh.payloadHash))
		ins = append(ins, sdkPresignedInput(t, &testCreds, sh.method, path, sh.query, nil, 60, "UNSIGNED-PAYLOAD"))
	}
	first := make([]sigv4.Verified, len(ins))
	for i, in := range ins {
		if err := vf.Verify(cfg, in, &first[i]); err != nil {
			t.Fatalf("request %d: unexpected error: %s", i, err)
		}
	}
	for round := 0; round < 3; round++ {
		for i, in := range ins {
			var out sigv4.Verified
			if err := vf.Verify(cfg, in, &out); err != nil {
				t.Fatalf("round %d request %d: unexpected error: %s", round, i, err)
			}
			if out.Signature != first[i].Signature || out.SigningKey != first[i].SigningKey || string(out.PayloadHash) != string(first[i].PayloadHash) {
				t.Fatalf("round %d request %d: result changed", round, i)
			}
		}
	}
	for i := 0; i < len(ins); i += 2 { // header form: views into the input
		if string(first[i].AccessKey) != testCreds.AccessKey {
			t.Fatalf("request %d: AccessKey changed after later Verify calls; got %q", i, first[i].AccessKey)
		}
	}
}

func TestVerifyCanonicalRequest_Failure(t *testing.T) {
	// After a mismatch the server's canonical request and string to sign
	// are available for the error body and match what the SDK signed.
	vf := sigv4.NewVerifier(nil)
	cfg := testVerifyConfig()
	in := sdkSignedInput(t, &testCreds, "PUT", "/b/k", "x-id=PutObject", []string{"X-Amz-Content-Sha256", emptySHA}, 0, emptySHA)
	in.Method = []byte("POST")
	var out sigv4.Verified
	if err := vf.Verify(cfg, in, &out); !errors.Is(err, sigv4.ErrSignatureMismatch) {
		t.Fatalf("unexpected error; got %v; want %v", err, sigv4.ErrSignatureMismatch)
	}
	wantCanon := "POST\n/b/k\nx-id=PutObject\nhost:" + testHost + "\nx-amz-content-sha256:" + emptySHA + "\nx-amz-date:20240307T090501Z\n\nhost;x-amz-content-sha256;x-amz-date\n" + emptySHA
	if got := string(vf.CanonicalRequest()); got != wantCanon {
		t.Fatalf("unexpected canonical request;\ngot\n%s\nwant\n%s", got, wantCanon)
	}
	sum := sha256.Sum256([]byte(wantCanon))
	wantSTS := "AWS4-HMAC-SHA256\n20240307T090501Z\n20240307/" + testRegion + "/s3/aws4_request\n" + string(sigv4.AppendHex(nil, sum[:]))
	if got := string(vf.StringToSign()); got != wantSTS {
		t.Fatalf("unexpected string to sign;\ngot\n%s\nwant\n%s", got, wantSTS)
	}
	in.Method = []byte("PUT")
	delHeader(in, "Authorization")
	if err := vf.Verify(cfg, in, &out); !errors.Is(err, sigv4.ErrNoAuth) {
		t.Fatalf("unexpected error; got %v; want %v", err, sigv4.ErrNoAuth)
	}
	if len(vf.CanonicalRequest()) != 0 || len(vf.StringToSign()) != 0 {
		t.Fatalf("canonical request left over from the previous Verify")
	}
}
