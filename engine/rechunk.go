package engine

import (
	"strconv"
)

// When the gateway decodes an aws-chunked body whose trailer carries a
// checksum, it sends the payload to the backend re-framed as
// STREAMING-UNSIGNED-PAYLOAD-TRAILER with the same checksum trailer, so the
// backend verifies and stores the checksum (a multipart upload created
// with x-amz-checksum-algorithm requires it on every part). The framing
// uses fixed rechunkSize chunks, so the encoded length is known before the
// body is read. The trailer is written only after the client's body was
// fully verified: a failure resets the backend request before it, and the
// backend stores nothing.

const rechunkSize = 64 << 10

// checksumB64Len is the base64 length of each trailer checksum value.
func checksumB64Len(name []byte) int {
	switch string(name) {
	case "x-amz-checksum-crc32", "x-amz-checksum-crc32c":
		return 8
	case "x-amz-checksum-crc64nvme":
		return 12
	case "x-amz-checksum-sha1":
		return 28
	case "x-amz-checksum-sha256":
		return 44
	}
	return -1
}

// rechunkedLength is the encoded length of total payload bytes with a
// trailer name:value of valueLen bytes.
func rechunkedLength(total int64, nameLen, valueLen int) int64 {
	full := total / rechunkSize
	l := full * int64(len(strconv.FormatInt(rechunkSize, 16))+2+rechunkSize+2)
	if r := total % rechunkSize; r > 0 {
		l += int64(len(strconv.FormatInt(r, 16))+2) + r + 2
	}
	return l + int64(len("0\r\n")+nameLen+1+valueLen+len("\r\n\r\n"))
}

// rechunker frames payload bytes into rechunkSize chunks.
type rechunker struct {
	remaining int64 // payload bytes not yet framed
	left      int64 // bytes left in the current chunk
}

func (r *rechunker) reset(total int64) { r.remaining, r.left = total, 0 }

// frame appends p, framed, to dst. p must not exceed what is remaining.
func (r *rechunker) frame(dst, p []byte) []byte {
	for len(p) > 0 {
		if r.left == 0 {
			r.left = min(rechunkSize, r.remaining)
			dst = strconv.AppendInt(dst, r.left, 16)
			dst = append(dst, "\r\n"...)
		}
		n := min(int64(len(p)), r.left)
		dst = append(dst, p[:n]...)
		p = p[n:]
		r.left -= n
		r.remaining -= n
		if r.left == 0 {
			dst = append(dst, "\r\n"...)
		}
	}
	return dst
}

// finish appends the final chunk and the checksum trailer.
func (r *rechunker) finish(dst, name, value []byte) []byte {
	dst = append(dst, "0\r\n"...)
	dst = append(dst, name...)
	dst = append(dst, ':')
	dst = append(dst, value...)
	return append(dst, "\r\n\r\n"...)
}
