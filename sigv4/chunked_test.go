package sigv4_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/minio/crc64nvme"
	"github.com/minio/minio-go/v7/pkg/signer"

	"github.com/mizuchi-gw/mizuchi/sigv4"
)

// The example of the AWS documentation pages "sigv4-streaming" and
// "sigv4-streaming-trailers".
const (
	chunkAccessKey = "AKIAIOSFODNN7EXAMPLE"
	chunkSecret    = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	chunkAmzDate   = "20130524T000000Z"
	chunkRegion    = "us-east-1"
	chunkScope     = "20130524/" + chunkRegion + "/s3/aws4_request"
	chunkSeed      = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
)

var chunkTime = time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)

// oracleSigningKey derives the signing key with crypto/hmac, independently
// of sigv4.
func oracleSigningKey(secret string) []byte {
	k := []byte("AWS4" + secret)
	for _, s := range []string{"20130524", chunkRegion, "s3", "aws4_request"} {
		k = oracleHMAC(k, []byte(s))
	}
	return k
}

func oracleHMAC(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

func sha256Hex(p []byte) string {
	s := sha256.Sum256(p)
	return hex.EncodeToString(s[:])
}

// oracleChecksum computes an x-amz-checksum-* value with the standard
// library and minio/crc64nvme.
func oracleChecksum(tb testing.TB, name string, p []byte) string {
	tb.Helper()
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
	default:
		tb.Fatalf("unexpected checksum name %q", name)
	}
	return base64.StdEncoding.EncodeToString(d)
}

var checksumNames = []string{
	"x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-crc64nvme",
	"x-amz-checksum-sha1", "x-amz-checksum-sha256",
}

// oracleTrailerSignature signs the canonical trailer lines ("name:value\n"
// each) after the final chunk signature prev.
func oracleTrailerSignature(secret, prev, canon string) string {
	sts := "AWS4-HMAC-SHA256-TRAILER\n" + chunkAmzDate + "\n" + chunkScope + "\n" + prev + "\n" + sha256Hex([]byte(canon))
	return hex.EncodeToString(oracleHMAC(oracleSigningKey(secret), []byte(sts)))
}

// encodeOpts describes a body for encodeChunked.
type encodeOpts struct {
	chunkSize    int    // default 64 KiB
	seed         string // default chunkSeed
	secret       string // default chunkSecret
	trailerName  string // "" for the plain variant
	trailerValue string // default: the checksum of the payload
	minioStyle   bool   // end the trailer header line with "\n\r\n", as minio-go does
}

// encoded is an aws-chunked body and the offsets of its parts.
type encoded struct {
	wire      []byte
	dataAt    []int // start of each chunk's data
	sigAt     []int // start of each chunk signature, the final chunk's included
	trailerAt int   // start of the trailer header line, or -1
	tsigAt    int   // start of the trailer signature, or -1
}

// encodeChunked encodes payload as aws-chunked. Chunk signatures come
// from aws-sdk-go-v2's v4.StreamSigner (whose string to sign is the chunk
// one when the event-stream headers are empty); the trailer signature is
// computed with crypto/hmac.
func encodeChunked(tb testing.TB, payload []byte, o encodeOpts) *encoded {
	tb.Helper()
	if o.chunkSize == 0 {
		o.chunkSize = 64 << 10
	}
	if o.seed == "" {
		o.seed = chunkSeed
	}
	if o.secret == "" {
		o.secret = chunkSecret
	}
	seed, err := hex.DecodeString(o.seed)
	if err != nil {
		tb.Fatalf("bad seed: %s", err)
	}
	ss := v4.NewStreamSigner(aws.Credentials{AccessKeyID: chunkAccessKey, SecretAccessKey: o.secret}, "s3", chunkRegion, seed)
	sign := func(chunk []byte) string {
		sig, err := ss.GetSignature(context.Background(), nil, chunk, chunkTime)
		if err != nil {
			tb.Fatalf("GetSignature: %s", err)
		}
		return hex.EncodeToString(sig)
	}
	e := &encoded{trailerAt: -1, tsigAt: -1}
	w := make([]byte, 0, len(payload)+len(payload)/o.chunkSize*100+300)
	for off := 0; off < len(payload); off += o.chunkSize {
		chunk := payload[off:min(off+o.chunkSize, len(payload))]
		w = strconv.AppendInt(w, int64(len(chunk)), 16)
		w = append(w, ";chunk-signature="...)
		e.sigAt = append(e.sigAt, len(w))
		w = append(w, sign(chunk)...)
		w = append(w, "\r\n"...)
		e.dataAt = append(e.dataAt, len(w))
		w = append(w, chunk...)
		w = append(w, "\r\n"...)
	}
	final := sign(nil)
	w = append(w, "0;chunk-signature="...)
	e.sigAt = append(e.sigAt, len(w))
	w = append(w, final...)
	w = append(w, "\r\n"...)
	if o.trailerName == "" {
		e.wire = append(w, "\r\n"...)
		return e
	}
	value := o.trailerValue
	if value == "" {
		value = oracleChecksum(tb, o.trailerName, payload)
	}
	canon := o.trailerName + ":" + value + "\n"
	tsig := oracleTrailerSignature(o.secret, final, canon)
	e.trailerAt = len(w)
	if o.minioStyle {
		w = append(w, canon+"\r\n"...)
	} else {
		w = append(w, o.trailerName+":"+value+"\r\n"...)
	}
	w = append(w, "x-amz-trailer-signature:"...)
	e.tsigAt = len(w)
	w = append(w, tsig+"\r\n\r\n"...)
	e.wire = w
	return e
}

