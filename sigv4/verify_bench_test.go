package sigv4_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/mizuchi-gw/mizuchi/sigv4"
)

// benchVerifyInput is benchRequest's PutObject as received: signed by the
// SDK, 11 headers (with an unsigned User-Agent).
func benchVerifyInput(tb testing.TB) *sigv4.Input {
	return sdkSignedInput(tb, &testCreds, "PUT", benchPath, benchQuery, benchHeaders, benchLen, benchHeaders[1])
}

// benchPresignedInput is a presigned PutObject URL as the S3 presign
// client makes it, used with a Content-Type header.
func benchPresignedInput(tb testing.TB) *sigv4.Input {
	return sdkPresignedInput(tb, &testCreds, "PUT", benchPath, benchQuery, []string{"Content-Type", "image/jpeg"}, 900, "UNSIGNED-PAYLOAD")
}

func benchVerify(b *testing.B, in *sigv4.Input) {
	vf := sigv4.NewVerifier(sigv4.NewKeyCache(4))
	cfg := testVerifyConfig()
	var out sigv4.Verified
	if err := vf.Verify(cfg, in, &out); err != nil {
		b.Fatalf("Verify: %s", err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := vf.Verify(cfg, in, &out); err != nil {
			b.Fatalf("Verify: %s", err)
		}
	}
}

func BenchmarkVerify(b *testing.B) { benchVerify(b, benchVerifyInput(b)) }

func BenchmarkVerifyPresigned(b *testing.B) { benchVerify(b, benchPresignedInput(b)) }

func BenchmarkVerifyParallel(b *testing.B) {
	kc := sigv4.NewKeyCache(4)
	cfg := testVerifyConfig()
	in := benchVerifyInput(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		vf := sigv4.NewVerifier(kc)
		var out sigv4.Verified
		for pb.Next() {
			if err := vf.Verify(cfg, in, &out); err != nil {
				b.Errorf("Verify: %s", err)
				return
			}
		}
	})
}

// BenchmarkVerifySDKResign is the baseline: verifying the way a server
// without a verifier would, by rebuilding an *http.Request, re-signing it
// with aws-sdk-go-v2's SignHTTP and comparing Authorization.
func BenchmarkVerifySDKResign(b *testing.B) {
	in := benchVerifyInput(b)
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	creds := aws.Credentials{AccessKeyID: testCreds.AccessKey, SecretAccessKey: testCreds.SecretKey}
	ctx := context.Background()
	want := headerOf(in, "Authorization")
	b.ReportAllocs()
	for b.Loop() {
		req, err := http.NewRequest(string(in.Method), "https://"+testHost+"/", nil)
		if err != nil {
			b.Fatalf("NewRequest: %s", err)
		}
		req.URL.Opaque = "//" + testHost + string(in.Path)
		req.URL.RawQuery = string(in.Query)
		req.ContentLength = benchLen
		signed := strings.Split(want[strings.Index(want, "SignedHeaders=")+len("SignedHeaders="):strings.Index(want, ", Signature")], ";")
		for _, h := range in.Headers {
			name := strings.ToLower(string(h.Name))
			switch name {
			case "host":
				req.Host = string(h.Value)
				continue
			case "content-length", "authorization":
				continue
			}
			for _, s := range signed {
				if s == name {
					req.Header.Add(string(h.Name), string(h.Value))
				}
			}
		}
		if err := signer.SignHTTP(ctx, creds, req, req.Header.Get("X-Amz-Content-Sha256"), "s3", testRegion, testTime); err != nil {
			b.Fatalf("SignHTTP: %s", err)
		}
		if req.Header.Get("Authorization") != want {
			b.Fatalf("re-signed Authorization differs")
		}
	}
}
