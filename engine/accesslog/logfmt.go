package accesslog

import "unicode/utf8"

// AppendLogfmt appends r as one logfmt line (key=value pairs separated by
// spaces) and a newline. Empty strings are left out; numbers are always
// written. A line starts as log/slog's text lines do ("time=…
// level=INFO msg=request"), so what reads the process log on stderr reads
// access lines there too. The keys and their order match the JSON format, so
// "route=... op=... status=..." and "auth=... subject=... role=..." are
// runs a grep can rely on.
func AppendLogfmt(dst []byte, r *Record) []byte {
	dst = append(dst, "time="...)
	dst = r.Time.UTC().AppendFormat(dst, timeLayout)
	dst = append(dst, " level=INFO msg=request"...)
	dst = appendPair(dst, "id", r.ID)
	if r.Client.IsValid() {
		dst = append(dst, " client="...)
		dst = r.Client.AppendTo(dst)
	}
	dst = appendPair(dst, "method", r.Method)
	dst = appendPair(dst, "path", r.Path)
	dst = appendPair(dst, "route", r.Route)
	dst = appendPair(dst, "op", r.Op)
	dst = append(dst, " status="...)
	dst = appendInt(dst, int64(r.Status))
	dst = appendPair(dst, "code", r.Code)
	dst = append(dst, " bytes_in="...)
	dst = appendInt(dst, r.BytesIn)
	dst = append(dst, " dur_ms="...)
	dst = appendDurationMS(dst, r.Duration)
	dst = appendPair(dst, "body", r.Body)
	dst = append(dst, " upstream="...)
	dst = appendInt(dst, int64(r.Upstream))
	dst = appendPair(dst, "auth", r.Auth)
	dst = appendPair(dst, "subject", r.Subject)
	dst = appendPair(dst, "role", r.Role)
	dst = appendPair(dst, "access_key", r.AccessKey)
	dst = appendPair(dst, "authz", r.Authz)
	dst = appendPair(dst, "reason", r.Reason)
	return append(dst, '\n')
}

// appendPair appends " key=value", or nothing for an empty value.
func appendPair[T string | []byte](dst []byte, key string, v T) []byte {
	if len(v) == 0 {
		return dst
	}
	dst = append(dst, ' ')
	dst = append(dst, key...)
	dst = append(dst, '=')
	return appendLogfmtValue(dst, v)
}

// appendLogfmtValue appends v bare when it has no space, '=', '"', control
// byte or invalid UTF-8, and otherwise quoted with Go-style escapes.
func appendLogfmtValue[T string | []byte](dst []byte, v T) []byte {
	if !needsQuote(v) {
		return append(dst, v...)
	}
	return appendQuoted(dst, v, `\x`)
}

func needsQuote[T string | []byte](v T) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c <= ' ' || c == '=' || c == '"' || c == '\\' || c == 0x7f {
			return true
		}
		if c >= utf8.RuneSelf {
			size := runeLen(v[i:])
			if size == 0 {
				return true
			}
			i += size - 1
		}
	}
	return false
}
