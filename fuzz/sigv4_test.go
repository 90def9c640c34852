package fuzz

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/mizuchi-gw/mizuchi/sigv4"
)

// sdkSpecialHeaders are headers aws-sdk-go-v2 ignores, sets itself or signs
// from elsewhere (host from req.Host, content-length from ContentLength),
// so a fuzzed header with one of these names cannot be compared.
var sdkSpecialHeaders = map[string]bool{
	"authorization": true, "user-agent": true, "x-amzn-trace-id": true, "expect": true,
	"transfer-encoding": true, "content-length": true, "host": true, "x-amz-date": true,
	"x-amz-security-token": true,
}

// validToken reports whether s is a non-empty RFC 9110 token, as method
// and header names must be for net/http to carry them.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || c <= ' ' || strings.IndexByte("\"(),/:;<=>?@[\\]{}\x7f", c) >= 0 {
			return false
		}
	}
	return true
}

// FuzzSignMatchesSDK signs a PUT-like request with random method, object
// key, query and headers with both sigv4 and aws-sdk-go-v2 (configured as
// for S3) and requires identical Authorization values.
func FuzzSignMatchesSDK(f *testing.F) {
	f.Add("PUT", "photos/my file.jpg", "x-id=PutObject", "x-amz-meta-a", "  Jane   Doe ", "b")
	f.Add("POST", "日本語/ファイル", "uploads", "content-type", "text/plain", "")
	f.Add("PUT", "a+b%c~d/e", "partNumber=3&uploadId=abc%2Bdef", "x-amz-checksum-crc32", "NhCmhg==", "x")
	f.Add("PUT", "k", "b=2&a=1&a=0&&c=a+b&d=%7e", "X-Amz-Meta-Case", "\tv\t", " \u00a0w\u00a0 ")
	f.Add("DELETE", "k", "uploadId=x%2F%3D", "if-none-match", "*", "")

	const maxLen = 256
	creds := sigv4.Credentials{AccessKey: "AKIAIOSFODNN7EXAMPLE", SecretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	signTime := time.Date(2024, 3, 7, 9, 5, 1, 0, time.UTC)
	const host, region, payload = "s3.eu-west-1.amazonaws.com", "eu-west-1", "UNSIGNED-PAYLOAD"
	sdk := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	signer := sigv4.NewSigner(sigv4.NewKeyCache(4))

	f.Fuzz(func(t *testing.T, method, key, query, hname, hval1, hval2 string) {
		if len(method) > 16 || len(key) > maxLen || len(query) > maxLen || len(hname) > 64 || len(hval1) > maxLen || len(hval2) > maxLen {
			t.Skip("input too large")
		}
		if !validToken(method) {
			t.Skip("net/http cannot carry the method")
		}
		if _, err := url.ParseQuery(query); err != nil {
			t.Skip("the SDK drops query parameters net/url cannot parse")
		}
		lname := strings.ToLower(hname)
		if !validToken(hname) || sdkSpecialHeaders[lname] {
			t.Skip("the SDK treats this header name specially")
		}
		path := string(sigv4.AppendURIEncode([]byte("/bucket/"), []byte(key), false))

		req, err := http.NewRequest(method, "https://"+host+"/", nil)
		if err != nil {
			t.Skip("net/http cannot build the request")
		}
		req.URL.Opaque = "//" + host + path
		req.URL.RawQuery = query
		req.Host = host
		req.Header.Add("X-Amz-Content-Sha256", payload)
		req.Header.Add(hname, hval1)
		req.Header.Add(hname, hval2)
		err = sdk.SignHTTP(context.Background(),
			aws.Credentials{AccessKeyID: creds.AccessKey, SecretAccessKey: creds.SecretKey},
			req, payload, "s3", region, signTime)
		if err != nil {
			t.Fatalf("sdk SignHTTP: %s", err)
		}
		want := req.Header.Get("Authorization")

		amzDate := sigv4.AppendAmzDate(nil, signTime)
		r := &sigv4.Request{
			Method: []byte(method),
			Path:   []byte(path),
			Query:  []byte(query),
			Headers: []sigv4.Header{
				{Name: []byte("host"), Value: []byte(host)},
				{Name: []byte("x-amz-date"), Value: amzDate},
				{Name: []byte("x-amz-content-sha256"), Value: []byte(payload)},
				{Name: []byte(lname), Value: []byte(hval1)},
				{Name: []byte(lname), Value: []byte(hval2)},
			},
			PayloadHash: []byte(payload),
			AmzDate:     amzDate,
			Region:      region,
			Service:     "s3",
		}
		got := string(signer.AppendAuthorization(nil, &creds, r))
		if got != want {
			t.Fatalf("unexpected Authorization;\ngot  %s\nwant %s\nour canonical request:\n%s", got, want, signer.AppendCanonicalRequest(nil, r))
		}
	})
}