// chunkInput is everything a ChunkDecoder is given for one body.
type chunkInput struct {
	wire          []byte
	secret        string
	seed          string
	decodedLength int64
	trailer       bool
	checksumName  string // "" passes nil
}

func newChunkInput(e *encoded, payloadLen int, trailerName string) chunkInput {
	return chunkInput{
		wire: e.wire, secret: chunkSecret, seed: chunkSeed, decodedLength: int64(payloadLen),
		trailer: trailerName != "", checksumName: trailerName,
	}
}

func initDecoder(tb testing.TB, d *sigv4.ChunkDecoder, in chunkInput) error {
	tb.Helper()
	var key [32]byte
	sigv4.DeriveSigningKey(&key, in.secret, []byte("20130524"), []byte(chunkRegion), []byte("s3"))
	var name []byte
	if in.checksumName != "" {
		name = []byte(in.checksumName)
	}
	return d.Init(&key, []byte(chunkAmzDate), []byte(chunkScope), []byte(in.seed), in.decodedLength, in.trailer, name)
}

// decodeSplit decodes in.wire fed in pieces that end at the given cut
// offsets (ascending). It returns the decoded bytes, the number of wire
// bytes consumed and the first error; bytes after the end of the body are
// passed to Decode again, which must reject them.
func decodeSplit(tb testing.TB, d *sigv4.ChunkDecoder, in chunkInput, cuts []int) ([]byte, int, error) {
	tb.Helper()
	if err := initDecoder(tb, d, in); err != nil {
		return nil, 0, err
	}
	var out []byte
	consumed, prev := 0, 0
	for _, cut := range append(cuts, len(in.wire)) {
		if cut < prev {
			continue
		}
		piece := in.wire[prev:cut]
		prev = cut
		var n int
		var err error
		out, n, err = d.Decode(out, piece)
		consumed += n
		if err != nil {
			return out, consumed, err
		}
		if n < len(piece) {
			if !d.Done() {
				tb.Fatalf("Decode consumed %d of %d bytes without an error before the end", n, len(piece))
			}
			// The body ended: whatever follows is data after the end for a
			// caller whose whole input is the encoded body.
			rest := in.wire[consumed:]
			if _, m, err := d.Decode(out, rest); err != nil || m != 0 {
				return out, consumed, err
			}
			tb.Fatalf("Decode accepted %d bytes after the end", len(rest))
		}
	}
	return out, consumed, nil
}

func randomCuts(r *rand.Rand, size, count int) []int {
	cuts := make([]int, count)
	for i := range cuts {
		cuts[i] = r.IntN(size + 1)
	}
	for i := 1; i < len(cuts); i++ { // insertion sort: count is small
		for j := i; j > 0 && cuts[j] < cuts[j-1]; j-- {
			cuts[j], cuts[j-1] = cuts[j-1], cuts[j]
		}
	}
	return cuts
}

// checkDecoded requires a complete, verified decode of payload.
func checkDecoded(tb testing.TB, d *sigv4.ChunkDecoder, in chunkInput, cuts []int, payload []byte) {
	tb.Helper()
	out, n, err := decodeSplit(tb, d, in, cuts)
	if err != nil {
		tb.Fatalf("unexpected error (cuts %v); got %v; want nil", cuts, err)
	}
	if !d.Done() {
		tb.Fatalf("unexpected Done (cuts %v); got false; want true", cuts)
	}
	if n != len(in.wire) {
		tb.Fatalf("unexpected bytes consumed; got %d; want %d", n, len(in.wire))
	}
	if !bytes.Equal(out, payload) {
		tb.Fatalf("unexpected payload (cuts %v); got %d bytes; want %d bytes", cuts, len(out), len(payload))
	}
	name, value := d.Checksum()
	if in.trailer && in.checksumName != "" {
		if string(name) != in.checksumName || string(value) != oracleChecksum(tb, in.checksumName, payload) {
			tb.Fatalf("unexpected Checksum; got %q %q; want %q %q", name, value, in.checksumName, oracleChecksum(tb, in.checksumName, payload))
		}
	} else if name != nil || value != nil {
		tb.Fatalf("unexpected Checksum; got %q %q; want nils", name, value)
	}
}

func TestDeriveSigningKey(t *testing.T) {
	var key [32]byte
	sigv4.DeriveSigningKey(&key, chunkSecret, []byte("20130524"), []byte(chunkRegion), []byte("s3"))
	if want := oracleSigningKey(chunkSecret); !bytes.Equal(key[:], want) {
		t.Fatalf("unexpected signing key; got %x; want %x", key, want)
	}
}

// TestChunkDecodeAWSExample_Success decodes the example of the AWS page
// "sigv4-streaming" (65 KiB of 'a' in a 64 KiB and a 1 KiB chunk) built
// from the signatures printed there.
func TestChunkDecodeAWSExample_Success(t *testing.T) {
	payload := bytes.Repeat([]byte("a"), 65<<10)
	wire := "10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n" +
		string(payload[:64<<10]) + "\r\n" +
		"400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n" +
		string(payload[64<<10:]) + "\r\n" +
		"0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n"
	in := chunkInput{wire: []byte(wire), secret: chunkSecret, seed: chunkSeed, decodedLength: int64(len(payload))}
	var d sigv4.ChunkDecoder
	checkDecoded(t, &d, in, nil, payload)

	// The encoder used by the other tests reproduces it byte for byte.
	if e := encodeChunked(t, payload, encodeOpts{}); string(e.wire) != wire {
		t.Fatalf("encodeChunked does not reproduce the AWS example")
	}
}

