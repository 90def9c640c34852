package upstream

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/mizuchi-gw/mizuchi/httpparse"
	"github.com/mizuchi-gw/mizuchi/sigv4"
)

// TestParseResponse feeds whole responses to ParseResponse cut at every
// byte: every proper prefix must ask for more (or, at EOF, fail as
// truncated) and the whole must give the status, the length used and the
// body.
func TestParseResponse(t *testing.T) {
	f := func(raw string, headOnly bool, wantStatus int, wantN int, wantBody string, wantClose bool) {
		t.Helper()
		var resp httpparse.Response
		var te httpparse.Chunked
		b := []byte(raw)
		n, body, err := ParseResponse(b, &resp, headOnly, wantClose, &te, nil)
		if err != nil {
			t.Fatalf("ParseResponse(%q): %s", raw, err)
		}
		if resp.Status != wantStatus || n != wantN || string(body) != wantBody || resp.Close != wantClose {
			t.Fatalf("ParseResponse(%q); got status %d, n %d, body %q, close %v; want %d, %d, %q, %v",
				raw, resp.Status, n, body, resp.Close, wantStatus, wantN, wantBody, wantClose)
		}
		for i := 0; i < len(b) && !wantClose; i++ {
			if i >= wantN {
				break
			}
			_, _, err := ParseResponse(b[:i], &resp, headOnly, false, &te, nil)
			if !errors.Is(err, httpparse.ErrNeedMore) {
				t.Fatalf("ParseResponse(%q) of %d bytes; got %v; want ErrNeedMore", raw, i, err)
			}
			_, _, err = ParseResponse(b[:i], &resp, headOnly, true, &te, nil)
			if !errors.Is(err, ErrTruncated) {
				t.Fatalf("ParseResponse(%q) of %d bytes at EOF; got %v; want ErrTruncated", raw, i, err)
			}
		}
	}
	ok := "HTTP/1.1 200 OK\r\nETag: \"x\"\r\nContent-Length: 0\r\n\r\n"
	f(ok, false, 200, len(ok), "", false)
	f(ok+"HTTP/1.1 200 OK\r\n", false, 200, len(ok), "", false) // bytes after the reply are not used
	xml := "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n<a>b</a>\n"
	f(xml, false, 200, len(xml), "<a>b</a>\n", false)
	cont := "HTTP/1.1 100 Continue\r\n\r\n" + ok
	f(cont, false, 200, len(cont), "", false)
	ch := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: v\r\n\r\n"
	f(ch, false, 200, len(ch), "abcde", false)
	head := "HTTP/1.1 200 OK\r\nContent-Length: 12345\r\n\r\n"
	f(head, true, 200, len(head), "", false)
	nc := "HTTP/1.1 204 No Content\r\n\r\n"
	f(nc, false, 204, len(nc), "", false)
	eof := "HTTP/1.1 200 OK\r\nETag: \"e\"\r\n\r\nuntil close"
	f(eof, false, 200, len(eof), "until close", true)
}

