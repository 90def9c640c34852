package accesslog

import "unicode/utf8"

// AppendJSON appends r as one JSON object and a newline. Every field is
// present (empty strings and zeros included), so consumers see one schema.
func AppendJSON(dst []byte, r *Record) []byte {
	dst = append(dst, `{"time":"`...)
	dst = r.Time.UTC().AppendFormat(dst, timeLayout)
	dst = append(dst, `","id":`...)
	dst = AppendJSONString(dst, r.ID)
	dst = append(dst, `,"client":"`...)
	if r.Client.IsValid() {
		dst = r.Client.AppendTo(dst)
	}
	dst = append(dst, '"')
	dst = append(dst, `,"method":`...)
	dst = AppendJSONString(dst, r.Method)
	dst = append(dst, `,"path":`...)
	dst = AppendJSONString(dst, r.Path)
	dst = append(dst, `,"route":`...)
	dst = AppendJSONString(dst, r.Route)
	dst = append(dst, `,"op":`...)
	dst = AppendJSONString(dst, r.Op)
	dst = append(dst, `,"status":`...)
	dst = appendInt(dst, int64(r.Status))
	dst = append(dst, `,"code":`...)
	dst = AppendJSONString(dst, r.Code)
	dst = append(dst, `,"bytes_in":`...)
	dst = appendInt(dst, r.BytesIn)
	dst = append(dst, `,"dur_ms":`...)
	dst = appendDurationMS(dst, r.Duration)
	dst = append(dst, `,"body":`...)
	dst = AppendJSONString(dst, r.Body)
	dst = append(dst, `,"upstream":`...)
	dst = appendInt(dst, int64(r.Upstream))
	dst = append(dst, `,"auth":`...)
	dst = AppendJSONString(dst, r.Auth)
	dst = append(dst, `,"subject":`...)
	dst = AppendJSONString(dst, r.Subject)
	dst = append(dst, `,"role":`...)
	dst = AppendJSONString(dst, r.Role)
	dst = append(dst, `,"access_key":`...)
	dst = AppendJSONString(dst, r.AccessKey)
	dst = append(dst, `,"authz":`...)
	dst = AppendJSONString(dst, r.Authz)
	dst = append(dst, `,"reason":`...)
	dst = AppendJSONString(dst, r.Reason)
	return append(dst, "}\n"...)
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s quoted as a JSON string. Invalid UTF-8 becomes
// U+FFFD, so the output stays valid JSON whatever the client sent.
func AppendJSONString[T string | []byte](dst []byte, s T) []byte {
	return appendQuoted(dst, s, `\u00`)
}

// appendQuoted appends s in double quotes: '"' and '\\' escaped, \n \r \t
// as such, other control bytes as ctrl and two hex digits (JSON's \u00XX,
// logfmt's \xXX), invalid UTF-8 as \ufffd (valid in both formats).
func appendQuoted[T string | []byte](dst []byte, s T, ctrl string) []byte {
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
			dst = append(dst, ctrl...)
			dst = append(dst, hexDigits[c>>4], hexDigits[c&0xf])
		default:
			dst = append(dst, c)
		}
		i++
	}
	return append(dst, '"')
}
