package sigv4

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"hash"
	"hash/crc32"
	"hash/crc64"
)

// checksumKind is a trailer checksum algorithm S3 accepts.
type checksumKind uint8

const (
	checksumNone checksumKind = iota
	checksumCRC32
	checksumCRC32C
	checksumCRC64NVME
	checksumSHA1
	checksumSHA256
)

// checksumNames maps each kind to its lower-case header name.
var checksumNames = [...]string{
	checksumCRC32:     "x-amz-checksum-crc32",
	checksumCRC32C:    "x-amz-checksum-crc32c",
	checksumCRC64NVME: "x-amz-checksum-crc64nvme",
	checksumSHA1:      "x-amz-checksum-sha1",
	checksumSHA256:    "x-amz-checksum-sha256",
}

// checksumKindOf returns the kind named by the header name (ASCII
// case-insensitive), or checksumNone.
func checksumKindOf(name []byte) checksumKind {
	for k := checksumCRC32; k <= checksumSHA256; k++ {
		if bytes.EqualFold(name, []byte(checksumNames[k])) {
			return k
		}
	}
	return checksumNone
}

var castagnoliTable = crc32.MakeTable(crc32.Castagnoli)

// crc64NVMEPoly is the CRC-64/NVME polynomial 0xAD93D23594C93659 in the
// reflected (LSB-first) form hash/crc64 tables are made from.
const crc64NVMEPoly = 0x9A6C9329AC4BC9B5

// crc64NVMETables are slicing-by-8 tables for CRC-64/NVME; [0] is the
// hash/crc64 table. hash/crc64.Update only has slicing tables for ISO and
// ECMA: for any other table it builds 16 KiB of them on every call of
// 2 KiB or more, which allocates and is slower than the byte loop it
// replaces, so the loop is written out here.
var crc64NVMETables = func() *[8][256]uint64 {
	t := new([8][256]uint64)
	t[0] = *crc64.MakeTable(crc64NVMEPoly)
	for i := range 256 {
		crc := t[0][i]
		for j := 1; j < 8; j++ {
			crc = t[0][crc&0xff] ^ crc>>8
			t[j][i] = crc
		}
	}
	return t
}()

// updateCRC64NVME returns the CRC-64/NVME of p continued from crc, with
// the conventions of hash/crc64.Update (crc is the value of the previous
// bytes; 0 to start).
func updateCRC64NVME(crc uint64, p []byte) uint64 {
	t := crc64NVMETables
	crc = ^crc
	for len(p) >= 8 {
		crc ^= binary.LittleEndian.Uint64(p)
		crc = t[7][crc&0xff] ^ t[6][crc>>8&0xff] ^ t[5][crc>>16&0xff] ^ t[4][crc>>24&0xff] ^
			t[3][crc>>32&0xff] ^ t[2][crc>>40&0xff] ^ t[1][crc>>48&0xff] ^ t[0][crc>>56]
		p = p[8:]
	}
	for _, c := range p {
		crc = t[0][byte(crc)^c] ^ crc>>8
	}
	return ^crc
}

// checksum computes one trailer checksum incrementally. The SHA digests
// are created on first use and reused afterwards.
type checksum struct {
	kind         checksumKind
	crc32        uint32
	crc64        uint64
	sha1, sha256 hash.Hash
	sum          [sha256.Size]byte
}

func (c *checksum) reset(kind checksumKind) {
	c.kind, c.crc32, c.crc64 = kind, 0, 0
	switch kind {
	case checksumSHA1:
		if c.sha1 == nil {
			c.sha1 = sha1.New()
		}
		c.sha1.Reset()
	case checksumSHA256:
		if c.sha256 == nil {
			c.sha256 = sha256.New()
		}
		c.sha256.Reset()
	}
}

func (c *checksum) write(p []byte) {
	switch c.kind {
	case checksumCRC32:
		c.crc32 = crc32.Update(c.crc32, crc32.IEEETable, p)
	case checksumCRC32C:
		c.crc32 = crc32.Update(c.crc32, castagnoliTable, p)
	case checksumCRC64NVME:
		c.crc64 = updateCRC64NVME(c.crc64, p)
	case checksumSHA1:
		c.sha1.Write(p)
	case checksumSHA256:
		c.sha256.Write(p)
	}
}

// appendBase64 appends the standard base64 of the big-endian digest of
// everything written since reset, as S3 sends it in x-amz-checksum-*.
func (c *checksum) appendBase64(dst []byte) []byte {
	var d []byte
	switch c.kind {
	case checksumCRC32, checksumCRC32C:
		d = binary.BigEndian.AppendUint32(c.sum[:0], c.crc32)
	case checksumCRC64NVME:
		d = binary.BigEndian.AppendUint64(c.sum[:0], c.crc64)
	case checksumSHA1:
		d = c.sha1.Sum(c.sum[:0])
	case checksumSHA256:
		d = c.sha256.Sum(c.sum[:0])
	default:
		return dst
	}
	return base64.StdEncoding.AppendEncode(dst, d)
}

// Checksum computes one S3 x-amz-checksum-* value (crc32, crc32c,
// crc64nvme, sha1, sha256) over a stream, for callers that must check a
// whole-object checksum themselves.
type Checksum struct{ c checksum }

// NewChecksum returns a Checksum for the header name (for example
// "x-amz-checksum-crc32", any case), or false for an unsupported name.
func NewChecksum(name []byte) (*Checksum, bool) {
	kind := checksumKindOf(bytes.ToLower(name))
	if kind == checksumNone {
		return nil, false
	}
	c := &Checksum{}
	c.c.reset(kind)
	return c, true
}

// Write adds p to the checksum; it never fails.
func (c *Checksum) Write(p []byte) (int, error) { c.c.write(p); return len(p), nil }

// AppendBase64 appends the value as S3 sends it (standard base64 of the
// big-endian digest).
func (c *Checksum) AppendBase64(dst []byte) []byte { return c.c.appendBase64(dst) }
