package policy

import (
	"encoding/json"
	"sort"
	"strconv"
	"unicode/utf8"
)

// Auth methods of Input.Auth.
const (
	AuthSigV4 = "sigv4"
	AuthJWT   = "jwt"
	AuthNone  = "none"
	// AuthSTS: SigV4 with temporary credentials from the gateway's
	// AssumeRoleWithWebIdentity; Role, AccessKey and Claims are set.
	AuthSTS = "sts"
)

// Input is the decision input of one request, the same for every
// authorization engine. Its JSON form (AppendJSON) is a public contract,
// documented in docs/AUTHORIZATION.md: the field names never change.
//
// Input never holds a secret, a signature or a token: Headers carries only
// the headers named by InputHeader.
type Input struct {
	Subject       string            // identity: SigV4 credential subject, JWT subject claim, or the STS session's subject
	Auth          string            // AuthSigV4, AuthJWT, AuthSTS or AuthNone
	AccessKey     string            // SigV4 and STS (the session's ASIA… id)
	Role          string            // STS only: the assumed role's ARN
	Claims        map[string]any    // JWT: the verified claims; STS: the session's claims (shared: never modified)
	Action        string            // "s3:PutObject", … (see Actions)
	Bucket        string            // the route name the client addressed
	Key           string            // the client's key, decoded, before any prefix or template
	ContentLength int64             // decoded length; -1 unknown
	ContentType   string            // Content-Type, or ""
	PartNumber    int               // UploadPart only; 0 otherwise
	UploadID      string            // multipart calls after Create, as the client sent it
	SourceIP      string            // client address without port
	Method        string            // HTTP method
	Path          string            // request path as sent (still percent-encoded), no query
	Headers       map[string]string // lower-case names; see InputHeader
}

// Actions are the values of Input.Action.
var Actions = []string{
	"s3:PutObject", "s3:CreateMultipartUpload", "s3:UploadPart",
	"s3:CompleteMultipartUpload", "s3:AbortMultipartUpload", "s3:ListParts",
	"s3:HeadObject",
}

// InputHeader reports whether a request header (lower-case name) belongs in
// Input.Headers: x-amz-meta-*, x-amz-tagging, x-amz-acl, x-amz-storage-class
// and content-* other than content-length (which is Input.ContentLength).
// Authorization, tokens, cookies and every other header never do.
func InputHeader(lower []byte) bool {
	s := string(lower)
	switch s {
	case "x-amz-tagging", "x-amz-acl", "x-amz-storage-class":
		return true
	}
	return hasPrefix(s, "x-amz-meta-") || (hasPrefix(s, "content-") && s != "content-length")
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

// AppendJSON appends the JSON form of in to dst. The output is canonical
// (fields in a fixed order, header and claim names sorted), so equal inputs
// give equal bytes: decision caches key on it. part_number appears only
// when set, upload_id only when not empty, access_key only for SigV4 and
// STS, role only for STS and claims only for JWT and STS.
func (in *Input) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"subject":`...)
	dst = appendJSONString(dst, in.Subject)
	dst = append(dst, `,"auth":`...)
	dst = appendJSONString(dst, in.Auth)
	if in.Auth == AuthSigV4 || in.Auth == AuthSTS {
		dst = append(dst, `,"access_key":`...)
		dst = appendJSONString(dst, in.AccessKey)
	}
	if in.Auth == AuthSTS {
		dst = append(dst, `,"role":`...)
		dst = appendJSONString(dst, in.Role)
	}
	if in.Auth == AuthJWT || in.Auth == AuthSTS {
		dst = append(dst, `,"claims":`...)
		b, err := json.Marshal(in.Claims) // map keys sorted by encoding/json
		if err != nil || in.Claims == nil {
			b = []byte("{}")
		}
		dst = append(dst, b...)
	}
	dst = append(dst, `,"action":`...)
	dst = appendJSONString(dst, in.Action)
	dst = append(dst, `,"bucket":`...)
	dst = appendJSONString(dst, in.Bucket)
	dst = append(dst, `,"key":`...)
	dst = appendJSONString(dst, in.Key)
	dst = append(dst, `,"content_length":`...)
	dst = strconv.AppendInt(dst, in.ContentLength, 10)
	dst = append(dst, `,"content_type":`...)
	dst = appendJSONString(dst, in.ContentType)
	if in.PartNumber > 0 {
		dst = append(dst, `,"part_number":`...)
		dst = strconv.AppendInt(dst, int64(in.PartNumber), 10)
	}
	if in.UploadID != "" {
		dst = append(dst, `,"upload_id":`...)
		dst = appendJSONString(dst, in.UploadID)
	}
	dst = append(dst, `,"source_ip":`...)
	dst = appendJSONString(dst, in.SourceIP)
	dst = append(dst, `,"method":`...)
	dst = appendJSONString(dst, in.Method)
	dst = append(dst, `,"path":`...)
	dst = appendJSONString(dst, in.Path)
	dst = append(dst, `,"headers":{`...)
	names := make([]string, 0, len(in.Headers))
	for k := range in.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for i, k := range names {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, k)
		dst = append(dst, ':')
		dst = appendJSONString(dst, in.Headers[k])
	}
	return append(dst, "}}"...)
}

// Map returns in as the generic JSON value that AppendJSON encodes
// (map[string]any with json.Number-free plain values), for engines that
// take Go values.
func (in *Input) Map() map[string]any {
	m := map[string]any{
		"subject":        in.Subject,
		"auth":           in.Auth,
		"action":         in.Action,
		"bucket":         in.Bucket,
		"key":            in.Key,
		"content_length": in.ContentLength,
		"content_type":   in.ContentType,
		"source_ip":      in.SourceIP,
		"method":         in.Method,
		"path":           in.Path,
	}
	if in.Auth == AuthSigV4 || in.Auth == AuthSTS {
		m["access_key"] = in.AccessKey
	}
	if in.Auth == AuthSTS {
		m["role"] = in.Role
	}
	if in.Auth == AuthJWT || in.Auth == AuthSTS {
		c := in.Claims
		if c == nil {
			c = map[string]any{}
		}
		m["claims"] = c
	}
	if in.PartNumber > 0 {
		m["part_number"] = in.PartNumber
	}
	if in.UploadID != "" {
		m["upload_id"] = in.UploadID
	}
	h := make(map[string]any, len(in.Headers))
	for k, v := range in.Headers {
		h[k] = v
	}
	m["headers"] = h
	return m
}

// appendJSONString appends s as a JSON string, escaped as encoding/json
// escapes it (control characters, quote, backslash, and <, >, & for HTML
// safety; U+2028 and U+2029); invalid UTF-8 becomes U+FFFD. It does not
// allocate when dst has room.
func appendJSONString(dst []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
