package engine

import (
	"crypto/rand"
	"encoding/binary"
	"sync/atomic"
)

// Request ids are 16 upper-case hex digits, like S3's: a random per-process
// base plus a counter, so they are unique per process and cost one atomic add.
var (
	reqIDBase uint64
	reqIDSeq  atomic.Uint64
)

func init() {
	var b [8]byte
	_, _ = rand.Read(b[:])
	reqIDBase = binary.LittleEndian.Uint64(b[:])
}

const hexUpper = "0123456789ABCDEF"

// appendRequestID appends a new request id.
func appendRequestID(dst []byte) []byte {
	v := reqIDBase + reqIDSeq.Add(1)*0x9E3779B97F4A7C15
	for i := 15; i >= 0; i-- {
		dst = append(dst, hexUpper[(v>>(uint(i)*4))&0xF])
	}
	return dst
}