// TestChunkDecodeAWSTrailerExample_Success checks the trailer string to
// sign of the test encoder against the AWS page "sigv4-streaming-trailers"
// (as quoted by minio-go's TestTrailerChunkSignature: previous signature
// e05ab64f..., trailer "x-amz-checksum-crc32c:wdBDMA==\n", trailer
// signature 41e14ac6...), then decodes that page's payload, 65 KiB of 'a'
// with its crc32c sOO8/Q==, in both trailer line styles.
func TestChunkDecodeAWSTrailerExample_Success(t *testing.T) {
	got := oracleTrailerSignature(chunkSecret, "e05ab64fe1dfdbf0b5870abbaabdb063c371d4e96f2767e6934d90529c5ae850", "x-amz-checksum-crc32c:wdBDMA==\n")
	if want := "41e14ac611e27a8bb3d66c3bad6856f209297767d5dd4fc87d8fa9e422e03faf"; got != want {
		t.Fatalf("unexpected trailer signature; got %s; want %s", got, want)
	}
	const seed = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
	payload := bytes.Repeat([]byte("a"), 65<<10)
	f := func(minioStyle bool) {
		t.Helper()
		e := encodeChunked(t, payload, encodeOpts{seed: seed, trailerName: "x-amz-checksum-crc32c", minioStyle: minioStyle})
		in := newChunkInput(e, len(payload), "x-amz-checksum-crc32c")
		in.seed = seed
		var d sigv4.ChunkDecoder
		checkDecoded(t, &d, in, nil, payload)
		if _, v := d.Checksum(); string(v) != "sOO8/Q==" {
			t.Fatalf("unexpected checksum; got %q; want %q", v, "sOO8/Q==")
		}
	}
	f(false)
	f(true)
}

// minioBody signs payload with minio-go's StreamingSignV4 (64 KiB chunks)
// and returns the body, the seed signature and the announced trailer.
func minioBody(tb testing.TB, payload []byte, trailerName string) (wire []byte, seed string) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPut, "https://s3.amazonaws.com/examplebucket/chunkObject.txt", bytes.NewReader(payload))
	if err != nil {
		tb.Fatalf("cannot create request: %s", err)
	}
	req.Header.Set("x-amz-storage-class", "REDUCED_REDUNDANCY")
	if trailerName != "" {
		req.Trailer = http.Header{trailerName: []string{oracleChecksum(tb, trailerName, payload)}}
	}
	req = signer.StreamingSignV4(req, chunkAccessKey, chunkSecret, "", chunkRegion, int64(len(payload)), chunkTime, sha256Hasher{sha256.New()})
	auth := req.Header.Get("Authorization")
	i := strings.LastIndex(auth, "Signature=")
	if i < 0 {
		tb.Fatalf("no signature in %q", auth)
	}
	if got := req.Header.Get("X-Amz-Date"); got != chunkAmzDate {
		tb.Fatalf("unexpected X-Amz-Date; got %q; want %q", got, chunkAmzDate)
	}
	wire, err = io.ReadAll(req.Body)
	if err != nil {
		tb.Fatalf("cannot read the signed body: %s", err)
	}
	return wire, auth[i+len("Signature="):]
}

// sha256Hasher satisfies minio-go's md5simd.Hasher.
type sha256Hasher struct{ hash.Hash }

func (sha256Hasher) Close() {}

func TestChunkDecodeMinio_Success(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	f := func(size int, trailerName string) {
		t.Helper()
		payload := make([]byte, size)
		for i := range payload {
			payload[i] = byte(r.Uint32())
		}
		wire, seed := minioBody(t, payload, trailerName)
		in := chunkInput{wire: wire, secret: chunkSecret, seed: seed, decodedLength: int64(size), trailer: trailerName != "", checksumName: trailerName}
		var d sigv4.ChunkDecoder
		checkDecoded(t, &d, in, nil, payload)
		for range 5 {
			checkDecoded(t, &d, in, randomCuts(r, len(wire), 1+r.IntN(20)), payload)
		}
		// Our encoder agrees with minio-go on the plain variant.
		if trailerName == "" {
			if e := encodeChunked(t, payload, encodeOpts{seed: seed}); !bytes.Equal(e.wire, wire) {
				t.Fatalf("encodeChunked disagrees with minio-go for %d bytes", size)
			}
		}
	}
	for _, size := range []int{0, 1, 100, 64 << 10, 64<<10 + 1, 1<<20 + 123} {
		f(size, "")
		for _, name := range checksumNames {
			f(size, name)
		}
	}
}

// signatureOnlyTrailer turns the plain body e into a -TRAILER body whose
// trailer has no header, only its signature.
func signatureOnlyTrailer(e *encoded) []byte {
	final := string(e.wire[e.sigAt[len(e.sigAt)-1]:][:64])
	w := bytes.Clone(e.wire[:len(e.wire)-2])
	return append(w, "x-amz-trailer-signature:"+oracleTrailerSignature(chunkSecret, final, "")+"\r\n\r\n"...)
}

