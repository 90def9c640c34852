package httpparse

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net/http/httputil"
	"strings"
	"testing"
)

func TestChunked_Success(t *testing.T) {
	f := func(wire, wantData string, wantN int) {
		t.Helper()
		for _, step := range []int{len(wire), 1, 3} {
			var c Chunked
			var out []byte
			n := 0
			for n < len(wire) && !c.Done() {
				var m int
				var err error
				out, m, err = c.Decode(out, []byte(wire[n:min(n+step, len(wire))]))
				n += m
				if err != nil {
					t.Fatalf("%q (step %d): unexpected error %s", wire, step, err)
				}
			}
			if !c.Done() || string(out) != wantData || n != wantN || c.Total() != int64(len(wantData)) {
				t.Fatalf("%q (step %d): got %q n=%d done=%v; want %q n=%d", wire, step, out, n, c.Done(), wantData, wantN)
			}
		}
	}
	f("0\r\n\r\n", "", 5)
	f("5\r\nhello\r\n0\r\n\r\n", "hello", 15)
	f("5;ext=\"a\"\r\nhello\r\n6 ; x\r\n world\r\n0\r\nTrailer: v\r\nOther: w\r\n\r\nGET / HTTP/1.1", "hello world", 60)
	f("A\r\n0123456789\r\n0\r\n\r\n", "0123456789", 20)
}

func TestChunked_Failure(t *testing.T) {
	f := func(wire string) {
		t.Helper()
		var c Chunked
		_, _, err := c.Decode(nil, []byte(wire))
		if !errors.Is(err, ErrBadChunk) || c.Done() {
			t.Fatalf("%q: got err %v done %v; want ErrBadChunk", wire, err, c.Done())
		}
	}
	f("x\r\n")
	f(";\r\n")
	f("5\nhello\r\n")
	f("5\r\nhelloX\r\n")
	f("11111111111111111\r\n")
	f("0\r\nno-colon\r\n\r\n")
	f(strings.Repeat("1", 5000))
	f("0\r\n" + strings.Repeat("a: b\r\n", 4000))
}

// The decoder agrees with net/http's chunked reader on random bodies.
func TestChunked_MatchesNetHTTP(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ {
		data := make([]byte, r.IntN(100000))
		for j := range data {
			data[j] = byte(r.Uint32())
		}
		var wire bytes.Buffer
		w := httputil.NewChunkedWriter(&wire)
		for rest := data; len(rest) > 0; {
			k := min(len(rest), 1+r.IntN(9000))
			w.Write(rest[:k])
			rest = rest[k:]
		}
		w.Close()
		wire.WriteString("\r\n")
		ref, err := io.ReadAll(httputil.NewChunkedReader(bufio.NewReader(bytes.NewReader(wire.Bytes()))))
		if err != nil || !bytes.Equal(ref, data) {
			t.Fatalf("reference reader disagrees: %v", err)
		}
		var c Chunked
		var out []byte
		b := wire.Bytes()
		for n := 0; n < len(b); {
			k := min(len(b)-n, 1+r.IntN(5000))
			var m int
			out, m, err = c.Decode(out, b[n:n+k])
			if err != nil {
				t.Fatalf("round %d: %s", i, err)
			}
			n += m
		}
		if !c.Done() || !bytes.Equal(out, data) {
			t.Fatalf("round %d: decoded %d bytes, done %v; want %d", i, len(out), c.Done(), len(data))
		}
	}
}
