package upstream

import (
	"bufio"
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
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/mizuchi-gw/mizuchi/httpparse"
	"github.com/mizuchi-gw/mizuchi/sigv4"
)

// TestAppendHead builds upstream heads and checks them against
// aws-sdk-go-v2's signer: the SDK re-signs the parsed head with the same
// credentials and time and must produce the same Authorization.
func TestAppendHead(t *testing.T) {
	creds := credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "")
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	f := func(pathStyle bool, keyPrefix, key, clientHead, wantPath, wantHash string) {
		t.Helper()
		ep := NewEndpoint("http", "127.0.0.1:9000", "127.0.0.1:9000", "us-east-1", "backend-bucket", keyPrefix, pathStyle, creds, PoolConfig{})
		var creq httpparse.Request
		if _, err := creq.Parse([]byte(clientHead)); err != nil {
			t.Fatalf("cannot parse client head: %s", err)
		}
		b := NewBuilder(sigv4.NewKeyCache(8))
		head, err := b.AppendHead(context.Background(), nil, ep, &Request{
			Method: creq.Method, Key: []byte(key), ContentLength: creq.ContentLength,
			PayloadHash: creq.Header("x-amz-content-sha256"), Headers: creq.Headers,
		}, now)
		if err != nil {
			t.Fatalf("AppendHead: %s", err)
		}
		hr, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(head)))
		if err != nil {
			t.Fatalf("upstream head does not parse: %s\n%s", err, head)
		}
		if hr.URL.RawPath != "" && hr.URL.RawPath != wantPath || hr.URL.EscapedPath() != wantPath {
			t.Fatalf("unexpected upstream path; got %q; want %q", hr.URL.EscapedPath(), wantPath)
		}
		if got := hr.Header.Get("X-Amz-Content-Sha256"); got != wantHash {
			t.Fatalf("unexpected payload hash; got %q; want %q", got, wantHash)
		}
		if hr.Header.Get("X-Client-Secret") != "" || strings.Contains(string(head), "client-signature") {
			t.Fatalf("a client header that is not allowlisted reached the backend:\n%s", head)
		}
		gotAuth := hr.Header.Get("Authorization")
		signed := gotAuth[strings.Index(gotAuth, "SignedHeaders=")+len("SignedHeaders=") : strings.Index(gotAuth, ", Signature=")]
		// Re-sign with the SDK over exactly the headers we signed.
		check, _ := http.NewRequest(hr.Method, "http://"+ep.Host+hr.URL.EscapedPath(), nil)
		check.URL.RawPath = hr.URL.EscapedPath()
		for _, name := range strings.Split(signed, ";") {
			if name == "host" || name == "authorization" {
				continue
			}
			check.Header.Set(name, hr.Header.Get(name))
		}
		check.Header.Del("X-Amz-Date")
		c, _ := creds.Retrieve(context.Background())
		err = v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }).
			SignHTTP(context.Background(), c, check, wantHash, "s3", "us-east-1", now)
		if err != nil {
			t.Fatalf("SDK signer: %s", err)
		}
		if want := check.Header.Get("Authorization"); want != gotAuth {
			t.Fatalf("signature differs from the SDK's\n got: %s\nwant: %s\nhead:\n%s", gotAuth, want, head)
		}
	}
	hex := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	f(true, "", "dir/my key+%~.txt",
		"PUT /uploads/dir/my%20key%2B%25~.txt HTTP/1.1\r\nHost: gw\r\nAuthorization: AWS4-HMAC-SHA256 client-signature\r\nX-Client-Secret: s\r\nContent-Type: text/plain\r\nx-amz-meta-Owner: me\r\nx-amz-content-sha256: "+hex+"\r\nContent-Length: 0\r\n\r\n",
		"/backend-bucket/dir/my%20key%2B%25~.txt", hex)
	f(true, "pfx/", "ключ/日本語.txt",
		"PUT /uploads/x HTTP/1.1\r\nHost: gw\r\nContent-MD5: 1B2M2Y8AsgTpgAmY7PhCfg==\r\nx-amz-checksum-crc32: AAAAAA==\r\nContent-Length: 0\r\n\r\n",
		"/backend-bucket/pfx/%D0%BA%D0%BB%D1%8E%D1%87/%E6%97%A5%E6%9C%AC%E8%AA%9E.txt", "UNSIGNED-PAYLOAD")
	f(false, "", "k",
		"PUT /uploads/k HTTP/1.1\r\nHost: gw\r\nx-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\r\nContent-Encoding: aws-chunked\r\nx-amz-decoded-content-length: 5\r\nx-amz-trailer: x-amz-checksum-crc32\r\nContent-Length: 60\r\n\r\n",
		"/k", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
	f(true, "", "k",
		"PUT /uploads/k HTTP/1.1\r\nHost: gw\r\nx-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD\r\nContent-Length: 0\r\n\r\n",
		"/backend-bucket/k", "UNSIGNED-PAYLOAD")
}

