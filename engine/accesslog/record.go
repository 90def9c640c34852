package accesslog

import (
	"net/netip"
	"time"
)

// Record is one request as the access log sees it. Byte slices may be
// views into a connection's read buffer: Log copies what it needs before it
// returns.
type Record struct {
	Time      time.Time     // when the answer was made
	ID        []byte        // the request id (x-amz-request-id)
	Client    netip.Addr    // the client's address (no port); invalid: unknown
	Method    []byte        // the request method; empty for an unparsable head
	Path      []byte        // the raw path, WITHOUT the query string
	Route     string        // the route (bucket) name, "sts", or "" when none matched
	Op        string        // the S3 operation (PutObject, ...), "Unknown" when none
	Status    int           // the status sent to the client
	Code      string        // the S3 error code; "" on success
	BytesIn   int64         // the body length the client declared (-1: chunked of unknown length)
	Duration  time.Duration // from the request's arrival (or its hand-off) to its answer
	Body      string        // how the body moved: "splice", "copy", "loop" or "none"
	Upstream  int           // the backend's status; 0 when the backend was not asked
	Auth      string        // "sigv4", "jwt", "sts" or "" (anonymous or not authenticated)
	Subject   string        // the authenticated identity
	Role      string        // the assumed role of STS credentials
	AccessKey []byte        // the client's access key id (never the secret)
	Authz     string        // the authorization decision: "allow", "deny", "unavailable" or ""
	Reason    string        // why the decision or refusal was made (operators only)
}

// Body paths.
const (
	BodySplice = "splice"
	BodyCopy   = "copy"
	BodyLoop   = "loop"
	BodyNone   = "none"
)

// timeLayout is RFC 3339 with milliseconds, always UTC.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// appendDurationMS appends d in milliseconds with three decimals.
func appendDurationMS(dst []byte, d time.Duration) []byte {
	if d < 0 {
		d = 0
	}
	us := int64(d / time.Microsecond)
	dst = appendInt(dst, us/1000)
	frac := us % 1000
	return append(dst, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
}

func appendInt(dst []byte, n int64) []byte {
	if n < 0 {
		dst = append(dst, '-')
		if n == -n { // math.MinInt64
			return append(dst, "9223372036854775808"...)
		}
		n = -n
	}
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(dst, b[i:]...)
}

// runeLen returns the length of the valid UTF-8 sequence s starts with,
// or 0 when it starts with an invalid one (s[0] >= 0x80).
func runeLen[T string | []byte](s T) int {
	c := s[0]
	var n int
	lo, hi := byte(0x80), byte(0xbf)
	switch {
	case c >= 0xc2 && c <= 0xdf:
		n = 2
	case c == 0xe0:
		n, lo = 3, 0xa0
	case c == 0xed:
		n, hi = 3, 0x9f
	case c >= 0xe1 && c <= 0xef:
		n = 3
	case c == 0xf0:
		n, lo = 4, 0x90
	case c >= 0xf1 && c <= 0xf3:
		n = 4
	case c == 0xf4:
		n, hi = 4, 0x8f
	default:
		return 0
	}
	if len(s) < n || s[1] < lo || s[1] > hi {
		return 0
	}
	for i := 2; i < n; i++ {
		if s[i] < 0x80 || s[i] > 0xbf {
			return 0
		}
	}
	return n
}