func TestChunkDecodeSplits_Success(t *testing.T) {
	payload := []byte(strings.Repeat("The quick brown fox jumps over the lazy dog. ", 7))
	f := func(payload []byte, chunkSize int, o encodeOpts) {
		t.Helper()
		o.chunkSize = chunkSize
		e := encodeChunked(t, payload, o)
		in := newChunkInput(e, len(payload), o.trailerName)
		var d sigv4.ChunkDecoder
		for i := 0; i <= len(e.wire); i++ {
			checkDecoded(t, &d, in, []int{i}, payload)
		}
		every := make([]int, len(e.wire))
		for i := range every {
			every[i] = i
		}
		checkDecoded(t, &d, in, every, payload)
	}
	for _, o := range []encodeOpts{
		{},
		{trailerName: "x-amz-checksum-crc32"},
		{trailerName: "x-amz-checksum-sha256", minioStyle: true},
	} {
		f(payload[:11], 1, o)
		f(payload, 37, o)
		f(payload, 1000, o)
		f(nil, 1, o)
	}
	// A trailer without a checksum header, only its signature.
	e := encodeChunked(t, payload, encodeOpts{chunkSize: 64})
	wire := signatureOnlyTrailer(e)
	in := chunkInput{wire: wire, secret: chunkSecret, seed: chunkSeed, decodedLength: int64(len(payload)), trailer: true}
	var d sigv4.ChunkDecoder
	for i := 0; i <= len(wire); i++ {
		checkDecoded(t, &d, in, []int{i}, payload)
	}
}

func TestChunkDecodeLarge_Success(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	payload := make([]byte, 3<<20+17)
	for i := range payload {
		payload[i] = byte(r.Uint32())
	}
	f := func(o encodeOpts) {
		t.Helper()
		e := encodeChunked(t, payload, o)
		in := newChunkInput(e, len(payload), o.trailerName)
		var d sigv4.ChunkDecoder
		for range 3 {
			checkDecoded(t, &d, in, randomCuts(r, len(e.wire), 1+r.IntN(300)), payload)
		}
	}
	f(encodeOpts{})
	for _, name := range checksumNames {
		f(encodeOpts{trailerName: name})
	}
	f(encodeOpts{chunkSize: 8<<10 + 3, trailerName: "x-amz-checksum-crc64nvme", minioStyle: true})
}

// TestChunkDecodeCRC64NVME checks the CRC-64/NVME check value
// (crc("123456789") = 0xae8b14860a799888) through the decoder.
func TestChunkDecodeCRC64NVME(t *testing.T) {
	payload := []byte("123456789")
	want := base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint64(nil, 0xae8b14860a799888))
	e := encodeChunked(t, payload, encodeOpts{trailerName: "x-amz-checksum-crc64nvme", trailerValue: want})
	var d sigv4.ChunkDecoder
	checkDecoded(t, &d, newChunkInput(e, len(payload), "x-amz-checksum-crc64nvme"), nil, payload)
}

// TestChunkDecodeAfterEnd_Success: bytes after the end are left to the
// caller.
func TestChunkDecodeAfterEnd_Success(t *testing.T) {
	payload := []byte("hello, world")
	f := func(trailerName string) {
		t.Helper()
		e := encodeChunked(t, payload, encodeOpts{chunkSize: 5, trailerName: trailerName})
		in := newChunkInput(e, len(payload), trailerName)
		var d sigv4.ChunkDecoder
		if err := initDecoder(t, &d, in); err != nil {
			t.Fatalf("Init: %s", err)
		}
		out, n, err := d.Decode(nil, append(e.wire[:len(e.wire):len(e.wire)], "PUT / HTTP/1.1"...))
		if err != nil || n != len(e.wire) || !d.Done() || string(out) != string(payload) {
			t.Fatalf("unexpected result; got %q, %d, %v, Done %v; want %q, %d, nil, true", out, n, err, d.Done(), payload, len(e.wire))
		}
		// An empty call after the end is fine; more bytes are not.
		if _, n, err = d.Decode(out, nil); err != nil || n != 0 || !d.Done() {
			t.Fatalf("unexpected result of an empty Decode after the end; got %d, %v, Done %v", n, err, d.Done())
		}
		if _, _, err = d.Decode(out, []byte("x")); !errors.Is(err, sigv4.ErrChunkMalformed) || d.Done() {
			t.Fatalf("unexpected result of Decode after the end; got %v, Done %v; want %v, false", err, d.Done(), sigv4.ErrChunkMalformed)
		}
	}
	f("")
	f("x-amz-checksum-crc32c")
}

// TestChunkDecodeTruncated_Failure: no prefix of a body is Done or an error.
func TestChunkDecodeTruncated_Failure(t *testing.T) {
	payload := []byte(strings.Repeat("0123456789", 20))
	f := func(o encodeOpts) {
		t.Helper()
		o.chunkSize = 64
		e := encodeChunked(t, payload, o)
		var d sigv4.ChunkDecoder
		for i := 0; i < len(e.wire); i++ {
			in := newChunkInput(e, len(payload), o.trailerName)
			in.wire = e.wire[:i]
			out, n, err := decodeSplit(t, &d, in, nil)
			if err != nil || n != i || d.Done() {
				t.Fatalf("unexpected result for %d of %d bytes; got %d, %v, Done %v; want %d, nil, false", i, len(e.wire), n, err, d.Done(), i)
			}
			if !bytes.HasPrefix(payload, out) {
				t.Fatalf("decoded bytes are not a prefix of the payload")
			}
			if name, value := d.Checksum(); name != nil || value != nil {
				t.Fatalf("unexpected Checksum before Done; got %q %q", name, value)
			}
		}
	}
	f(encodeOpts{})
	f(encodeOpts{trailerName: "x-amz-checksum-sha1"})
	f(encodeOpts{trailerName: "x-amz-checksum-sha1", minioStyle: true})
}