func TestForwarded(t *testing.T) {
	f := func(name string, want bool) {
		t.Helper()
		if got := Forwarded([]byte(name)); got != want {
			t.Fatalf("unexpected Forwarded(%q); got %v; want %v", name, got, want)
		}
	}
	f("Content-Type", true)
	f("content-md5", true)
	f("X-Amz-Meta-Anything", true)
	f("x-amz-checksum-sha256", true)
	f("X-Amz-Server-Side-Encryption-Customer-Key", true)
	f("If-None-Match", true)
	f("Authorization", false)
	f("Host", false)
	f("Connection", false)
	f("Transfer-Encoding", false)
	f("x-amz-date", false)
	f("x-amz-security-token", false)
	f("x-amz-content-sha256", false)
	f("x-amz-copy-source", false)
	f("x-amz-grant-full-control", false)
	f("x-amz-acl", false)
}

var _ aws.CredentialsProvider = credentials.StaticCredentialsProvider{}

func TestAppendHead_TooManyHeaders(t *testing.T) {
	creds := credentials.NewStaticCredentialsProvider("AK", "SK", "")
	ep := NewEndpoint("http", "127.0.0.1:9000", "127.0.0.1:9000", "us-east-1", "bkt", "", true, creds, PoolConfig{})
	f := func(n int, wantErr bool) {
		t.Helper()
		hdrs := make([]httpparse.Header, n)
		for i := range hdrs {
			hdrs[i] = httpparse.Header{Name: []byte("x-amz-meta-k" + strconv.Itoa(i)), Value: []byte("v")}
		}
		_, err := NewBuilder(sigv4.NewKeyCache(8)).AppendHead(context.Background(), nil, ep,
			&Request{Method: []byte("PUT"), Key: []byte("k"), ContentLength: 0, Headers: hdrs}, time.Now())
		if gotErr := errors.Is(err, ErrTooManyHeaders); gotErr != wantErr {
			t.Fatalf("unexpected result for %d headers; got err %v; want ErrTooManyHeaders=%v", n, err, wantErr)
		}
	}
	f(MaxForwarded, false)
	f(MaxForwarded+1, true)
}

func TestAppendHead_Decoded(t *testing.T) {
	creds := credentials.NewStaticCredentialsProvider("AK", "SK", "")
	ep := NewEndpoint("http", "127.0.0.1:9000", "127.0.0.1:9000", "us-east-1", "bkt", "", true, creds, PoolConfig{})
	f := func(contentEncoding string, wantHeaders, wantAbsent []string) {
		t.Helper()
		hdrs := []httpparse.Header{
			{Name: []byte("X-Amz-Decoded-Content-Length"), Value: []byte("5")},
			{Name: []byte("x-amz-trailer"), Value: []byte("x-amz-checksum-crc32")},
			{Name: []byte("x-amz-sdk-checksum-algorithm"), Value: []byte("CRC32")},
			{Name: []byte("Content-Type"), Value: []byte("text/plain")},
			{Name: []byte("x-amz-meta-a"), Value: []byte("b")},
		}
		if contentEncoding != "" {
			hdrs = append(hdrs, httpparse.Header{Name: []byte("Content-Encoding"), Value: []byte(contentEncoding)})
		}
		head, err := NewBuilder(sigv4.NewKeyCache(8)).AppendHead(context.Background(), nil, ep, &Request{
			Method: []byte("PUT"), Key: []byte("k"), ContentLength: 5,
			PayloadHash: nil, Headers: hdrs, Decoded: true,
		}, time.Now())
		if err != nil {
			t.Fatalf("unexpected error: %s", err)
		}
		s := string(head)
		for _, h := range wantHeaders {
			if !strings.Contains(s, "\r\n"+h+"\r\n") {
				t.Fatalf("head lacks %q:\n%s", h, s)
			}
		}
		for _, h := range wantAbsent {
			if strings.Contains(s, "\r\n"+h) {
				t.Fatalf("head has %q:\n%s", h, s)
			}
		}
	}
	absent := []string{"x-amz-decoded-content-length", "x-amz-trailer", "x-amz-sdk-checksum-algorithm"}
	base := []string{"content-length: 5", "x-amz-content-sha256: UNSIGNED-PAYLOAD", "content-type: text/plain", "x-amz-meta-a: b"}
	f("aws-chunked", base, append(absent, "content-encoding"))
	f("", base, append(absent, "content-encoding"))
	f("AWS-Chunked, gzip", append(base, "content-encoding: gzip"), absent)
	f("gzip,aws-chunked,br", append(base, "content-encoding: gzip,br"), absent)
}
