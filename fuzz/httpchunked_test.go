package fuzz

import (
	"bufio"
	"bytes"
	"io"
	"net/http/httputil"
	"strings"
	"testing"

	"github.com/mizuchi-gw/mizuchi/httpparse"
)

// chunkedSeeds are Transfer-Encoding: chunked bodies, valid and not
// (chunk-size lines with junk after the size must be refused).
var chunkedSeeds = []string{
	"0\r\n\r\n",
	"5\r\nhello\r\n0\r\n\r\n",
	"5;chunk-signature=abc\r\nhello\r\n0\r\nx-amz-checksum-crc32: AAAAAA==\r\n\r\n",
	"5 ;a=\"b c\"\r\nhello\r\n0\r\n\r\n",
	"5 \r\nhello\r\n0\r\n\r\n",
	"5 junk\r\nhello\r\n0\r\n\r\n",
	"5x\r\nhello\r\n0\r\n\r\n",
	"5;a\rb\r\nhello\r\n0\r\n\r\n",
	"5\nhello\n0\n\n",
}

// FuzzChunkedBody decodes a chunked body with httpparse.Chunked, fed in
// pieces, and checks that net/http's chunked reader accepts every body
// ours accepts and decodes the same bytes. Deliberate differences, where
// only ours accepts: whitespace before a chunk extension's ';' (RFC 9112
// BWS; net/http rejects "5 ;ext"), and bodies whose framing net/http
// finds too heavy compared to their data ("too much non-data").
func FuzzChunkedBody(f *testing.F) {
	for _, s := range chunkedSeeds {
		f.Add([]byte(s), uint8(1))
		f.Add([]byte(s), uint8(7))
	}
	f.Fuzz(func(t *testing.T, data []byte, step uint8) {
		if len(data) > maxInput {
			data = data[:maxInput]
		}
		k := int(step) + 1
		var c httpparse.Chunked
		var out []byte
		n := 0
		for n < len(data) && !c.Done() {
			var m int
			var err error
			out, m, err = c.Decode(out, data[n:min(n+k, len(data))])
			n += m
			if err != nil {
				return
			}
		}
		if !c.Done() {
			return
		}
		if c.Total() != int64(len(out)) {
			t.Fatalf("Total %d; decoded %d bytes", c.Total(), len(out))
		}
		ref, err := io.ReadAll(httputil.NewChunkedReader(bufio.NewReader(bytes.NewReader(data[:n]))))
		if err != nil {
			if bytes.Contains(data[:n], []byte(" ;")) || bytes.Contains(data[:n], []byte("\t;")) ||
				strings.Contains(err.Error(), "too much non-data") {
				return
			}
			t.Fatalf("httpparse accepted a chunked body net/http rejects (%s):\n%q", err, data[:n])
		}
		if !bytes.Equal(ref, out) {
			t.Fatalf("decoded data mismatch; got %q; net/http %q", out, ref)
		}
	})
}