func TestChunkDecoderInit_Failure(t *testing.T) {
	f := func(seed string, decodedLength int64, trailer bool, checksumName string, want error) {
		t.Helper()
		var d sigv4.ChunkDecoder
		in := chunkInput{secret: chunkSecret, seed: seed, decodedLength: decodedLength, trailer: trailer, checksumName: checksumName}
		if err := initDecoder(t, &d, in); !errors.Is(err, want) {
			t.Fatalf("unexpected Init error; got %v; want %v", err, want)
		}
		if _, _, err := d.Decode(nil, []byte("0;")); !errors.Is(err, want) {
			t.Fatalf("unexpected Decode error after a failed Init; got %v; want %v", err, want)
		}
	}
	f(chunkSeed, 1, true, "x-amz-checksum-md5", sigv4.ErrChunkedUnsupported)
	f(chunkSeed, 1, true, "content-md5", sigv4.ErrChunkedUnsupported)
	f(chunkSeed[:63], 1, false, "", sigv4.ErrChunkSignature)
	f(chunkSeed+"0", 1, false, "", sigv4.ErrChunkSignature)
	f(chunkSeed, -1, false, "", sigv4.ErrDecodedLength)

	// Zero value: Decode before Init.
	var d sigv4.ChunkDecoder
	if _, _, err := d.Decode(nil, []byte("0")); !errors.Is(err, sigv4.ErrChunkMalformed) {
		t.Fatalf("unexpected error of Decode before Init; got %v; want %v", err, sigv4.ErrChunkMalformed)
	}
}

func TestChunkDecoderInit_Success(t *testing.T) {
	// A checksum name is matched case-insensitively and ignored without
	// the trailer variant; the seed may be upper-case hex.
	payload := []byte("abc")
	e := encodeChunked(t, payload, encodeOpts{chunkSize: 2, trailerName: "x-amz-checksum-crc32"})
	in := newChunkInput(e, len(payload), "X-Amz-Checksum-CRC32")
	in.seed = strings.ToUpper(chunkSeed)
	var d sigv4.ChunkDecoder
	out, _, err := decodeSplit(t, &d, in, nil)
	if err != nil || !d.Done() || string(out) != "abc" {
		t.Fatalf("unexpected result; got %q, %v, Done %v", out, err, d.Done())
	}
	if name, _ := d.Checksum(); string(name) != "x-amz-checksum-crc32" {
		t.Fatalf("unexpected checksum name; got %q; want %q", name, "x-amz-checksum-crc32")
	}
	e = encodeChunked(t, payload, encodeOpts{chunkSize: 2})
	in = newChunkInput(e, len(payload), "")
	in.checksumName = "x-amz-checksum-whatever"
	checkDecoded(t, &d, in, nil, payload)
}

// replace returns a copy of b with b[at:at+len(s)] replaced by s.
func replace(b []byte, at int, s string) []byte {
	c := bytes.Clone(b)
	copy(c[at:], s)
	return c
}

// flip returns a copy of b with b[at] changed to another hex digit.
func flip(b []byte, at int) []byte {
	c := bytes.Clone(b)
	if c[at] == '0' {
		c[at] = '1'
	} else {
		c[at] = '0'
	}
	return c
}

// splice returns a copy of b with b[from:to] replaced by s.
func splice(b []byte, from, to int, s string) []byte {
	c := append(bytes.Clone(b[:from]), s...)
	return append(c, b[to:]...)
}

