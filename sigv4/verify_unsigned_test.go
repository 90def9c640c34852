package sigv4_test

import (
	"errors"
	"testing"

	"github.com/mizuchi-gw/mizuchi/sigv4"
)

// An x-amz-* header outside SignedHeaders is refused, in both forms: it
// could carry metadata, tagging or object-lock retention the signer never
// approved.
func TestVerifyHeadersNotSigned_Failure(t *testing.T) {
	f := func(name string, in *sigv4.Input, extra, value, wantName string) {
		t.Helper()
		in.Headers = append(in.Headers, sigv4.Header{Name: []byte(extra), Value: []byte(value)})
		vf := sigv4.NewVerifier(nil)
		var out sigv4.Verified
		err := vf.Verify(testVerifyConfig(), in, &out)
		if !errors.Is(err, sigv4.ErrHeadersNotSigned) {
			t.Fatalf("%s: unexpected error; got %v; want ErrHeadersNotSigned", name, err)
		}
		if got := string(vf.UnsignedHeader()); got != wantName {
			t.Fatalf("%s: unexpected unsigned header; got %q; want %q", name, got, wantName)
		}
	}
	header := func() *sigv4.Input {
		return sdkSignedInput(t, &testCreds, "PUT", "/b/k", "x-id=PutObject", []string{"X-Amz-Content-Sha256", emptySHA}, 0, emptySHA)
	}
	presigned := func() *sigv4.Input {
		return sdkPresignedInput(t, &testCreds, "PUT", "/b/k", "x-id=PutObject", []string{"Content-Type", "image/jpeg"}, 900, "UNSIGNED-PAYLOAD")
	}
	f("header meta", header(), "X-Amz-Meta-Evil", "1", "X-Amz-Meta-Evil")
	f("header lock", header(), "x-amz-object-lock-mode", "COMPLIANCE", "x-amz-object-lock-mode")
	f("presigned meta", presigned(), "x-amz-meta-owner", "mallory", "x-amz-meta-owner")
	f("presigned tagging", presigned(), "x-amz-tagging", "a=b", "x-amz-tagging")
	f("presigned storage class", presigned(), "X-AMZ-STORAGE-CLASS", "GLACIER", "X-AMZ-STORAGE-CLASS")
	f("presigned sse", presigned(), "x-amz-server-side-encryption", "AES256", "x-amz-server-side-encryption")
	f("presigned redirect", presigned(), "x-amz-website-redirect-location", "/x", "x-amz-website-redirect-location")
	f("presigned lock date", presigned(), "x-amz-object-lock-retain-until-date", "2100-01-01T00:00:00Z", "x-amz-object-lock-retain-until-date")
	// A presigned URL's payload is UNSIGNED-PAYLOAD: an unsigned header
	// naming another payload mode would change how the body is read.
	f("presigned payload mode", presigned(), "x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "x-amz-content-sha256")
	f("presigned payload hash", presigned(), "x-amz-content-sha256", hexSHA, "x-amz-content-sha256")
}

func TestVerifyHeadersNotSigned_Success(t *testing.T) {
	f := func(name string, in *sigv4.Input, extra, value string) {
		t.Helper()
		if extra != "" {
			in.Headers = append(in.Headers, sigv4.Header{Name: []byte(extra), Value: []byte(value)})
		}
		vf := sigv4.NewVerifier(nil)
		var out sigv4.Verified
		if err := vf.Verify(testVerifyConfig(), in, &out); err != nil {
			t.Fatalf("%s: unexpected error: %s", name, err)
		}
		if vf.UnsignedHeader() != nil {
			t.Fatalf("%s: unexpected unsigned header %q", name, vf.UnsignedHeader())
		}
	}
	// Signed x-amz-* headers pass.
	f("header meta signed", sdkSignedInput(t, &testCreds, "PUT", "/b/k", "", []string{"X-Amz-Content-Sha256", emptySHA, "X-Amz-Meta-A", "1", "X-Amz-Tagging", "a=b"}, 0, emptySHA), "", "")
	f("presigned meta signed", sdkPresignedInput(t, &testCreds, "PUT", "/b/k", "", []string{"X-Amz-Meta-A", "1"}, 900, "UNSIGNED-PAYLOAD"), "", "")
	// Headers that are not x-amz-* need no signature; x-amzn-* is not x-amz-*.
	f("presigned content-type", sdkPresignedInput(t, &testCreds, "PUT", "/b/k", "", nil, 900, "UNSIGNED-PAYLOAD"), "Content-Type", "text/plain")
	f("presigned trace id", sdkPresignedInput(t, &testCreds, "PUT", "/b/k", "", nil, 900, "UNSIGNED-PAYLOAD"), "X-Amzn-Trace-Id", "Root=1")
	// An unsigned x-amz-content-sha256 repeating the signed payload hash.
	f("presigned unsigned payload", sdkPresignedInput(t, &testCreds, "PUT", "/b/k", "", nil, 900, "UNSIGNED-PAYLOAD"), "x-amz-content-sha256", "UNSIGNED-PAYLOAD")
}
