package sigv4_test

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/mizuchi-gw/mizuchi/sigv4"
)

func TestAppendURIEncode_Success(t *testing.T) {
	f := func(in string, encodeSlash bool, want string) {
		t.Helper()
		got := string(sigv4.AppendURIEncode([]byte("x"), []byte(in), encodeSlash))
		if got != "x"+want {
			t.Fatalf("unexpected encoding of %q (encodeSlash=%v); got %q; want %q", in, encodeSlash, got[1:], want)
		}
	}
	f("", false, "")
	f("-._~AZaz09", true, "-._~AZaz09")
	f("a/b c", false, "a/b%20c")
	f("a/b c", true, "a%2Fb%20c")
	f("+%=&?#", false, "%2B%25%3D%26%3F%23")
	f("ሴ", false, "%E1%88%B4")
	f("\x00\xff", true, "%00%FF")
}

func TestAppendHex_Success(t *testing.T) {
	f := func(in []byte, want string) {
		t.Helper()
		if got := string(sigv4.AppendHex(nil, in)); got != want {
			t.Fatalf("unexpected hex; got %q; want %q", got, want)
		}
	}
	f(nil, "")
	f([]byte{0x00, 0x0f, 0xa5, 0xff}, "000fa5ff")
	// 32 bytes (a SHA-256 digest) take the fixed-size path; the prefix
	// must survive.
	d := sha256.Sum256([]byte("abc"))
	if got := string(sigv4.AppendHex([]byte("x="), d[:])); got != "x="+hex.EncodeToString(d[:]) {
		t.Fatalf("unexpected digest hex; got %q", got)
	}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	f(all, hex.EncodeToString(all))
}

func TestAppendAmzDate_Success(t *testing.T) {
	f := func(tm time.Time, want string) {
		t.Helper()
		if got := string(sigv4.AppendAmzDate(nil, tm)); got != want {
			t.Fatalf("unexpected date; got %q; want %q", got, want)
		}
		if want != "" && tm.UTC().Format("20060102T150405Z") != want {
			t.Fatalf("test case disagrees with time.Format")
		}
	}
	f(time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC), "20150830T123600Z")
	f(time.Date(2024, 12, 31, 23, 59, 59, 999999999, time.UTC), "20241231T235959Z")
	f(time.Date(2024, 1, 1, 1, 2, 3, 0, time.FixedZone("x", 3*3600)), "20231231T220203Z")
	f(time.Date(999, 1, 2, 3, 4, 5, 0, time.UTC), "09990102T030405Z")
}

func TestCanonicalRequest_Success(t *testing.T) {
	s := sigv4.NewSigner(nil)
	f := func(path, query string, headers []string, want string) {
		t.Helper()
		r := &sigv4.Request{Method: []byte("PUT"), Path: []byte(path), Query: []byte(query), PayloadHash: []byte("UNSIGNED-PAYLOAD")}
		for i := 0; i+1 < len(headers); i += 2 {
			r.Headers = append(r.Headers, sigv4.Header{Name: []byte(headers[i]), Value: []byte(headers[i+1])})
		}
		if got := string(s.AppendCanonicalRequest(nil, r)); got != want {
			t.Fatalf("unexpected canonical request;\ngot\n%s\nwant\n%s", got, want)
		}
	}
	f("", "", []string{"host", "h"}, "PUT\n/\n\nhost:h\n\nhost\nUNSIGNED-PAYLOAD")
	// query: sorted by name then value, '+' is a space, no '=' means empty,
	// empty segments dropped, bad escapes literal.
	f("/b/k", "b=2&a=z&a=y&uploads&&x=a+b%2b&bad=%zz%4", []string{"host", "h"},
		"PUT\n/b/k\na=y&a=z&b=2&bad=%25zz%254&uploads=&x=a%20b%2B\nhost:h\n\nhost\nUNSIGNED-PAYLOAD")
	// headers: any case in, lower-case out; repeated names joined in order;
	// values trimmed and inner space runs collapsed, tabs kept.
	f("/k", "", []string{"X-B", " 2 ", "host", "h", "x-a", "a  b\t c", "x-b", "1", "x-c", ""},
		"PUT\n/k\n\nhost:h\nx-a:a b\t c\nx-b:2,1\nx-c:\n\nhost;x-a;x-b;x-c\nUNSIGNED-PAYLOAD")
}

func TestStringToSign_Success(t *testing.T) {
	s := sigv4.NewSigner(nil)
	f := func(service, want string) {
		t.Helper()
		r := &sigv4.Request{AmzDate: []byte("20150830T123600Z"), Region: "us-east-1", Service: service}
		if got := string(s.AppendStringToSign(nil, r, []byte("abc"))); got != want {
			t.Fatalf("unexpected string to sign;\ngot\n%s\nwant\n%s", got, want)
		}
	}
	f("", "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/s3/aws4_request\nabc")
	f("sts", "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/sts/aws4_request\nabc")
}
