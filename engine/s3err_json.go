package engine

import (
	"bytes"

	"github.com/mizuchi-gw/mizuchi/engine/accesslog"
)

// S3 errors as JSON, for browsers. The XML error stays the default; a
// request whose Accept header prefers application/json gets the same
// fields as a JSON object with Content-Type: application/json:
//
//	{"Code":"AccessDenied","Message":"…","Resource":"…","RequestId":"…"}
//
// The preference is read on the loop while the head is in gnet's buffer
// (prefersJSON, no allocation) and kept as one bit with the request
// (loopScratch.acc.json, exchange.acc.json). STS answers keep their own
// XML (AWS STS has no JSON form on this API).

// prefersJSON reports whether an Accept header value ranks
// application/json above the XML types: application/json must be listed
// with q > 0 and a q above application/xml's and text/xml's (a tie keeps
// XML). Wildcards (*/*, application/*) never select JSON.
func prefersJSON(accept []byte) bool {
	if len(accept) == 0 {
		return false
	}
	qJSON, qXML := -1, 0
	for len(accept) > 0 {
		var item []byte
		if i := bytes.IndexByte(accept, ','); i >= 0 {
			item, accept = accept[:i], accept[i+1:]
		} else {
			item, accept = accept, nil
		}
		mt, params := item, []byte(nil)
		if i := bytes.IndexByte(item, ';'); i >= 0 {
			mt, params = item[:i], item[i+1:]
		}
		mt = bytes.TrimSpace(mt)
		q := acceptQ(params)
		switch {
		case eqFoldASCII(mt, "application/json"):
			qJSON = max(qJSON, q)
		case eqFoldASCII(mt, "application/xml"), eqFoldASCII(mt, "text/xml"):
			qXML = max(qXML, q)
		}
	}
	return qJSON > 0 && qJSON > qXML
}

// acceptQ returns the q parameter of a media range in thousandths (1000
// when absent; 0 for a malformed one).
func acceptQ(params []byte) int {
	for len(params) > 0 {
		var p []byte
		if i := bytes.IndexByte(params, ';'); i >= 0 {
			p, params = params[:i], params[i+1:]
		} else {
			p, params = params, nil
		}
		p = bytes.TrimSpace(p)
		if len(p) < 2 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=' {
			continue
		}
		v := p[2:]
		if len(v) == 0 || (v[0] != '0' && v[0] != '1') {
			return 0
		}
		n := int(v[0]-'0') * 1000
		if len(v) > 1 {
			if v[1] != '.' || len(v) > 5 {
				return 0
			}
			scale := 100
			for _, c := range v[2:] {
				if c < '0' || c > '9' {
					return 0
				}
				n += int(c-'0') * scale
				scale /= 10
			}
		}
		if n > 1000 {
			return 0 // above 1: malformed
		}
		return n
	}
	return 1000
}

// appendErrorJSON appends the JSON error body: the fields of the XML
// error, the extra elements (xml, already XML-escaped "<Name>text</Name>"
// runs such as SignatureDoesNotMatch's details) included.
func appendErrorJSON(b []byte, code, msg string, reqID, resource, xml []byte) []byte {
	b = append(b, `{"Code":`...)
	b = accesslog.AppendJSONString(b, code)
	b = append(b, `,"Message":`...)
	b = accesslog.AppendJSONString(b, msg)
	if len(resource) > 0 && len(resource) < 512 {
		b = append(b, `,"Resource":`...)
		b = accesslog.AppendJSONString(b, resource)
	}
	for len(xml) > 0 {
		name, text, rest, ok := nextXMLElem(xml)
		if !ok {
			break
		}
		xml = rest
		b = append(b, ',')
		b = accesslog.AppendJSONString(b, name)
		b = append(b, ':')
		var tmp [512]byte
		b = accesslog.AppendJSONString(b, unescapeXMLInto(tmp[:0], text))
	}
	b = append(b, `,"RequestId":`...)
	b = accesslog.AppendJSONString(b, reqID)
	return append(b, '}')
}

// nextXMLElem splits "<Name>text</Name>rest" (no attributes, no nesting).
func nextXMLElem(x []byte) (name, text, rest []byte, ok bool) {
	if len(x) < 3 || x[0] != '<' {
		return nil, nil, nil, false
	}
	end := bytes.IndexByte(x, '>')
	if end < 2 {
		return nil, nil, nil, false
	}
	name = x[1:end]
	x = x[end+1:]
	closeAt := bytes.Index(x, []byte("</"))
	if closeAt < 0 || !bytes.HasPrefix(x[closeAt+2:], name) || len(x) < closeAt+3+len(name) || x[closeAt+2+len(name)] != '>' {
		return nil, nil, nil, false
	}
	return name, x[:closeAt], x[closeAt+3+len(name):], true
}

// unescapeXMLInto undoes appendXMLEscaped.
func unescapeXMLInto(dst, s []byte) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] != '&' {
			dst = append(dst, s[i])
			continue
		}
		rest := s[i:]
		switch {
		case bytes.HasPrefix(rest, []byte("&lt;")):
			dst, i = append(dst, '<'), i+3
		case bytes.HasPrefix(rest, []byte("&gt;")):
			dst, i = append(dst, '>'), i+3
		case bytes.HasPrefix(rest, []byte("&amp;")):
			dst, i = append(dst, '&'), i+4
		case bytes.HasPrefix(rest, []byte("&quot;")):
			dst, i = append(dst, '"'), i+5
		case bytes.HasPrefix(rest, []byte("&apos;")):
			dst, i = append(dst, '\''), i+5
		default:
			dst = append(dst, '&')
		}
	}
	return dst
}
