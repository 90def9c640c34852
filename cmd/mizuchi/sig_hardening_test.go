package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// TestE2ESigV4Hardening: a signed request carries only what its signer
// approved, and lands on the route its signature was computed for.
func TestE2ESigV4Hardening(t *testing.T) {
	b := startBackend(t, authBucket)
	auth := "    auth:\n      enabled: true\n      sigv4:\n" +
		"        access_key: " + clientAK + "\n        secret_key: " + clientSK + "\n"
	g := startGateway(t, b,
		route{name: "ha", pathPrefix: "/a", bucket: authBucket, keyPrefix: "ha/", extra: auth},
		route{name: "hab", pathPrefix: "/a/b", bucket: authBucket, keyPrefix: "hab/", extra: auth},
	)
	t.Run("HeadersNotSigned", func(t *testing.T) { testHeadersNotSigned(t, g, b) })
	t.Run("RouteOnVerifiedPath", func(t *testing.T) { testRouteOnVerifiedPath(t, g, b) })
}

func doResult(t testing.TB, g *gateway, req *http.Request) putResult {
	t.Helper()
	resp, err := g.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return putResult{status: resp.StatusCode, header: resp.Header, body: data}
}

func testHeadersNotSigned(t *testing.T, g *gateway, b *backend) {
	body := genBytes(nextSeed(), 3*kib)
	presigned := func(key string) *http.Request {
		t.Helper()
		u := "http://" + g.addr + "/a/b/" + key + "?X-Amz-Expires=" + strconv.Itoa(600)
		req, err := http.NewRequest(http.MethodPut, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
		signed, _, err := signer.PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: clientAK, SecretAccessKey: clientSK},
			req, "UNSIGNED-PAYLOAD", "s3", backendRegion, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		out, err := http.NewRequest(http.MethodPut, signed, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	refused := func(name string, req *http.Request, wantHeader, storedKey string) {
		t.Helper()
		r := doResult(t, g, req)
		if code := checkS3Error(t, name, r, false); code != "AccessDenied" || r.status != 403 {
			t.Fatalf("%s: unexpected refusal; got %d %s; want 403 AccessDenied (%s)", name, r.status, code, r)
		}
		for _, s := range []string{"There were headers present in the request which were not signed", "<HeadersNotSigned>" + wantHeader + "</HeadersNotSigned>"} {
			if !strings.Contains(string(r.body), s) {
				t.Fatalf("%s: body lacks %q: %s", name, s, r.body)
			}
		}
		b.checkAbsent(t, authBucket, storedKey)
	}

	// The presigned URL works as issued.
	if r := doResult(t, g, presigned("ok.bin")); r.status != 200 {
		t.Fatalf("presigned PUT: unexpected status; got %s; want 200", r)
	}
	if !b.exists(t, authBucket, "hab/ok.bin") {
		t.Fatalf("presigned PUT: object missing")
	}

	// Whoever holds it cannot add metadata, tagging or retention.
	for _, h := range [][2]string{
		{"X-Amz-Meta-Owner", "mallory"},
		{"X-Amz-Tagging", "public=yes"},
		{"X-Amz-Storage-Class", "REDUCED_REDUNDANCY"},
		{"X-Amz-Website-Redirect-Location", "/evil"},
		{"X-Amz-Object-Lock-Mode", "GOVERNANCE"},
		{"X-Amz-Server-Side-Encryption", "AES256"},
	} {
		key := "unsigned-" + strings.ToLower(h[0]) + ".bin"
		req := presigned(key)
		req.Header.Set(h[0], h[1])
		refused("presigned + "+h[0], req, strings.ToLower(h[0]), "hab/"+key)
	}
	// A presigned URL's payload is UNSIGNED-PAYLOAD: an unsigned header
	// cannot switch it to another body mode.
	req := presigned("mode.bin")
	req.Header.Set("X-Amz-Content-Sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
	refused("presigned + payload mode", req, "x-amz-content-sha256", "hab/mode.bin")
	// Repeating the signed payload mode is harmless.
	req = presigned("same-mode.bin")
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	if r := doResult(t, g, req); r.status != 200 {
		t.Fatalf("presigned + UNSIGNED-PAYLOAD header: unexpected status; got %s; want 200", r)
	}

	// Header form: the same rule.
	req = sdkSigned(t, g, "/a/b/header.bin", body, clientAK, clientSK, backendRegion, time.Now())
	req.Header.Set("X-Amz-Meta-Added", "later")
	refused("header form + x-amz-meta", req, "x-amz-meta-added", "hab/header.bin")
	// Signed metadata passes.
	req = sdkSignedWith(t, g, "/a/b/header-meta.bin", body, clientAK, clientSK, http.Header{"X-Amz-Meta-Signed": {"yes"}})
	if r := doResult(t, g, req); r.status != 200 {
		t.Fatalf("signed x-amz-meta: unexpected status; got %s; want 200", r)
	}
}

func testRouteOnVerifiedPath(t *testing.T, g *gateway, b *backend) {
	body := genBytes(nextSeed(), 2*kib)
	// Signed for "/a/b/k.bin" (route /a/b, key k.bin), sent as
	// "/a/b%2Fk.bin": the signature still verifies (sigv4 decodes the
	// path), but the raw path matches route /a with key "b/k.bin".
	req := sdkSigned(t, g, "/a/b/k.bin", body, clientAK, clientSK, backendRegion, time.Now())
	req.URL.RawPath = "/a/b%2Fk.bin"
	if req.URL.EscapedPath() != "/a/b%2Fk.bin" {
		t.Fatalf("cannot send the escaped path; got %q", req.URL.EscapedPath())
	}
	r := doResult(t, g, req)
	if code := checkS3Error(t, "escaped separator", r, false); code != "InvalidURI" || r.status != 400 {
		t.Fatalf("escaped separator: unexpected refusal; got %d %s; want 400 InvalidURI (%s)", r.status, code, r)
	}
	b.checkAbsent(t, authBucket, "ha/b/k.bin")
	b.checkAbsent(t, authBucket, "hab/k.bin")

	// The same for an escaped prefix letter.
	req = sdkSigned(t, g, "/a/b/k2.bin", body, clientAK, clientSK, backendRegion, time.Now())
	req.URL.RawPath = "/a/%62/k2.bin"
	r = doResult(t, g, req)
	if code := checkS3Error(t, "escaped prefix letter", r, false); code != "InvalidURI" {
		t.Fatalf("escaped prefix letter: unexpected refusal; got %d %s; want 400 InvalidURI (%s)", r.status, code, r)
	}
	b.checkAbsent(t, authBucket, "ha/b/k2.bin")

	// As signed, it lands on /a/b.
	req = sdkSigned(t, g, "/a/b/k.bin", body, clientAK, clientSK, backendRegion, time.Now())
	if r := doResult(t, g, req); r.status != 200 {
		t.Fatalf("signed path: unexpected status; got %s; want 200", r)
	}
	if !b.exists(t, authBucket, "hab/k.bin") {
		t.Fatalf("signed path: object missing on route /a/b")
	}
	// A key with an escaped '/' that names no other route is fine.
	req = sdkSigned(t, g, "/a/x%2Fy.bin", body, clientAK, clientSK, backendRegion, time.Now())
	if r := doResult(t, g, req); r.status != 200 {
		t.Fatalf("escaped slash in a key: unexpected status; got %s; want 200", r)
	}
	if !b.exists(t, authBucket, "ha/x/y.bin") {
		t.Fatalf("escaped slash in a key: object missing")
	}
}