func TestChunkDecode_Failure(t *testing.T) {
	payload := []byte(strings.Repeat("Lorem ipsum dolor sit amet. ", 10)) // 280 bytes
	const cs = 100                                                        // chunks of 100, 100, 80 and the final one
	f := func(name string, in chunkInput, want error) {
		t.Helper()
		var d sigv4.ChunkDecoder
		for _, cuts := range [][]int{nil, {len(in.wire) / 2}, {1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377}} {
			out, _, err := decodeSplit(t, &d, in, cuts)
			if !errors.Is(err, want) {
				t.Fatalf("%s: unexpected error (cuts %v); got %v; want %v", name, cuts, err, want)
			}
			if want == nil {
				if !d.Done() || !bytes.Equal(out, payload) {
					t.Fatalf("%s: unexpected result; got Done %v, %d bytes; want true, %d bytes", name, d.Done(), len(out), len(payload))
				}
				continue
			}
			if d.Done() {
				t.Fatalf("%s: unexpected Done after an error", name)
			}
			if want != sigv4.ErrChunkSignature && !bytes.HasPrefix(payload, out) {
				t.Fatalf("%s: decoded bytes are not a prefix of the payload", name)
			}
			// Errors are sticky.
			if _, _, err2 := d.Decode(nil, []byte("0")); err2 != err {
				t.Fatalf("%s: unexpected error after an error; got %v; want %v", name, err2, err)
			}
		}
	}
	plain := encodeChunked(t, payload, encodeOpts{chunkSize: cs})
	in := func(e *encoded, trailerName string) chunkInput { return newChunkInput(e, len(payload), trailerName) }
	with := func(c chunkInput, wire []byte) chunkInput { c.wire = wire; return c }

	// Signatures.
	for i, at := range plain.dataAt {
		f("flipped data byte in chunk "+strconv.Itoa(i), with(in(plain, ""), replace(plain.wire, at+i*7, "#")), sigv4.ErrChunkSignature)
	}
	for i, at := range plain.sigAt {
		sig := plain.wire[at : at+64]
		f("flipped signature hex in chunk "+strconv.Itoa(i), with(in(plain, ""), flip(plain.wire, at+5)), sigv4.ErrChunkSignature)
		f("upper-case signature in chunk "+strconv.Itoa(i), with(in(plain, ""), replace(plain.wire, at, strings.ToUpper(string(sig)))), sigv4.ErrChunkSignature)
		f("non-hex signature in chunk "+strconv.Itoa(i), with(in(plain, ""), replace(plain.wire, at+63, "g")), sigv4.ErrChunkSignature)
	}
	c := in(plain, "")
	c.seed = "0" + chunkSeed[1:]
	f("wrong seed", c, sigv4.ErrChunkSignature)
	c = in(plain, "")
	c.secret = "x" + chunkSecret[1:]
	f("wrong key", c, sigv4.ErrChunkSignature)
	chunk1, chunk2 := plain.dataAt[0]+cs+2, plain.dataAt[1]+cs+2 // starts of chunks 1 and 2
	f("chunks swapped", with(in(plain, ""), append(append(bytes.Clone(plain.wire[chunk1:chunk2]), plain.wire[:chunk1]...), plain.wire[chunk2:]...)), sigv4.ErrChunkSignature)
	f("chunk repeated", with(in(plain, ""), splice(plain.wire, chunk1, chunk1, string(plain.wire[:chunk1]))), sigv4.ErrChunkSignature)
	f("chunk dropped", with(in(plain, ""), splice(plain.wire, chunk1, chunk2, "")), sigv4.ErrChunkSignature)
	other := encodeChunked(t, payload, encodeOpts{chunkSize: 50})
	f("re-chunked body, signatures of another chunking", with(in(plain, ""), append(bytes.Clone(other.wire[:other.sigAt[1]]), plain.wire[plain.sigAt[1]:]...)), sigv4.ErrChunkSignature)

	// Decoded length.
	c = in(plain, "")
	c.decodedLength = int64(len(payload)) - 1
	f("decoded length too short", c, sigv4.ErrDecodedLength)
	c.decodedLength = 150
	f("decoded length much too short", c, sigv4.ErrDecodedLength)
	c.decodedLength = 0
	f("decoded length zero", c, sigv4.ErrDecodedLength)
	c.decodedLength = int64(len(payload)) + 1
	f("decoded length too long", c, sigv4.ErrDecodedLength)

	// Framing.
	f("extra byte after the end in one call", with(in(plain, ""), splice(plain.wire, len(plain.wire)-2, len(plain.wire)-2, "\r\n")), sigv4.ErrChunkMalformed)
	f("missing final CRLF, then other bytes", with(in(plain, ""), append(bytes.Clone(plain.wire[:len(plain.wire)-2]), "0;"...)), sigv4.ErrChunkMalformed)
	f("bad hex size", with(in(plain, ""), replace(plain.wire, 0, "6g")), sigv4.ErrChunkMalformed)
	f("size with a sign", with(in(plain, ""), splice(plain.wire, 0, 0, "+")), sigv4.ErrChunkMalformed)
	f("empty size", with(in(plain, ""), splice(plain.wire, 0, 2, "")), sigv4.ErrChunkMalformed)
	f("17 hex digits", with(in(plain, ""), splice(plain.wire, 0, 0, "000000000000000")), sigv4.ErrChunkMalformed)
	f("16 hex digits", with(in(plain, ""), splice(plain.wire, 0, 0, "00000000000000")), nil)
	f("size too large", with(in(plain, ""), splice(plain.wire, 0, 2, "1ff")), sigv4.ErrDecodedLength)
	f("size too small", with(in(plain, ""), replace(plain.wire, 0, "63")), sigv4.ErrChunkSignature)
	f("size 16 hex f", with(in(plain, ""), splice(plain.wire, 0, 2, "ffffffffffffffff")), sigv4.ErrDecodedLength)
	f("missing ;chunk-signature=", with(in(plain, ""), splice(plain.wire, 2, 19, "")), sigv4.ErrChunkMalformed)
	f("misspelled chunk-signature", with(in(plain, ""), replace(plain.wire, 3, "C")), sigv4.ErrChunkMalformed)
	f("short signature", with(in(plain, ""), splice(plain.wire, plain.sigAt[0], plain.sigAt[0]+1, "")), sigv4.ErrChunkMalformed)
	f("long signature", with(in(plain, ""), splice(plain.wire, plain.sigAt[0], plain.sigAt[0], "0")), sigv4.ErrChunkMalformed)
	f("chunk extension", with(in(plain, ""), splice(plain.wire, plain.sigAt[0]+64, plain.sigAt[0]+64, ";a=b")), sigv4.ErrChunkMalformed)
	f("header LF only", with(in(plain, ""), splice(plain.wire, plain.sigAt[0]+64, plain.sigAt[0]+65, "")), sigv4.ErrChunkMalformed)
	f("missing CRLF after data", with(in(plain, ""), splice(plain.wire, plain.dataAt[0]+cs, plain.dataAt[0]+cs+2, "")), sigv4.ErrChunkMalformed)
	f("LF after data", with(in(plain, ""), replace(plain.wire, plain.dataAt[0]+cs, "\n")), sigv4.ErrChunkMalformed)
	f("CR CR after data", with(in(plain, ""), replace(plain.wire, plain.dataAt[0]+cs, "\r\r")), sigv4.ErrChunkMalformed)
	f("missing CRLF after the last data", with(in(plain, ""), splice(plain.wire, plain.dataAt[2]+80, plain.dataAt[2]+82, "")), sigv4.ErrChunkMalformed)
	f("final LF only", with(in(plain, ""), splice(plain.wire, len(plain.wire)-2, len(plain.wire)-1, "")), sigv4.ErrChunkMalformed)
	f("header line longer than 4 KiB", with(in(plain, ""), splice(plain.wire, 0, 0, strings.Repeat(" ", 4<<10))), sigv4.ErrChunkMalformed)
	f("header line without LF", with(in(plain, ""), []byte(strings.Repeat("a", 5000))), sigv4.ErrChunkMalformed)
	f("plain body with a trailer", with(in(plain, ""), splice(plain.wire, len(plain.wire)-2, len(plain.wire), "x-amz-checksum-crc32:AAAAAA==\r\n\r\n")), sigv4.ErrChunkMalformed)

	// Trailers.
	const ck = "x-amz-checksum-crc32c"
	tr := encodeChunked(t, payload, encodeOpts{chunkSize: cs, trailerName: ck})
	f("bad trailer signature", with(in(tr, ck), flip(tr.wire, tr.tsigAt)), sigv4.ErrChunkSignature)
	f("short trailer signature", with(in(tr, ck), splice(tr.wire, tr.tsigAt, tr.tsigAt+1, "")), sigv4.ErrChunkMalformed)
	f("flipped data byte with a trailer", with(in(tr, ck), replace(tr.wire, tr.dataAt[1], "#")), sigv4.ErrChunkSignature)
	f("flipped final signature with a trailer", with(in(tr, ck), replace(tr.wire, tr.sigAt[3]+63, "g")), sigv4.ErrChunkSignature)
	f("changed trailer value", with(in(tr, ck), flip(tr.wire, tr.trailerAt+len(ck)+1)), sigv4.ErrChunkSignature)
	f("changed trailer name", with(in(tr, ck), flip(tr.wire, tr.trailerAt+len(ck)-1)), sigv4.ErrChunkMalformed)
	f("upper-case trailer signature", with(in(tr, ck), replace(tr.wire, tr.tsigAt, strings.ToUpper(string(tr.wire[tr.tsigAt:tr.tsigAt+64])))), sigv4.ErrChunkSignature)
	c = in(tr, ck)
	c.trailer = false
	f("trailer body decoded as plain", c, sigv4.ErrChunkMalformed)

	f("bad checksum, signed", in(encodeChunked(t, payload, encodeOpts{chunkSize: cs, trailerName: ck, trailerValue: "AAAAAA=="}), ck), sigv4.ErrChecksumMismatch)
	f("checksum of other data, signed", in(encodeChunked(t, payload, encodeOpts{chunkSize: cs, trailerName: ck, trailerValue: oracleChecksum(t, ck, payload[1:])}), ck), sigv4.ErrChecksumMismatch)
	f("invalid base64, signed", in(encodeChunked(t, payload, encodeOpts{chunkSize: cs, trailerName: ck, trailerValue: "!!!!!!!!"}), ck), sigv4.ErrChecksumMismatch)
	f("checksum too long, signed", in(encodeChunked(t, payload, encodeOpts{chunkSize: cs, trailerName: ck, trailerValue: oracleChecksum(t, ck, payload) + "AA=="}), ck), sigv4.ErrChecksumMismatch)
	f("checksum of another algorithm, signed", in(encodeChunked(t, payload, encodeOpts{chunkSize: cs, trailerName: ck, trailerValue: oracleChecksum(t, "x-amz-checksum-crc32", payload)}), ck), sigv4.ErrChecksumMismatch)
	f("trailer name not announced", in(encodeChunked(t, payload, encodeOpts{chunkSize: cs, trailerName: "x-amz-checksum-crc32"}), ck), sigv4.ErrChunkMalformed)
	c = in(tr, ck)
	c.checksumName = ""
	f("trailer with nothing announced", c, sigv4.ErrChunkMalformed)
	f("announced trailer missing, signed", in(&encoded{wire: signatureOnlyTrailer(plain)}, ck), sigv4.ErrChunkMalformed)
	f("announced trailer missing", with(in(tr, ck), splice(tr.wire, tr.trailerAt, tr.tsigAt-len("x-amz-trailer-signature:"), "")), sigv4.ErrChunkSignature)
	f("trailer repeated", with(in(tr, ck), splice(tr.wire, tr.trailerAt, tr.trailerAt, string(tr.wire[tr.trailerAt:tr.tsigAt-len("x-amz-trailer-signature:")]))), sigv4.ErrChunkMalformed)
	f("trailer line without colon", with(in(tr, ck), splice(tr.wire, tr.trailerAt, tr.trailerAt, "x-amz-meta-a\r\n")), sigv4.ErrChunkMalformed)
	f("trailer line with empty name", with(in(tr, ck), splice(tr.wire, tr.trailerAt, tr.trailerAt, ":a\r\n")), sigv4.ErrChunkMalformed)
	f("other trailer header", with(in(tr, ck), splice(tr.wire, tr.trailerAt, tr.trailerAt, "x-amz-meta-a:b\r\n")), sigv4.ErrChunkMalformed)
	f("trailer line longer than 4 KiB", with(in(tr, ck), splice(tr.wire, tr.trailerAt, tr.trailerAt, "x-amz-meta-a:"+strings.Repeat("b", 4<<10)+"\r\n")), sigv4.ErrChunkMalformed)
	f("missing final CRLF after the trailer signature, then other bytes", with(in(tr, ck), append(bytes.Clone(tr.wire[:len(tr.wire)-2]), "x\r\n"...)), sigv4.ErrChunkMalformed)
	f("extra byte after the trailer in one call", with(in(tr, ck), splice(tr.wire, len(tr.wire)-2, len(tr.wire)-2, "\r\n")), sigv4.ErrChunkMalformed)
	f("decoded length too long with a trailer", func() chunkInput { c := in(tr, ck); c.decodedLength++; return c }(), sigv4.ErrDecodedLength)

	// Sanity: the unmodified bodies decode.
	f("plain", in(plain, ""), nil)
	f("trailer", in(tr, ck), nil)
}

