//go:build !race

package sigv4_test

import (
	"testing"

	"github.com/mizuchi-gw/mizuchi/sigv4"
)

func testVerifyAllocs(t *testing.T, name string, in *sigv4.Input) {
	t.Helper()
	vf := sigv4.NewVerifier(sigv4.NewKeyCache(4))
	cfg := testVerifyConfig()
	var out sigv4.Verified
	if err := vf.Verify(cfg, in, &out); err != nil { // warm the cache and the buffers
		t.Fatalf("%s: unexpected error: %s", name, err)
	}
	var err error
	n := testing.AllocsPerRun(100, func() {
		err = vf.Verify(cfg, in, &out)
	})
	if err != nil {
		t.Fatalf("%s: unexpected error: %s", name, err)
	}
	if n != 0 {
		t.Fatalf("unexpected allocations in Verify (%s); got %v; want 0", name, n)
	}
}

func TestAllocationVerify(t *testing.T) {
	testVerifyAllocs(t, "header", benchVerifyInput(t))
}

func TestAllocationVerifyPresigned(t *testing.T) {
	testVerifyAllocs(t, "presigned", benchPresignedInput(t))
}

func TestAllocationVerifyRawPath(t *testing.T) {
	// A client that signed its path verbatim costs a second canonical
	// request and HMAC, still without allocating.
	in := sdkSignedInput(t, &testCreds, "PUT", "/my-bucket/a!b(c)%2Fd", "x-id=PutObject", benchHeaders, benchLen, benchHeaders[1])
	testVerifyAllocs(t, "raw path", in)
}

func TestAllocationVerifyDateHeader(t *testing.T) {
	s := sigv4.NewSigner(nil)
	r := ourRequest(&testCreds, "PUT", testHost, "/b/k", "", []string{"x-amz-content-sha256", emptySHA, "date", "Thu, 07 Mar 2024 09:05:01 GMT"}, 0, emptySHA, testTime)
	r.Headers = r.Headers[:0:0]
	for _, h := range ourRequest(&testCreds, "PUT", testHost, "/b/k", "", []string{"x-amz-content-sha256", emptySHA, "date", "Thu, 07 Mar 2024 09:05:01 GMT"}, 0, emptySHA, testTime).Headers {
		if string(h.Name) != "x-amz-date" {
			r.Headers = append(r.Headers, h)
		}
	}
	auth := s.AppendAuthorization(nil, &testCreds, r)
	in := &sigv4.Input{Method: r.Method, Path: r.Path, Headers: append(r.Headers, sigv4.Header{Name: []byte("Authorization"), Value: auth}), Now: testTime}
	testVerifyAllocs(t, "Date header", in)
}

func TestAllocationVerifySession(t *testing.T) {
	// A resolved key is verified without allocating in sigv4 (the
	// Resolver's own cost is its business).
	calls := 0
	cfg := sessionConfig(&calls)
	vf := sigv4.NewVerifier(nil)
	in := sdkSignedInput(t, &sessionCreds, "PUT", "/b/k", "x-id=PutObject", benchHeaders, benchLen, benchHeaders[1])
	var out sigv4.Verified
	if err := vf.Verify(cfg, in, &out); err != nil {
		t.Fatalf("unexpected error: %s", err)
	}
	if n := testing.AllocsPerRun(100, func() { _ = vf.Verify(cfg, in, &out) }); n != 0 {
		t.Fatalf("unexpected allocations in Verify with a session; got %v; want 0", n)
	}
}
