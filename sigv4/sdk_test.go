package sigv4_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/mizuchi-gw/mizuchi/sigv4"
)

var (
	testCreds = sigv4.Credentials{AccessKey: "AKIAIOSFODNN7EXAMPLE", SecretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	testTime  = time.Date(2024, 3, 7, 9, 5, 1, 0, time.UTC)
)

const (
	testHost   = "s3.eu-west-1.amazonaws.com"
	testRegion = "eu-west-1"
	emptySHA   = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// sdkAuthorization signs the request with aws-sdk-go-v2's signer the way
// its S3 client does (no second path escaping) and returns Authorization.
// path is used verbatim (through URL.Opaque), headers are name/value pairs.
func sdkAuthorization(tb testing.TB, c *sigv4.Credentials, method, host, path, query string, headers []string, contentLength int64, payloadHash string, t time.Time) string {
	tb.Helper()
	req := newSDKRequest(tb, method, host, path, query, headers, contentLength)
	err := v4.NewSigner().SignHTTP(context.Background(),
		aws.Credentials{AccessKeyID: c.AccessKey, SecretAccessKey: c.SecretKey, SessionToken: c.SessionToken},
		req, payloadHash, "s3", testRegion, t,
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err != nil {
		tb.Fatalf("sdk SignHTTP: %s", err)
	}
	return req.Header.Get("Authorization")
}

func newSDKRequest(tb testing.TB, method, host, path, query string, headers []string, contentLength int64) *http.Request {
	tb.Helper()
	req, err := http.NewRequest(method, "https://"+host+"/", nil)
	if err != nil {
		tb.Fatalf("cannot create request: %s", err)
	}
	req.URL.Opaque = "//" + host + path
	req.URL.RawQuery = query
	req.Host = host
	req.ContentLength = contentLength
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	return req
}

// ourRequest builds the equivalent sigv4.Request: the SDK adds host,
// x-amz-date, x-amz-security-token and (for a positive length)
// content-length itself, so they are added here.
func ourRequest(c *sigv4.Credentials, method, host, path, query string, headers []string, contentLength int64, payloadHash string, t time.Time) *sigv4.Request {
	amzDate := sigv4.AppendAmzDate(nil, t)
	hs := []sigv4.Header{
		{Name: []byte("host"), Value: []byte(host)},
		{Name: []byte("x-amz-date"), Value: amzDate},
	}
	if c.SessionToken != "" {
		hs = append(hs, sigv4.Header{Name: []byte("x-amz-security-token"), Value: []byte(c.SessionToken)})
	}
	if contentLength > 0 {
		hs = append(hs, sigv4.Header{Name: []byte("content-length"), Value: []byte(strconvItoa(contentLength))})
	}
	for i := 0; i+1 < len(headers); i += 2 {
		hs = append(hs, sigv4.Header{Name: []byte(strings.ToLower(headers[i])), Value: []byte(headers[i+1])})
	}
	return &sigv4.Request{
		Method:      []byte(method),
		Path:        []byte(path),
		Query:       []byte(query),
		Headers:     hs,
		PayloadHash: []byte(payloadHash),
		AmzDate:     amzDate,
		Region:      testRegion,
		Service:     "s3",
	}
}

func strconvItoa(n int64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

func TestAuthorizationMatchesSDK_Success(t *testing.T) {
	kc := sigv4.NewKeyCache(16)
	s := sigv4.NewSigner(kc)
	f := func(c sigv4.Credentials, method, key, query string, headers []string, contentLength int64, payloadHash string) {
		t.Helper()
		path := string(sigv4.AppendURIEncode([]byte("/my-bucket/"), []byte(key), false))
		want := sdkAuthorization(t, &c, method, testHost, path, query, headers, contentLength, payloadHash, testTime)
		r := ourRequest(&c, method, testHost, path, query, headers, contentLength, payloadHash, testTime)
		got := string(s.AppendAuthorization(nil, &c, r))
		if got != want {
			canon := s.AppendCanonicalRequest(nil, r)
			t.Fatalf("unexpected Authorization for key %q query %q;\ngot  %s\nwant %s\nour canonical request:\n%s", key, query, got, want, canon)
		}
	}
	withToken := testCreds
	withToken.SessionToken = "FwoGZXIvYXdzEJr//////////wEaDOEXAMPLETOKEN+/=="
	hexSHA := "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

	f(testCreds, "PUT", "photos/2024/my file.jpg", "x-id=PutObject",
		[]string{"X-Amz-Content-Sha256", hexSHA, "Content-Type", "image/jpeg", "Content-Md5", "CY9rzUYh03PK3k6DJie09g=="}, 4, hexSHA)
	f(testCreds, "PUT", "日本語/ファイル 名.txt", "x-id=PutObject",
		[]string{"X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD", "X-Amz-Meta-Author", "  Jane   Doe  ", "X-Amz-Meta-Note", "a\tb"}, 0, "UNSIGNED-PAYLOAD")
	f(testCreds, "PUT", "a+b=c&d.txt", "", []string{"X-Amz-Content-Sha256", emptySHA}, 0, emptySHA)
	f(testCreds, "PUT", "100%/50% off!.txt", "x-id=PutObject", []string{"X-Amz-Content-Sha256", emptySHA}, 0, emptySHA)
	f(testCreds, "PUT", "dir/sub/~user/.hidden/-_.~", "", []string{"X-Amz-Content-Sha256", emptySHA}, 0, emptySHA)
	f(testCreds, "PUT", "what?#[]@!$'()*,;:", "", []string{"X-Amz-Content-Sha256", emptySHA}, 0, emptySHA)
	f(testCreds, "PUT", "emoji 😀 ünïcödé", "partNumber=3&uploadId=abc%2Bdef",
		[]string{"X-Amz-Content-Sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "X-Amz-Trailer", "x-amz-checksum-crc32",
			"Content-Encoding", "aws-chunked", "X-Amz-Decoded-Content-Length", "1048576"}, 1048660, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
	f(testCreds, "POST", "big/object.bin", "uploads", []string{"X-Amz-Content-Sha256", emptySHA, "Content-Type", "application/octet-stream"}, 0, emptySHA)
	f(testCreds, "POST", "big/object.bin", "uploads=&x-id=CreateMultipartUpload", []string{"X-Amz-Content-Sha256", emptySHA}, 0, emptySHA)
	f(testCreds, "POST", "big/object.bin", "uploadId=2~Zx.y-z_9%2F%2B%3D&x-id=CompleteMultipartUpload",
		[]string{"X-Amz-Content-Sha256", hexSHA, "Content-Type", "application/xml"}, 200, hexSHA)
	f(testCreds, "DELETE", "big/object.bin", "uploadId=abc", []string{"X-Amz-Content-Sha256", emptySHA}, 0, emptySHA)
	f(testCreds, "PUT", "checksummed", "x-id=PutObject",
		[]string{"X-Amz-Content-Sha256", hexSHA, "X-Amz-Checksum-Crc32", "NhCmhg==", "X-Amz-Sdk-Checksum-Algorithm", "CRC32",
			"X-Amz-Meta-Tag", "one", "X-Amz-Meta-Tag", "two", "Cache-Control", "no-cache", "If-None-Match", "*"}, 5, hexSHA)
	f(withToken, "PUT", "tokened/key", "x-id=PutObject",
		[]string{"X-Amz-Content-Sha256", hexSHA, "X-Amz-Storage-Class", "STANDARD_IA", "X-Amz-Tagging", "a=b&c=d"}, 5, hexSHA)
	// Query parsing corner cases: '+' is a space, unsorted names, repeated
	// names sorted by value, empty segments, encoded '&' and '='.
	f(testCreds, "PUT", "q", "prefix=a+b&b=2&a=1&a=0&&c=%26%3D&d=%7e%7E", []string{"X-Amz-Content-Sha256", emptySHA}, 0, emptySHA)
	f(testCreds, "PUT", "q", "Z=1&a=1&_=1&~=1&-=1&.=1", []string{"X-Amz-Content-Sha256", emptySHA}, 0, emptySHA)
}

func TestAuthorizationStable_Success(t *testing.T) {
	// The caller's header order must not change and repeated signing must
	// give the same result.
	r := ourRequest(&testCreds, "PUT", testHost, "/b/k", "x-id=PutObject", []string{"Content-Type", "text/plain", "X-Amz-Content-Sha256", emptySHA}, 0, emptySHA, testTime)
	before := make([]string, len(r.Headers))
	for i, h := range r.Headers {
		before[i] = string(h.Name)
	}
	s := sigv4.NewSigner(nil)
	a1 := string(s.AppendAuthorization(nil, &testCreds, r))
	a2 := string(s.AppendAuthorization(nil, &testCreds, r))
	if a1 != a2 {
		t.Fatalf("unstable Authorization; got %s; then %s", a1, a2)
	}
	for i, h := range r.Headers {
		if string(h.Name) != before[i] {
			t.Fatalf("header %d reordered; got %s; want %s", i, h.Name, before[i])
		}
	}
}
