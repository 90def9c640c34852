package engine

import (
	"strconv"
	"unicode/utf8"
)

// s3Error is one S3 error code with its HTTP status. Values are built once;
// a response is appended only on failure.
type s3Error struct {
	Code    string
	Status  int
	Message string
}

var (
	errAccessDenied       = &s3Error{"AccessDenied", 403, "Access Denied: this endpoint accepts uploads only."}
	errMethodNotAllowed   = &s3Error{"MethodNotAllowed", 405, "The specified method is not allowed against this resource."}
	errNotImplemented     = &s3Error{"NotImplemented", 501, "A header or operation you provided implies functionality that is not implemented."}
	errNoSuchBucket       = &s3Error{"NoSuchBucket", 404, "The specified bucket does not exist."}
	errBadRequest         = &s3Error{"BadRequest", 400, "The request could not be parsed."}
	errInvalidArgument    = &s3Error{"InvalidArgument", 400, "Invalid argument."}
	errMissingLength      = &s3Error{"MissingContentLength", 411, "You must provide the Content-Length HTTP header."}
	errEntityTooLarge     = &s3Error{"EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed object size."}
	errHeaderTooLarge     = &s3Error{"RequestHeaderSectionTooLarge", 431, "Your request header section exceeds the maximum allowed size."}
	errURITooLong         = &s3Error{"RequestURITooLong", 414, "Your request line exceeds the maximum allowed size."}
	errVersionUnsupported = &s3Error{"HttpVersionNotSupported", 505, "The HTTP version is not supported."}
	errInternal           = &s3Error{"InternalError", 500, "We encountered an internal error. Please try again."}
	errSlowDown           = &s3Error{"SlowDown", 503, "Please reduce your request rate."}
	errRequestTimeout     = &s3Error{"RequestTimeout", 400, "Your socket connection to the server was not read from or written to within the timeout period."}
	errIncompleteBody     = &s3Error{"IncompleteBody", 400, "You did not provide the number of bytes specified by the Content-Length HTTP header."}
	errStreamingSigned    = &s3Error{"NotImplemented", 501, "SigV4a (ECDSA) signed aws-chunked bodies are not supported; use AWS4-HMAC-SHA256."}
	errUnsupportedTE      = &s3Error{"NotImplemented", 501, "Only Transfer-Encoding: chunked is supported."}
	errChunkedTE          = &s3Error{"NotImplemented", 501, "A chunked body of unknown length is accepted only for PutObject; send Content-Length (or x-amz-decoded-content-length with aws-chunked)."}
	errCopyNotAllowed     = &s3Error{"AccessDenied", 403, "Copying objects is not allowed through this endpoint."}
	errTooManyHeaders     = &s3Error{"InvalidArgument", 400, "Too many metadata and content headers for one object."}
	errUnexpectedBody     = &s3Error{"InvalidRequest", 400, "This operation does not take a request body."}
	errKeyTooLong         = &s3Error{"KeyTooLongError", 400, "Your key is too long."}
)

// backendMessages are the messages returned for backend error codes; other
// codes get a generic message so backend details are never leaked.
var backendMessages = map[string]string{
	"XAmzContentSHA256Mismatch":  "The provided 'x-amz-content-sha256' header does not match what was computed.",
	"BadDigest":                  "The Content-MD5 or checksum you specified did not match what was received.",
	"InvalidDigest":              "The Content-MD5 or checksum you specified is not valid.",
	"PreconditionFailed":         "At least one of the preconditions you specified did not hold.",
	"EntityTooSmall":             "Your proposed upload is smaller than the minimum allowed object size.",
	"EntityTooLarge":             "Your proposed upload exceeds the maximum allowed object size.",
	"InvalidArgument":            "Invalid argument.",
	"InvalidRequest":             "Invalid request.",
	"KeyTooLongError":            "Your key is too long.",
	"NoSuchUpload":               "The specified multipart upload does not exist.",
	"InvalidPart":                "One or more of the specified parts could not be found.",
	"InvalidPartOrder":           "The list of parts was not in ascending order.",
	"SlowDown":                   "Please reduce your request rate.",
	"ServiceUnavailable":         "Please reduce your request rate.",
	"InternalError":              "We encountered an internal error. Please try again.",
	"MissingContentLength":       "You must provide the Content-Length HTTP header.",
	"IncompleteBody":             "You did not provide the number of bytes specified by the Content-Length HTTP header.",
	"ConditionalRequestConflict": "A conflicting operation occurred.",
	"MalformedXML":               "The XML you provided was not well-formed or did not validate against our published schema.",
	"NoSuchKey":                  "The specified key does not exist.",
	"NotFound":                   "Not Found",
}

var statusText = map[int]string{
	200: "OK", 204: "No Content", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
	404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 411: "Length Required",
	412: "Precondition Failed", 413: "Content Too Large", 414: "URI Too Long", 416: "Range Not Satisfiable",
	431: "Request Header Fields Too Large", 500: "Internal Server Error", 501: "Not Implemented",
	502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout", 505: "HTTP Version Not Supported",
}

