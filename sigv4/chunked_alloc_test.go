//go:build !race

package sigv4_test

import (
	"bytes"
	"testing"

	"github.com/mizuchi-gw/mizuchi/sigv4"
)

// TestAllocationChunkDecode decodes a multi-chunk body, fed in pieces
// that split headers and data, into a pre-grown dst: once the decoder has
// been used, Init and Decode allocate nothing.
func TestAllocationChunkDecode(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789abcdef"), 20000) // 320000 bytes, 5 chunks
	f := func(trailerName string) {
		t.Helper()
		e := encodeChunked(t, payload, encodeOpts{trailerName: trailerName})
		in := newChunkInput(e, len(payload), trailerName)
		var d sigv4.ChunkDecoder
		if err := initDecoder(t, &d, in); err != nil {
			t.Fatalf("Init: %s", err)
		}
		var key [32]byte
		sigv4.DeriveSigningKey(&key, chunkSecret, []byte("20130524"), []byte(chunkRegion), []byte("s3"))
		amzDate, scope, seed, name := []byte(chunkAmzDate), []byte(chunkScope), []byte(chunkSeed), []byte(trailerName)
		dst := make([]byte, 0, len(payload))
		decode := func() {
			if err := d.Init(&key, amzDate, scope, seed, in.decodedLength, in.trailer, name); err != nil {
				t.Fatalf("Init: %s", err)
			}
			dst = dst[:0]
			for off := 0; off < len(e.wire); off += 10007 {
				var err error
				if dst, _, err = d.Decode(dst, e.wire[off:min(off+10007, len(e.wire))]); err != nil {
					t.Fatalf("Decode: %s", err)
				}
			}
			if !d.Done() {
				t.Fatalf("unexpected Done; got false; want true")
			}
		}
		decode() // warm up
		if n := testing.AllocsPerRun(20, decode); n != 0 {
			t.Fatalf("unexpected allocations in ChunkDecoder (trailer %q); got %v; want 0", trailerName, n)
		}
		if !bytes.Equal(dst, payload) {
			t.Fatalf("unexpected payload")
		}
	}
	f("")
	for _, name := range checksumNames {
		f(name)
	}
}
