package engine

import (
	"bytes"
	"testing"

	"github.com/mizuchi-gw/mizuchi/sigv4"
)

// Re-framed bodies have exactly the announced length and decode back (with
// the repository's own unsigned aws-chunked decoder) to the payload.
func TestRechunk(t *testing.T) {
	f := func(total int, pieces int) {
		t.Helper()
		payload := make([]byte, total)
		for i := range payload {
			payload[i] = byte(i * 7)
		}
		ck, _ := sigv4.NewChecksum([]byte("x-amz-checksum-crc32"))
		ck.Write(payload)
		val := ck.AppendBase64(nil)
		name := []byte("x-amz-checksum-crc32")
		var r rechunker
		r.reset(int64(total))
		var out []byte
		step := max(1, total/max(pieces, 1))
		for off := 0; off < total; off += step {
			out = r.frame(out, payload[off:min(off+step, total)])
		}
		out = r.finish(out, name, val)
		if want := rechunkedLength(int64(total), len(name), checksumB64Len(name)); int64(len(out)) != want {
			t.Fatalf("total %d: framed %d bytes; announced %d", total, len(out), want)
		}
		var d sigv4.ChunkDecoder
		if err := d.InitUnsigned(int64(total), true, name); err != nil {
			t.Fatal(err)
		}
		dec, n, err := d.Decode(nil, out)
		if err != nil || n != len(out) || !d.Done() || !bytes.Equal(dec, payload) {
			t.Fatalf("total %d: decode err %v n %d/%d done %v equal %v", total, err, n, len(out), d.Done(), bytes.Equal(dec, payload))
		}
	}
	f(0, 1)
	f(1, 1)
	f(rechunkSize, 1)
	f(rechunkSize, 7)
	f(3*rechunkSize+17, 5)
	f(1<<20, 1000)
}