func TestParseResponse_Failure(t *testing.T) {
	f := func(raw string, eof bool, want error) {
		t.Helper()
		var resp httpparse.Response
		var te httpparse.Chunked
		_, _, err := ParseResponse([]byte(raw), &resp, false, eof, &te, nil)
		if !errors.Is(err, want) {
			t.Fatalf("ParseResponse(%q, eof %v); got %v; want %v", raw, eof, err, want)
		}
	}
	f("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true, ErrTruncated)
	f("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", false, httpparse.ErrNeedMore)
	f("HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n", false, ErrResponseTooLarge)
	f("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false, ErrBadChunk)
	f("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab", true, ErrTruncated)
	f("SSH-2.0-OpenSSH\r\n\r\n", false, httpparse.ErrMalformed)
	f("HTTP/1.1 200 OK\r\nETag: \"x\"", true, ErrTruncated)
}

// TestAppendHeadCached: the loop's variant signs only with credentials a
// blocking AppendHead retrieved before, and not with ones about to expire.
func TestAppendHeadCached(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	f := func(name string, creds aws.CredentialsProvider, wantCached bool) {
		t.Run(name, func(t *testing.T) {
			ep := NewEndpoint("http", "127.0.0.1:9000", "127.0.0.1:9000", "us-east-1", "bkt", "", true, creds, PoolConfig{})
			b := NewBuilder(sigv4.NewKeyCache(8))
			r := &Request{Method: []byte("PUT"), Key: []byte("k"), ContentLength: 3}
			if _, err := b.AppendHeadCached(nil, ep, r, now); !errors.Is(err, ErrNoCachedCredentials) {
				t.Fatalf("before any AppendHead; got %v; want ErrNoCachedCredentials", err)
			}
			want, err := b.AppendHead(context.Background(), nil, ep, r, now)
			if err != nil {
				t.Fatal(err)
			}
			got, err := b.AppendHeadCached(nil, ep, r, now)
			if !wantCached {
				if !errors.Is(err, ErrNoCachedCredentials) {
					t.Fatalf("with expiring credentials; got %v; want ErrNoCachedCredentials", err)
				}
				return
			}
			if err != nil || string(got) != string(want) {
				t.Fatalf("AppendHeadCached; got %q, %v; want %q", got, err, want)
			}
		})
	}
	f("static", credentials.NewStaticCredentialsProvider("AK", "SK", ""), true)
	f("expiring", aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "AK", SecretAccessKey: "SK", CanExpire: true, Expires: now.Add(30 * time.Second)}, nil
	}), false)
	f("fresh", aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "AK", SecretAccessKey: "SK", CanExpire: true, Expires: now.Add(time.Hour)}, nil
	}), true)
}

// TestParseResponseNoAllocs: the loop's reply parser allocates nothing once
// its body buffer has grown.
func TestParseResponseNoAllocs(t *testing.T) {
	raw := []byte("HTTP/1.1 200 OK\r\nETag: \"x\"\r\nx-amz-version-id: v1\r\nContent-Length: 9\r\n\r\n<a>b</a>\n")
	var resp httpparse.Response
	var te httpparse.Chunked
	body := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(100, func() {
		_, b, err := ParseResponse(raw, &resp, false, false, &te, body[:0])
		if err != nil || len(b) != 9 {
			t.Fatalf("ParseResponse: %v, %q", err, b)
		}
		body = b
	})
	if allocs != 0 {
		t.Fatalf("allocations per ParseResponse; got %v; want 0", allocs)
	}
}

func BenchmarkParseResponse(b *testing.B) {
	raw := []byte("HTTP/1.1 200 OK\r\nServer: S3\r\nDate: Thu, 26 Nov 2026 04:19:54 GMT\r\nContent-Length: 0\r\n" +
		"x-amz-request-id: UE8T278PQP0W7FXO\r\nETag: \"73dc3f064d35c7e12e3178ecf08077e4\"\r\nx-amz-checksum-crc64nvme: vW83/EBzTjA=\r\n\r\n")
	var resp httpparse.Response
	var te httpparse.Chunked
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, _, err := ParseResponse(raw, &resp, false, false, &te, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAppendHeadCachedNoAllocs: signing on the loop with cached
// credentials allocates nothing once the builder's buffers have grown.
func TestAppendHeadCachedNoAllocs(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	ep := NewEndpoint("http", "127.0.0.1:9000", "127.0.0.1:9000", "us-east-1", "bkt", "pfx/", true,
		credentials.NewStaticCredentialsProvider("AK", "SK", ""), PoolConfig{})
	b := NewBuilder(sigv4.NewKeyCache(8))
	r := &Request{Method: []byte("PUT"), Key: []byte("a/b c.txt"), ContentLength: 1024, PayloadHash: []byte("UNSIGNED-PAYLOAD"),
		Headers: []httpparse.Header{{Name: []byte("Content-Type"), Value: []byte("text/plain")}}}
	head, err := b.AppendHead(context.Background(), nil, ep, r, now)
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if head, err = b.AppendHeadCached(head[:0], ep, r, now); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("allocations per AppendHeadCached; got %v; want 0", allocs)
	}
}