func appendStatusLine(dst []byte, status int) []byte {
	if status >= 0 && status < len(statusLines) && statusLines[status] != "" {
		return append(dst, statusLines[status]...) // statusline.go
	}
	return appendStatusLineSlow(dst, status)
}

func appendStatusLineSlow(dst []byte, status int) []byte {
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, ' ')
	if t, ok := statusText[status]; ok {
		dst = append(dst, t...)
	} else {
		dst = append(dst, "Status"...)
	}
	return append(dst, "\r\n"...)
}

// appendErrorResponse appends a complete S3 XML error response. resource is
// the request path as the client sent it (may be nil).
func appendErrorResponse(dst []byte, code string, status int, msg string, reqID []byte, resource []byte, closeConn bool) []byte {
	return appendErrorResponseX(dst, code, status, msg, reqID, resource, closeConn, nil, nil)
}

// appendErrorResponseX is appendErrorResponse with extra header lines
// ("Name: value\r\n" each: WWW-Authenticate, CORS) and extra XML elements
// (already escaped) placed before <RequestId>.
func appendErrorResponseX(dst []byte, code string, status int, msg string, reqID []byte, resource []byte, closeConn bool, hdrs []byte, xml []byte) []byte {
	return appendErrorResponseAs(dst, false, code, status, msg, reqID, resource, closeConn, hdrs, xml)
}

// appendErrorResponseAs is appendErrorResponseX answering with JSON when
// asJSON is set: the client's Accept header prefers it (s3err_json.go).
func appendErrorResponseAs(dst []byte, asJSON bool, code string, status int, msg string, reqID []byte, resource []byte, closeConn bool, hdrs []byte, xml []byte) []byte {
	var body [1024]byte
	if asJSON {
		b := appendErrorJSON(body[:0], code, msg, reqID, resource, xml)
		return appendErrorHead(dst, status, reqID, "application/json", b, closeConn, hdrs)
	}
	b := append(body[:0], `<?xml version="1.0" encoding="UTF-8"?>`+"\n<Error><Code>"...)
	b = appendXMLEscaped(b, code)
	b = append(b, "</Code><Message>"...)
	b = appendXMLEscaped(b, msg)
	b = append(b, "</Message>"...)
	if len(resource) > 0 && len(resource) < 512 {
		b = append(b, "<Resource>"...)
		b = appendXMLEscaped(b, resource)
		b = append(b, "</Resource>"...)
	}
	b = append(b, xml...)
	b = append(b, "<RequestId>"...)
	b = append(b, reqID...)
	b = append(b, "</RequestId></Error>"...)
	return appendErrorHead(dst, status, reqID, "application/xml", b, closeConn, hdrs)
}

// appendErrorHead appends the head of an error response and its body b.
func appendErrorHead(dst []byte, status int, reqID []byte, ctype string, b []byte, closeConn bool, hdrs []byte) []byte {
	dst = appendStatusLine(dst, status)
	dst = append(dst, "x-amz-request-id: "...)
	dst = append(dst, reqID...)
	dst = append(dst, "\r\nContent-Type: "...)
	dst = append(dst, ctype...)
	dst = append(dst, "\r\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(b)), 10)
	dst = append(dst, "\r\n"...)
	dst = append(dst, hdrs...)
	dst = appendDate(dst)
	if closeConn {
		dst = append(dst, "Connection: close\r\n"...)
	}
	dst = append(dst, "\r\n"...)
	return append(dst, b...)
}

// withoutBody cuts the body off a response built by appendErrorResponse
// (for HEAD requests, whose responses carry headers only).
func withoutBody(resp []byte) []byte {
	for i := 3; i < len(resp); i++ {
		if resp[i] == '\n' && resp[i-1] == '\r' && resp[i-2] == '\n' && resp[i-3] == '\r' {
			return resp[:i+1]
		}
	}
	return resp
}

func appendXMLEscaped[T string | []byte](dst []byte, s T) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '<':
			dst = append(dst, "&lt;"...)
		case '>':
			dst = append(dst, "&gt;"...)
		case '&':
			dst = append(dst, "&amp;"...)
		case '"':
			dst = append(dst, "&quot;"...)
		case '\'':
			dst = append(dst, "&apos;"...)
		default:
			switch {
			case c < 0x20 && c != '\n' && c != '\t':
				dst = append(dst, '?')
			case c >= utf8.RuneSelf:
				// Invalid UTF-8 (a Host field's obs-text, say) and the
				// non-characters U+FFFE and U+FFFF have no place in XML.
				r, n := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
				if r == utf8.RuneError && n <= 1 || r == 0xfffe || r == 0xffff {
					dst = append(dst, '?')
					i += n - 1
					continue
				}
				for j := i; j < i+n; j++ {
					dst = append(dst, s[j])
				}
				i += n - 1
			default:
				dst = append(dst, c)
			}
		}
	}
	return dst
}
