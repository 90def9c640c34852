package fuzz

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/minio/crc64nvme"

	"github.com/mizuchi-gw/mizuchi/sigv4"
)

const (
	chunkAmzDate = "20130524T000000Z"
	chunkScope   = "20130524/us-east-1/s3/aws4_request"
	chunkSeed    = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
)

var chunkTrailers = []string{
	"", // plain variant
	"x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-crc64nvme",
	"x-amz-checksum-sha1", "x-amz-checksum-sha256",
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func hexSHA256(p []byte) string {
	s := sha256.Sum256(p)
	return hex.EncodeToString(s[:])
}

// refChecksum computes an x-amz-checksum-* value with the standard library
// and minio/crc64nvme.
func refChecksum(name string, p []byte) string {
	var d []byte
	switch name {
	case "x-amz-checksum-crc32":
		d = binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(p))
	case "x-amz-checksum-crc32c":
		d = binary.BigEndian.AppendUint32(nil, crc32.Checksum(p, crc32.MakeTable(crc32.Castagnoli)))
	case "x-amz-checksum-crc64nvme":
		d = binary.BigEndian.AppendUint64(nil, crc64nvme.Checksum(p))
	case "x-amz-checksum-sha1":
		s := sha1.Sum(p)
		d = s[:]
	case "x-amz-checksum-sha256":
		s := sha256.Sum256(p)
		d = s[:]
	}
	return base64.StdEncoding.EncodeToString(d)
}

// refEncodeChunked is a small aws-chunked encoder written from the AWS
// documentation with crypto/hmac, independent of sigv4. minioStyle ends
// the trailer header line with "\n\r\n" as minio-go does.
func refEncodeChunked(key, payload []byte, chunkSize int, trailerName string, minioStyle bool) []byte {
	prev := chunkSeed
	sign := func(algorithm, hashes string) string {
		prev = hex.EncodeToString(hmacSHA256(key, algorithm+"\n"+chunkAmzDate+"\n"+chunkScope+"\n"+prev+"\n"+hashes))
		return prev
	}
	var w []byte
	for off := 0; ; off += chunkSize {
		chunk := payload[min(off, len(payload)):min(off+chunkSize, len(payload))]
		w = strconv.AppendInt(w, int64(len(chunk)), 16)
		w = append(w, ";chunk-signature="+sign("AWS4-HMAC-SHA256-PAYLOAD", hexSHA256(nil)+"\n"+hexSHA256(chunk))+"\r\n"...)
		if len(chunk) == 0 {
			break
		}
		w = append(append(w, chunk...), "\r\n"...)
	}
	if trailerName == "" {
		return append(w, "\r\n"...)
	}
	value := refChecksum(trailerName, payload)
	canon := trailerName + ":" + value + "\n"
	if minioStyle {
		w = append(w, canon+"\r\n"...)
	} else {
		w = append(w, trailerName+":"+value+"\r\n"...)
	}
	return append(w, "x-amz-trailer-signature:"+sign("AWS4-HMAC-SHA256-TRAILER", hexSHA256([]byte(canon)))+"\r\n\r\n"...)
}

// decodeChunkedSplit feeds wire to d in pieces cut at random points drawn
// from seed and returns the output, the bytes consumed and the first error.
func decodeChunkedSplit(d *sigv4.ChunkDecoder, wire []byte, seed uint64) ([]byte, int, error) {
	r := rand.New(rand.NewPCG(seed, seed>>32))
	var out []byte
	n := 0
	for n < len(wire) {
		end := min(len(wire), n+1+r.IntN(64))
		if r.IntN(8) == 0 {
			end = len(wire)
		}
		piece := wire[n:end]
		var m int
		var err error
		out, m, err = d.Decode(out, piece)
		n += m
		if err != nil || m < len(piece) { // an error, or the end of the body
			return out, n, err
		}
	}
	return out, n, nil
}

