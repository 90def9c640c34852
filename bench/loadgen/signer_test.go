package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/mizuchi-gw/mizuchi/bench/internal/h1"
	"github.com/mizuchi-gw/mizuchi/sigv4"
)

// authWorker returns a worker for PUTs to http://127.0.0.1:9000/sigv4/bench
// that authenticates with a.
func authWorker(t testing.TB, a *authConfig) *worker {
	t.Helper()
	cfg := &config{size: 1 << 10, conns: 1, duration: time.Second, timeout: time.Second, bufSize: 1 << 10}
	if err := configFromURL(cfg, "http://127.0.0.1:9000/sigv4/bench", false); err != nil {
		t.Fatal(err)
	}
	var err error
	if cfg.newSigner, err = newSigner(a, time.Now()); err != nil {
		t.Fatal(err)
	}
	return newWorker(3, cfg, nil, cfg.newSigner(), 1)
}

// parseHead splits a request head into what sigv4.Verify reads.
func parseHead(t *testing.T, head []byte) *sigv4.Input {
	t.Helper()
	if !bytes.HasSuffix(head, []byte("\r\n\r\n")) {
		t.Fatalf("head does not end with an empty line: %q", head)
	}
	lines := bytes.Split(head[:len(head)-4], []byte("\r\n"))
	method, rest, _ := bytes.Cut(lines[0], []byte(" "))
	target, _, _ := bytes.Cut(rest, []byte(" "))
	path, query, _ := bytes.Cut(target, []byte("?"))
	in := &sigv4.Input{Method: method, Path: path, Query: query, Now: time.Now()}
	for _, l := range lines[1:] {
		name, value, ok := h1.SplitHeader(l)
		if !ok {
			t.Fatalf("malformed header line %q", l)
		}
		in.Headers = append(in.Headers, sigv4.Header{Name: name, Value: value})
	}
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

func TestSigV4Auth_Verifies(t *testing.T) {
	w := authWorker(t, &authConfig{mode: "sigv4", region: "eu-west-3", accessKey: "AK", secretKey: "SK"})
	vf := sigv4.NewVerifier(sigv4.NewKeyCache(0))
	good := &sigv4.VerifyConfig{Region: "eu-west-3", Keys: sigv4.Keys{"AK": &sigv4.Key{Secret: "SK"}}}
	var prevSig string
	for seq := 1; seq <= 3; seq++ {
		w.seq = int64(seq)
		w.buildHead()
		in := parseHead(t, w.head)
		if got, want := string(in.Path), "/sigv4/bench/3-"+string(rune('0'+seq)); got != want {
			t.Fatalf("unexpected path; got %q; want %q", got, want)
		}
		if got := headerOf(in, "x-amz-content-sha256"); got != "UNSIGNED-PAYLOAD" {
			t.Fatalf("unexpected x-amz-content-sha256 %q", got)
		}
		var out sigv4.Verified
		if err := vf.Verify(good, in, &out); err != nil {
			t.Fatalf("request %d does not verify: %s\nhead:\n%s", seq, err, w.head)
		}
		if string(out.AccessKey) != "AK" || string(out.PayloadHash) != "UNSIGNED-PAYLOAD" {
			t.Fatalf("unexpected verified access key %q, payload hash %q", out.AccessKey, out.PayloadHash)
		}
		sig := string(out.Signature[:])
		if sig == prevSig {
			t.Fatalf("request %d replays the previous signature", seq)
		}
		prevSig = sig

		bad := &sigv4.VerifyConfig{Region: "eu-west-3", Keys: sigv4.Keys{"AK": &sigv4.Key{Secret: "other"}}}
		if err := vf.Verify(bad, in, &out); !errors.Is(err, sigv4.ErrSignatureMismatch) {
			t.Fatalf("unexpected error with a wrong secret; got %v; want %v", err, sigv4.ErrSignatureMismatch)
		}
	}
}

func TestJWTAuth_Minted(t *testing.T) {
	start := time.Now()
	w := authWorker(t, &authConfig{mode: "jwt", jwtSecret: "s3cret"})
	w.buildHead()
	in := parseHead(t, w.head)
	auth := headerOf(in, "authorization")
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		t.Fatalf("unexpected Authorization %q; want a Bearer token", auth)
	}
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(tok, &claims, func(*jwt.Token) (any, error) { return []byte("s3cret"), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	if err != nil {
		t.Fatalf("minted token does not verify: %s", err)
	}
	if claims.Subject != "bench" {
		t.Fatalf("unexpected sub; got %q; want %q", claims.Subject, "bench")
	}
	if exp := claims.ExpiresAt.Sub(start); exp < 59*time.Minute || exp > 61*time.Minute {
		t.Fatalf("unexpected exp; got now+%s; want now+1h", exp)
	}

	// The same token goes with every request.
	w.seq++
	w.buildHead()
	if got := headerOf(parseHead(t, w.head), "authorization"); got != auth {
		t.Fatalf("token changed between requests; got %q; want %q", got, auth)
	}
}

func TestJWTAuth_Given(t *testing.T) {
	w := authWorker(t, &authConfig{mode: "jwt", jwtToken: "a.b.c"})
	w.buildHead()
	if got := headerOf(parseHead(t, w.head), "authorization"); got != "Bearer a.b.c" {
		t.Fatalf("unexpected Authorization; got %q; want %q", got, "Bearer a.b.c")
	}
}

func TestNewSigner_Failure(t *testing.T) {
	f := func(a *authConfig) {
		t.Helper()
		if _, err := newSigner(a, time.Now()); err == nil {
			t.Fatalf("expecting error for %+v", *a)
		}
	}
	f(&authConfig{mode: "basic"})
	f(&authConfig{mode: ""})
	f(&authConfig{mode: "sigv4", region: "us-east-1", accessKey: "AK"})
	f(&authConfig{mode: "sigv4", accessKey: "AK", secretKey: "SK"})
	f(&authConfig{mode: "jwt"})
	f(&authConfig{mode: "jwt", jwtToken: "a.b.c", jwtSecret: "s"})
}

// BenchmarkBuildHead is the generator's cost of one head: signing with
// -auth sigv4 must stay far below the gateway's cost of verifying it.
func BenchmarkBuildHead(b *testing.B) {
	f := func(name string, a *authConfig) {
		b.Run(name, func(b *testing.B) {
			w := authWorker(b, a)
			b.ReportAllocs()
			for b.Loop() {
				w.seq++
				w.buildHead()
			}
		})
	}
	f("none", &authConfig{mode: "none"})
	f("sigv4", &authConfig{mode: "sigv4", region: "us-east-1", accessKey: "benchak", secretKey: "benchsk"})
	f("jwt", &authConfig{mode: "jwt", jwtSecret: "s3cret"})
}

// TestSigV4Auth_MultipartMatchesSDK checks the multipart requests' signatures,
// queries included, against aws-sdk-go-v2's signer (as its S3 client signs:
// no second path escaping) and against the gateway's verifier.
func TestSigV4Auth_MultipartMatchesSDK(t *testing.T) {
	const region = "eu-west-3"
	w := authWorker(t, &authConfig{mode: "sigv4", region: region, accessKey: "AK", secretKey: "SK"})
	w.resp.body = []byte(`<InitiateMultipartUploadResult><UploadId>a+b/c=d&amp;e~f%g h</UploadId></InitiateMultipartUploadResult>`)
	if !w.takeUploadID() {
		t.Fatalf("no upload id found in %q", w.resp.body)
	}
	const wireID = "a%2Bb%2Fc%3Dd%26e~f%25g%20h"
	if got := string(w.uploadID); got != wireID {
		t.Fatalf("unexpected encoded upload id; got %q; want %q", got, wireID)
	}
	vf := sigv4.NewVerifier(sigv4.NewKeyCache(0))
	vc := &sigv4.VerifyConfig{Region: region, Keys: sigv4.Keys{"AK": &sigv4.Key{Secret: "SK"}}}

	f := func(k reqKind, contentLength int64, wantMethod, wantQuery string) {
		t.Helper()
		w.seq++
		w.part = 2
		w.buildRequest(k, contentLength, false)
		in := parseHead(t, w.head)
		if string(in.Method) != wantMethod || string(in.Query) != wantQuery {
			t.Fatalf("unexpected request %s ?%s; want %s ?%s", in.Method, in.Query, wantMethod, wantQuery)
		}
		if got := headerOf(in, "content-length"); got != strconv.FormatInt(contentLength, 10) {
			t.Fatalf("unexpected Content-Length %q; want %d", got, contentLength)
		}
		tm, err := time.Parse("20060102T150405Z", headerOf(in, "x-amz-date"))
		if err != nil {
			t.Fatalf("bad x-amz-date: %s", err)
		}
		const host = "127.0.0.1:9000"
		req, err := http.NewRequest(wantMethod, "http://"+host+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.URL.Opaque = "//" + host + string(in.Path)
		req.URL.RawQuery = string(in.Query)
		req.Host = host
		req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD") // set by the S3 client's middleware, not SignHTTP
		err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AK", SecretAccessKey: "SK"},
			req, "UNSIGNED-PAYLOAD", "s3", region, tm, func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
		if err != nil {
			t.Fatalf("sdk SignHTTP: %s", err)
		}
		if got, want := headerOf(in, "authorization"), req.Header.Get("Authorization"); got != want {
			t.Fatalf("%s ?%s: Authorization differs from aws-sdk-go-v2's\ngot  %s\nwant %s", wantMethod, wantQuery, got, want)
		}
		var out sigv4.Verified
		if err := vf.Verify(vc, in, &out); err != nil {
			t.Fatalf("%s ?%s does not verify: %s", wantMethod, wantQuery, err)
		}
	}
	f(reqCreate, 0, "POST", "uploads")
	f(reqPart, 1<<10, "PUT", "partNumber=2&uploadId="+wireID)
	f(reqComplete, 321, "POST", "uploadId="+wireID)
	f(reqPut, 1<<10, "PUT", "")
	f(reqCreate, 0, "POST", "uploads") // back from PUT to POST
}
