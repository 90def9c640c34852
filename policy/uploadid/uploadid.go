package uploadid

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/mizuchi-gw/mizuchi/policy/seal"
)

const (
	// Purpose is the seal purpose of upload id tokens.
	Purpose = "upload-id"
	// MaxBackendID is the longest backend upload id Seal accepts.
	MaxBackendID = 512
	// MaxTokenLen is the longest token Seal makes (for a MaxBackendID
	// backend id) and Open accepts: base64 of seal.Overhead+8+512 bytes.
	MaxTokenLen = ((seal.Overhead+expiryLen+MaxBackendID)*8 + 5) / 6

	expiryLen = 8
)

var (
	// ErrNoSuchUpload is every Open failure: S3 404 NoSuchUpload.
	ErrNoSuchUpload = errors.New("uploadid: no such upload")
	// ErrBackendID: Seal was given an empty backend id or one longer than
	// MaxBackendID bytes (the backend misbehaves: S3 500 InternalError).
	ErrBackendID = errors.New("uploadid: backend upload id empty or longer than 512 bytes")
)

// Owner is who an upload id belongs to.
type Owner struct {
	Route   string // the route (bucket) name
	Key     []byte // the object key as stored upstream (after key_prefix and key template)
	Subject string // the authenticated subject; empty for anonymous routes
}

// Seal appends to dst the token for backendID, owned by o and valid until
// expires. backendID and o must not overlap dst's spare capacity.
func Seal(dst []byte, s *seal.Sealer, backendID []byte, o *Owner, expires time.Time) ([]byte, error) {
	if len(backendID) == 0 || len(backendID) > MaxBackendID {
		return dst, ErrBackendID
	}
	var buf [expiryLen + MaxBackendID]byte
	binary.BigEndian.PutUint64(buf[:], uint64(expires.Unix()))
	n := copy(buf[expiryLen:], backendID)
	base := len(dst)
	dst = appendAD(dst, o)
	ad := dst[base:]
	// The token is sealed after the additional data, then moved down over
	// it (copy handles the overlap).
	out := s.Seal(dst, Purpose, buf[:expiryLen+n], ad)
	return append(dst[:base], out[len(dst):]...), nil
}

// Open appends to dst the backend upload id of token if it was sealed for
// exactly o and has not expired at now; otherwise it returns dst unchanged
// and ErrNoSuchUpload. It uses dst's spare capacity as scratch (see the
// package doc for how much avoids allocating).
func Open(dst []byte, s *seal.Sealer, token []byte, o *Owner, now time.Time) ([]byte, error) {
	if len(token) > MaxTokenLen {
		return dst, ErrNoSuchUpload
	}
	base := len(dst)
	dst = appendAD(dst, o)
	out, err := s.Open(dst, Purpose, token, dst[base:])
	if err != nil {
		return dst[:base], ErrNoSuchUpload
	}
	pt := out[len(dst):]
	if len(pt) <= expiryLen || now.Unix() >= int64(binary.BigEndian.Uint64(pt)) {
		return dst[:base], ErrNoSuchUpload
	}
	return append(dst[:base], pt[expiryLen:]...), nil
}

// appendAD appends the additional data binding a token to o: every field
// but the last length-prefixed, so distinct owners never encode alike.
func appendAD(dst []byte, o *Owner) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(o.Route)))
	dst = append(dst, o.Route...)
	dst = binary.AppendUvarint(dst, uint64(len(o.Key)))
	dst = append(dst, o.Key...)
	return append(dst, o.Subject...)
}