// InitUnverified decodes bodies signed with any key, and still checks the
// framing, the decoded length and the trailer checksum.
func TestChunkDecodeUnverified(t *testing.T) {
	payload := make([]byte, 200<<10+7)
	for i := range payload {
		payload[i] = byte(i * 31)
	}
	f := func(o encodeOpts, decodedLength int64, corrupt func([]byte, *encoded), wantErr error) {
		t.Helper()
		e := encodeChunked(t, payload, o)
		wire := append([]byte(nil), e.wire...)
		if corrupt != nil {
			corrupt(wire, e)
		}
		var d sigv4.ChunkDecoder
		var name []byte
		if o.trailerName != "" {
			name = []byte(o.trailerName)
		}
		if err := d.InitUnverified(decodedLength, o.trailerName != "", name); err != nil {
			t.Fatalf("InitUnverified: %s", err)
		}
		out, n, err := d.Decode(nil, wire)
		if wantErr != nil {
			if !errors.Is(err, wantErr) || d.Done() {
				t.Fatalf("unexpected result; got err %v done %v; want %v", err, d.Done(), wantErr)
			}
			return
		}
		if err != nil || n != len(wire) || !d.Done() || !bytes.Equal(out, payload) {
			t.Fatalf("unexpected result; err %v n %d/%d done %v equal %v", err, n, len(wire), d.Done(), bytes.Equal(out, payload))
		}
	}
	n := int64(len(payload))
	f(encodeOpts{secret: "some-other-secret"}, n, nil, nil)
	f(encodeOpts{trailerName: "x-amz-checksum-crc32c"}, n, nil, nil)
	// A flipped signature is not noticed; a flipped data byte is, through
	// the trailer checksum; a wrong length and bad framing are errors.
	f(encodeOpts{}, n, func(w []byte, e *encoded) { w[e.sigAt[1]] ^= 1 }, nil)
	f(encodeOpts{trailerName: "x-amz-checksum-crc32"}, n, func(w []byte, e *encoded) { w[e.dataAt[1]] ^= 1 }, sigv4.ErrChecksumMismatch)
	f(encodeOpts{}, n-1, nil, sigv4.ErrDecodedLength)
	f(encodeOpts{}, n, func(w []byte, e *encoded) { w[e.dataAt[1]-1] = 'x' }, sigv4.ErrChunkMalformed)
}

