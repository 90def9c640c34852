package sigv4_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/mizuchi-gw/mizuchi/sigv4"
)

// benchHeaders is a typical SDK PutObject with a checksum and metadata.
var benchHeaders = []string{
	"X-Amz-Content-Sha256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
	"Content-Type", "image/jpeg",
	"Content-Md5", "CY9rzUYh03PK3k6DJie09g==",
	"X-Amz-Checksum-Crc32", "NhCmhg==",
	"X-Amz-Meta-Author", "Jane Doe",
}

const (
	benchPath  = "/my-bucket/photos/2024/my%20file.jpg"
	benchQuery = "x-id=PutObject"
	benchLen   = 1 << 20
)

func benchRequest() (*sigv4.Credentials, *sigv4.Request) {
	c := testCreds
	r := ourRequest(&c, "PUT", testHost, benchPath, benchQuery, benchHeaders, benchLen, benchHeaders[1], testTime)
	return &c, r
}

func BenchmarkAppendAuthorization(b *testing.B) {
	s := sigv4.NewSigner(sigv4.NewKeyCache(4))
	c, r := benchRequest()
	dst := s.AppendAuthorization(nil, c, r)
	b.ReportAllocs()
	for b.Loop() {
		dst = s.AppendAuthorization(dst[:0], c, r)
	}
}

func BenchmarkAppendAuthorizationParallel(b *testing.B) {
	kc := sigv4.NewKeyCache(4)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		s := sigv4.NewSigner(kc)
		c, r := benchRequest()
		var dst []byte
		for pb.Next() {
			dst = s.AppendAuthorization(dst[:0], c, r)
		}
	})
}

// BenchmarkSDKSignHTTP is the baseline: aws-sdk-go-v2's signer on an
// equivalent *http.Request (its key cache is warm after the first call).
func BenchmarkSDKSignHTTP(b *testing.B) {
	req := newSDKRequest(b, "PUT", testHost, benchPath, benchQuery, benchHeaders, benchLen)
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	creds := aws.Credentials{AccessKeyID: testCreds.AccessKey, SecretAccessKey: testCreds.SecretKey}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := signer.SignHTTP(ctx, creds, req, benchHeaders[1], "s3", testRegion, testTime); err != nil {
			b.Fatalf("SignHTTP: %s", err)
		}
	}
}

func BenchmarkAppendURIEncode(b *testing.B) {
	src := []byte("photos/2024/my file+ünï.jpg")
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		dst = sigv4.AppendURIEncode(dst[:0], src, false)
	}
}

func BenchmarkAppendAmzDate(b *testing.B) {
	dst := make([]byte, 0, 32)
	b.ReportAllocs()
	for b.Loop() {
		dst = sigv4.AppendAmzDate(dst[:0], testTime)
	}
}