// FuzzChunkDecode encodes a random payload with a random chunk size and
// trailer using refEncodeChunked, decodes it split at random points and
// requires the payload back, verified. It then changes one byte anywhere in
// the body: the result must be an error or not Done; a Done decode must
// still yield exactly the payload (a flip can only be harmless, such as
// the case of a hex digit in a chunk size).
//
// Minimizing a new input re-runs it for up to -fuzzminimizetime (60s by
// default) without counting executions, which stalls short runs: use
//
//	go test -run x -fuzz FuzzChunkDecode -fuzztime 30s -fuzzminimizetime 1s ./fuzz/
func FuzzChunkDecode(f *testing.F) {
	f.Add([]byte("hello, world"), uint16(5), uint8(0), false, uint64(1), uint32(7), byte(1))
	f.Add([]byte(""), uint16(1), uint8(1), false, uint64(2), uint32(0), byte(0x20))
	f.Add(bytes.Repeat([]byte("a"), 1000), uint16(64), uint8(2), true, uint64(3), uint32(900), byte(0x80))
	f.Add([]byte("123456789"), uint16(3), uint8(3), false, uint64(4), uint32(150), byte(2))
	f.Add(bytes.Repeat([]byte{0, 0xff}, 300), uint16(257), uint8(4), true, uint64(5), uint32(1e6), byte(0x0d))
	f.Add([]byte("x"), uint16(0), uint8(5), false, uint64(6), uint32(90), byte(0xff))

	const maxPayload = 4 << 10
	key := []byte("AWS4wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	for _, s := range []string{"20130524", "us-east-1", "s3", "aws4_request"} {
		key = hmacSHA256(key, s)
	}
	var signingKey [32]byte
	copy(signingKey[:], key)
	var d sigv4.ChunkDecoder

	f.Fuzz(func(t *testing.T, payload []byte, chunkSize uint16, kind uint8, minioStyle bool, splitSeed uint64, flipPos uint32, flipXor byte) {
		if len(payload) > maxPayload {
			t.Skip("payload too large")
		}
		// At most 64 chunks, so that one execution stays cheap.
		cs := max(1+int(chunkSize)%1024, (len(payload)+63)/64)
		trailerName := chunkTrailers[int(kind)%len(chunkTrailers)]
		wire := refEncodeChunked(key, payload, cs, trailerName, minioStyle)
		initDecoder := func() {
			var name []byte
			if trailerName != "" {
				name = []byte(trailerName)
			}
			if err := d.Init(&signingKey, []byte(chunkAmzDate), []byte(chunkScope), []byte(chunkSeed), int64(len(payload)), trailerName != "", name); err != nil {
				t.Fatalf("Init: %s", err)
			}
		}

		initDecoder()
		out, n, err := decodeChunkedSplit(&d, wire, splitSeed)
		if err != nil || !d.Done() || n != len(wire) || !bytes.Equal(out, payload) {
			t.Fatalf("unexpected result decoding a valid body; got err %v, Done %v, %d of %d bytes, payload equal %v",
				err, d.Done(), n, len(wire), bytes.Equal(out, payload))
		}
		if name, value := d.Checksum(); trailerName != "" && (string(name) != trailerName || string(value) != refChecksum(trailerName, payload)) {
			t.Fatalf("unexpected Checksum; got %q %q", name, value)
		}

		if flipXor == 0 {
			flipXor = 1
		}
		bad := bytes.Clone(wire)
		bad[int(flipPos)%len(bad)] ^= flipXor
		initDecoder()
		out, n, err = decodeChunkedSplit(&d, bad, splitSeed)
		if err == nil && d.Done() {
			if !bytes.Equal(out, payload) || n != len(bad) {
				t.Fatalf("Done with a changed body (byte %d ^ %#x): got %d of %d bytes, payload equal %v",
					int(flipPos)%len(bad), flipXor, n, len(bad), bytes.Equal(out, payload))
			}
		}
	})
}