func TestChunkDecodeUnsigned(t *testing.T) {
	crc := oracleChecksum(t, "x-amz-checksum-crc32", []byte("hello world"))
	f := func(wire string, decodedLength int64, trailer bool, wantOut string, wantN int, wantErr error) {
		t.Helper()
		var name []byte
		if trailer {
			name = []byte("x-amz-checksum-crc32")
		}
		// Whole, and byte by byte.
		for _, step := range []int{len(wire), 1} {
			var d sigv4.ChunkDecoder
			if err := d.InitUnsigned(decodedLength, trailer, name); err != nil {
				t.Fatalf("InitUnsigned: %s", err)
			}
			var out []byte
			var err error
			n := 0
			for n < len(wire) && err == nil && !d.Done() {
				var m int
				out, m, err = d.Decode(out, []byte(wire[n:min(n+step, len(wire))]))
				n += m
			}
			if wantErr != nil {
				if !errors.Is(err, wantErr) || d.Done() {
					t.Fatalf("%q (step %d): got err %v done %v; want %v", wire, step, err, d.Done(), wantErr)
				}
				continue
			}
			if err != nil || !d.Done() || string(out) != wantOut || n != wantN {
				t.Fatalf("%q (step %d): got %q n %d err %v done %v; want %q n %d", wire, step, out, n, err, d.Done(), wantOut, wantN)
			}
		}
	}
	body := "6\r\nhello \r\n5;ext=1\r\nworld\r\n0\r\n"
	f(body+"x-amz-checksum-crc32:"+crc+"\r\n\r\n", 11, true, "hello world", len(body)+len("x-amz-checksum-crc32:"+crc+"\r\n\r\n"), nil)
	f(body+"x-amz-checksum-crc32:"+crc+"\r\n\r\nNEXT", 11, true, "hello world", len(body)+len("x-amz-checksum-crc32:"+crc+"\r\n\r\n"), nil)
	f(body+"\r\n", 11, false, "hello world", len(body)+2, nil)
	f(body+"x-amz-checksum-crc32:AAAAAA==\r\n\r\n", 11, true, "", 0, sigv4.ErrChecksumMismatch)
	f(body+"\r\n", 11, true, "", 0, sigv4.ErrChunkMalformed) // announced checksum missing
	f(body+"\r\n", 12, false, "", 0, sigv4.ErrDecodedLength)
	f("zz\r\n", 11, false, "", 0, sigv4.ErrChunkMalformed)
}

func TestNewChecksum(t *testing.T) {
	data := []byte("The quick brown fox jumps over the lazy dog")
	for _, name := range checksumNames {
		c, ok := sigv4.NewChecksum([]byte(strings.ToUpper(name)))
		if !ok {
			t.Fatalf("NewChecksum(%q) refused", name)
		}
		c.Write(data[:10])
		c.Write(data[10:])
		if got, want := string(c.AppendBase64(nil)), oracleChecksum(t, name, data); got != want {
			t.Fatalf("%s: got %s; want %s", name, got, want)
		}
	}
	if _, ok := sigv4.NewChecksum([]byte("x-amz-checksum-md5")); ok {
		t.Fatalf("NewChecksum accepted an unknown name")
	}
}
