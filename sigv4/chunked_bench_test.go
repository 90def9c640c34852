package sigv4_test

import (
	"crypto/sha256"
	"math/rand/v2"
	"testing"

	"github.com/mizuchi-gw/mizuchi/sigv4"
)

// benchChunkPayload is 4 MiB of random bytes, encoded in 64 KiB chunks.
func benchChunkPayload() []byte {
	r := rand.New(rand.NewPCG(5, 6))
	p := make([]byte, 4<<20)
	for i := range p {
		p[i] = byte(r.Uint32())
	}
	return p
}

// BenchmarkChunkDecode decodes a 4 MiB body of 64 KiB chunks fed in 32 KiB
// reads, as from a socket, without and with each trailer checksum.
func BenchmarkChunkDecode(b *testing.B) {
	payload := benchChunkPayload()
	for _, name := range append([]string{""}, checksumNames...) {
		label := "plain"
		if name != "" {
			label = name[len("x-amz-checksum-"):]
		}
		b.Run(label, func(b *testing.B) {
			e := encodeChunked(b, payload, encodeOpts{trailerName: name})
			in := newChunkInput(e, len(payload), name)
			var key [32]byte
			sigv4.DeriveSigningKey(&key, chunkSecret, []byte("20130524"), []byte(chunkRegion), []byte("s3"))
			amzDate, scope, seed, ck := []byte(chunkAmzDate), []byte(chunkScope), []byte(chunkSeed), []byte(name)
			var d sigv4.ChunkDecoder
			dst := make([]byte, 0, len(payload))
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			for b.Loop() {
				if err := d.Init(&key, amzDate, scope, seed, in.decodedLength, in.trailer, ck); err != nil {
					b.Fatalf("Init: %s", err)
				}
				dst = dst[:0]
				for off := 0; off < len(e.wire); off += 32 << 10 {
					var err error
					if dst, _, err = d.Decode(dst, e.wire[off:min(off+32<<10, len(e.wire))]); err != nil {
						b.Fatalf("Decode: %s", err)
					}
				}
				if !d.Done() {
					b.Fatalf("unexpected Done; got false; want true")
				}
			}
		})
	}
}

// BenchmarkChunkDecodeBaselineSHA256 is the floor: SHA-256 of the payload
// and a copy, which every chunk-signature check needs.
func BenchmarkChunkDecodeBaselineSHA256(b *testing.B) {
	payload := benchChunkPayload()
	h := sha256.New()
	dst := make([]byte, 0, len(payload))
	var sum [32]byte
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		h.Reset()
		h.Write(payload)
		h.Sum(sum[:0])
		dst = append(dst[:0], payload...)
	}
}
