package httpparse

import (
	"strings"
	"testing"
)

func TestNextParam(t *testing.T) {
	f := func(q string, want []string) {
		t.Helper()
		var got []string
		b := []byte(q)
		for len(b) > 0 {
			var k, v []byte
			k, v, b = NextParam(b)
			s := string(k)
			if v != nil {
				s += "=" + string(v)
			}
			got = append(got, s)
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("unexpected params for %q; got %q; want %q", q, got, want)
		}
	}
	f("", nil)
	f("uploads", []string{"uploads"})
	f("uploads=", []string{"uploads="})
	f("x-id=PutObject", []string{"x-id=PutObject"})
	f("uploadId=a%2Bb&partNumber=2", []string{"uploadId=a%2Bb", "partNumber=2"})
	f("a=b=c&&d", []string{"a=b=c", "", "d"})
	f("a&", []string{"a"})

	k, v, rest := NextParam([]byte("uploads"))
	if string(k) != "uploads" || v != nil || rest != nil {
		t.Fatalf("unexpected split; got %q, %v, %v", k, v, rest)
	}
	_, v, _ = NextParam([]byte("uploads=&x"))
	if v == nil || len(v) != 0 {
		t.Fatalf("unexpected value; got %v; want empty non-nil", v)
	}
}

func TestAppendUnescape_Success(t *testing.T) {
	f := func(src, want, wantQuery string) {
		t.Helper()
		got, err := AppendUnescape([]byte("pre:"), []byte(src))
		if err != nil {
			t.Fatalf("unexpected error for %q: %s", src, err)
		}
		if string(got) != "pre:"+want {
			t.Fatalf("unexpected path result for %q; got %q; want %q", src, got, "pre:"+want)
		}
		got, err = AppendUnescapeQuery(nil, []byte(src))
		if err != nil {
			t.Fatalf("unexpected query error for %q: %s", src, err)
		}
		if string(got) != wantQuery {
			t.Fatalf("unexpected query result for %q; got %q; want %q", src, got, wantQuery)
		}
	}
	f("", "", "")
	f("abc", "abc", "abc")
	f("a%20b+c", "a b+c", "a b c")
	f("%2B%2b%2F%00%ff%C3%A9", "++/\x00\xff\xc3\xa9", "++/\x00\xff\xc3\xa9")
	f("%252F", "%2F", "%2F")
}

func TestAppendUnescape_Failure(t *testing.T) {
	f := func(src string) {
		t.Helper()
		dst := []byte("pre")
		got, err := AppendUnescape(dst, []byte(src))
		if err != ErrMalformed {
			t.Fatalf("unexpected error for %q; got %v; want ErrMalformed", src, err)
		}
		if string(got) != "pre" {
			t.Fatalf("unexpected dst after error; got %q; want %q", got, "pre")
		}
	}
	f("%")
	f("a%2")
	f("%zz")
	f("%2g")
	f("%g2")
	f("ab%")
}

func TestScanValue(t *testing.T) {
	// Compare the SWAR scan with the byte table for every byte value at
	// every position of a 20-byte window.
	for c := 0; c < 256; c++ {
		for at := 0; at < 20; at++ {
			b := []byte(strings.Repeat("a", 20))
			b[at] = byte(c)
			for start := 0; start < 3; start++ {
				want := start
				for want < len(b) && charClass[b[want]]&cValue != 0 {
					want++
				}
				if got := scanValue(b, start); got != want {
					t.Fatalf("unexpected index for byte %#x at %d; got %d; want %d", c, at, got, want)
				}
			}
		}
	}
}
