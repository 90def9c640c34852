package sigv4_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mizuchi-gw/mizuchi/sigv4"
)

// aws-chunked size lines are as strict as HTTP chunk lines: hex without
// junk, ";chunk-signature=" exactly with 64 lower-case hex, bounded length.
// Each wire is the start of a body; the error comes from its first line,
// before any signature is computed, in every mode that accepts it.
func TestChunkSizeLineStrict_Failure(t *testing.T) {
	sig := strings.Repeat("0123456789abcdef", 4)
	type mode int
	const (
		signed mode = iota
		unverified
		unsigned
	)
	f := func(m mode, wire string, want error) {
		t.Helper()
		var d sigv4.ChunkDecoder
		var err error
		switch m {
		case signed:
			var key [32]byte
			err = d.Init(&key, []byte("20130524T000000Z"), []byte("20130524/us-east-1/s3/aws4_request"), []byte(sig), 5, false, nil)
		case unverified:
			err = d.InitUnverified(5, false, nil)
		case unsigned:
			err = d.InitUnsigned(5, false, nil)
		}
		if err != nil {
			t.Fatalf("init: %v", err)
		}
		// Whole, and a byte at a time.
		if _, _, err := d.Decode(nil, []byte(wire)); !errors.Is(err, want) {
			t.Fatalf("mode %d, %.60q: unexpected error; got %v; want %v", m, wire, err, want)
		}
		switch m {
		case signed, unverified:
			d.InitUnverified(5, false, nil) // same framing rules as signed
		case unsigned:
			d.InitUnsigned(5, false, nil)
		}
		for i := 0; i < len(wire); i++ {
			if _, _, err = d.Decode(nil, []byte{wire[i]}); err != nil {
				break
			}
		}
		if !errors.Is(err, want) {
			t.Fatalf("mode %d, %.60q byte by byte: unexpected error; got %v; want %v", m, wire, err, want)
		}
	}
	ext := ";chunk-signature=" + sig
	for _, m := range []mode{signed, unverified} {
		// Junk after the size.
		f(m, "5 "+ext+"\r\nhello", sigv4.ErrChunkMalformed)
		f(m, "5\t"+ext+"\r\nhello", sigv4.ErrChunkMalformed)
		f(m, "5x"+ext+"\r\nhello", sigv4.ErrChunkMalformed)
		f(m, "0x5"+ext+"\r\nhello", sigv4.ErrChunkMalformed)
		f(m, "-5"+ext+"\r\nhello", sigv4.ErrChunkMalformed)
		f(m, "5"+ext+";a=b\r\nhello", sigv4.ErrChunkMalformed)
		f(m, "5"+ext+" \r\nhello", sigv4.ErrChunkMalformed)
		// Overflow: more than 16 hex digits, even of zeros.
		f(m, "ffffffffffffffffff"+ext+"\r\nhello", sigv4.ErrChunkMalformed)
		f(m, "00000000000000005"+ext+"\r\nhello", sigv4.ErrChunkMalformed)
		// Missing or mangled signature.
		f(m, "5\r\nhello", sigv4.ErrChunkMalformed)
		f(m, "5;\r\nhello", sigv4.ErrChunkMalformed)
		f(m, "5;chunk-signature=\r\nhello", sigv4.ErrChunkMalformed)
		f(m, "5;chunk-signature:"+sig+"\r\nhello", sigv4.ErrChunkMalformed)
		f(m, "5;Chunk-Signature="+sig+"\r\nhello", sigv4.ErrChunkMalformed)
		f(m, "5;chunk-signature="+sig[1:]+"\r\nhello", sigv4.ErrChunkMalformed)
		f(m, "5;chunk-signature="+sig+"0\r\nhello", sigv4.ErrChunkMalformed)
		// Line endings and length.
		f(m, "5"+ext+"\nhello", sigv4.ErrChunkMalformed)
		f(m, "5"+ext+"\r\rhello\r\n", sigv4.ErrChunkMalformed)
		f(m, "5"+ext+strings.Repeat("0", 5<<10), sigv4.ErrChunkMalformed)
	}
	// An unverified signature is still judged by its form.
	f(unverified, "5;chunk-signature="+strings.ToUpper(sig)+"\r\nhello", sigv4.ErrChunkMalformed)
	f(unverified, "5;chunk-signature="+sig[:63]+"g\r\nhello", sigv4.ErrChunkMalformed)
	f(unverified, "5;chunk-signature="+sig[:63]+"\r\r\nhello", sigv4.ErrChunkMalformed)
	f(unverified, "5;chunk-signature="+sig[:63]+"\x00\r\nhello", sigv4.ErrChunkMalformed)

	// Unsigned bodies: extensions are free-form but free of controls.
	f(unsigned, "5 ;a\r\nhello", sigv4.ErrChunkMalformed)
	f(unsigned, "5x\r\nhello", sigv4.ErrChunkMalformed)
	f(unsigned, "ffffffffffffffffff\r\nhello", sigv4.ErrChunkMalformed)
	f(unsigned, "5;a\rb\r\nhello", sigv4.ErrChunkMalformed)
	f(unsigned, "5;a\x00\r\nhello", sigv4.ErrChunkMalformed)
	f(unsigned, "5;a\x7f\r\nhello", sigv4.ErrChunkMalformed)
	f(unsigned, "5;"+strings.Repeat("a", 5<<10)+"\r\nhello", sigv4.ErrChunkMalformed)
	f(unsigned, "\r\nhello", sigv4.ErrChunkMalformed)
	f(unsigned, "5\nhello", sigv4.ErrChunkMalformed)
}

// What the strict rules still accept.
func TestChunkSizeLineStrict_Success(t *testing.T) {
	sig := strings.Repeat("0123456789abcdef", 4)
	f := func(unsigned bool, wire string) {
		t.Helper()
		var d sigv4.ChunkDecoder
		if unsigned {
			d.InitUnsigned(5, false, nil)
		} else {
			d.InitUnverified(5, false, nil)
		}
		out, n, err := d.Decode(nil, []byte(wire))
		if err != nil || !d.Done() || n != len(wire) || string(out) != "hello" {
			t.Fatalf("%q: got %q n=%d done=%v err=%v; want hello", wire, out, n, d.Done(), err)
		}
	}
	f(false, "5;chunk-signature="+sig+"\r\nhello\r\n0;chunk-signature="+sig+"\r\n\r\n")
	f(false, "0000000000000005;chunk-signature="+sig+"\r\nhello\r\n0;chunk-signature="+sig+"\r\n\r\n")
	f(true, "5\r\nhello\r\n0\r\n\r\n")
	f(true, "5;a=b;c=\"d\te\"\r\nhello\r\n0;x\r\n\r\n")
	f(true, "5;obs=\x80\xff\r\nhello\r\n0\r\n\r\n")
}
