package accesslog

import "unicode/utf8"

// AppendJSON appends r as one JSON object and a newline. Every field is
// present (empty strings and zeros included), so consumers see one schema.
func AppendJSON(dst []byte, r *Record) []byte {
	dst = append(dst, `{"time":"`...)
	dst = r.Time.UTC().AppendFormat(dst, timeLayout)
	dst = append(dst, `","id":`...)
	dst = appendJSONString(dst, r.ID)
	dst = append(dst, `,"client":`...)
	dst = appendJSONString(dst, r.Client)
	dst = append(dst, `,"method":`...)
	dst = appendJSONString(dst, r.Method)
	dst = append(dst, `,"path":`...)
	dst = appendJSONString(dst, r.Path)
	dst = append(dst, `,"route":`...)
	dst = appendJSONString(dst, r.Route)
	dst = append(dst, `,"op":`...)
	dst = appendJSONString(dst, r.Op)
	dst = append(dst, `,"status":`...)
	dst = appendInt(dst, int64(r.Status))
	dst = append(dst, `,"code":`...)
	dst = appendJSONString(dst, r.Code)
	dst = append(dst, `,"bytes_in":`...)
	dst = appendInt(dst, r.BytesIn)
	dst = append(dst, `,"dur_ms":`...)
	dst = appendDurationMS(dst, r.Duration)
	dst = append(dst, `,"body":`...)
	dst = appendJSONString(dst, r.Body)
	dst = append(dst, `,"upstream":`...)
	dst = appendInt(dst, int64(r.Upstream))
	dst = append(dst, `,"auth":`...)
	dst = appendJSONString(dst, r.Auth)
	dst = append(dst, `,"subject":`...)
	dst = appendJSONString(dst, r.Subject)
	dst = append(dst, `,"role":`...)
	dst = appendJSONString(dst, r.Role)
	dst = append(dst, `,"access_key":`...)
	dst = appendJSONString(dst, r.AccessKey)
	dst = append(dst, `,"authz":`...)
	dst = appendJSONString(dst, r.Authz)
	dst = append(dst, `,"reason":`...)
	dst = appendJSONString(dst, r.Reason)
	return append(dst, "}\n"...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s quoted as a JSON string. Invalid UTF-8 becomes
// U+FFFD, so the line stays valid JSON whatever the client sent.
func appendJSONString[T string | []byte](dst []byte, s T) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			size := runeLen(s[i:])
			if size == 0 {
				dst = append(dst, `\ufffd`...)
				i++
				continue
			}
			dst = append(dst, s[i:i+size]...)
			i += size
			continue
		}
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, `\n`...)
		case c == '\r':
			dst = append(dst, `\r`...)
		case c == '\t':
			dst = append(dst, `\t`...)
		case c < 0x20 || c == 0x7f:
			dst = append(dst, `\u00`...)
			dst = append(dst, hexDigits[c>>4], hexDigits[c&0xf])
		default:
			dst = append(dst, c)
		}
		i++
	}
	return append(dst, '"')
}
