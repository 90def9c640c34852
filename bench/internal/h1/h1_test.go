package h1

import (
	"bufio"
	"strings"
	"testing"
)

func TestDiscardChunked_Success(t *testing.T) {
	f := func(in string, want int64, rest string) {
		t.Helper()
		br := bufio.NewReader(strings.NewReader(in))
		n, err := DiscardChunked(br)
		if err != nil {
			t.Fatalf("unexpected error for %q: %s", in, err)
		}
		if n != want {
			t.Fatalf("unexpected size for %q; got %d; want %d", in, n, want)
		}
		got, _ := br.Peek(br.Buffered())
		if string(got) != rest {
			t.Fatalf("unexpected rest for %q; got %q; want %q", in, got, rest)
		}
	}
	f("0\r\n\r\n", 0, "")
	f("5\r\nhello\r\n0\r\n\r\nNEXT", 5, "NEXT")
	f("a;ext=1\r\n0123456789\r\n3\r\nabc\r\n0\r\nx-trailer: v\r\n\r\n", 13, "")
	f("A\n0123456789\n0\n\n", 10, "")
}

func TestDiscardChunked_Failure(t *testing.T) {
	f := func(in string) {
		t.Helper()
		br := bufio.NewReader(strings.NewReader(in))
		if _, err := DiscardChunked(br); err == nil {
			t.Fatalf("expecting error for %q", in)
		}
	}
	f("")
	f("zz\r\n")
	f("5\r\nhelloXX\r\n0\r\n\r\n")
	f("5\r\nhel")
	f("0\r\n")
}

func TestParseUint(t *testing.T) {
	f := func(in string, want int64) {
		t.Helper()
		if got := ParseUint([]byte(in)); got != want {
			t.Fatalf("unexpected result for %q; got %d; want %d", in, got, want)
		}
	}
	f("0", 0)
	f("1024", 1024)
	f("", -1)
	f("-1", -1)
	f("12a", -1)
	f("1234567890123456789", -1)
}
