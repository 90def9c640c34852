package sts

import (
	"time"
	"unicode/utf8"
)

// ContentType is the media type of every STS answer, as AWS sends it.
const ContentType = "text/xml"

const xmlns = `xmlns="https://sts.amazonaws.com/doc/2011-06-15/"`

// AppendResponseXML appends the AssumeRoleWithWebIdentity answer for c, in
// the shape AWS STS sends (answered with status 200 and ContentType).
func AppendResponseXML(dst []byte, c *Credentials, requestID []byte) []byte {
	dst = append(dst, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"...)
	dst = append(dst, "<AssumeRoleWithWebIdentityResponse "+xmlns+"><AssumeRoleWithWebIdentityResult><Credentials>"...)
	dst = appendElement(dst, "AccessKeyId", c.AccessKeyID)
	dst = appendElement(dst, "SecretAccessKey", c.SecretAccessKey)
	dst = appendElement(dst, "SessionToken", c.SessionToken)
	dst = append(dst, "<Expiration>"...)
	dst = c.Expiration.UTC().AppendFormat(dst, time.RFC3339)
	dst = append(dst, "</Expiration></Credentials>"...)
	dst = appendElement(dst, "SubjectFromWebIdentityToken", c.Subject)
	dst = append(dst, "<AssumedRoleUser>"...)
	dst = appendElement(dst, "AssumedRoleId", c.AssumedRoleID)
	dst = appendElement(dst, "Arn", c.AssumedRoleARN)
	dst = append(dst, "</AssumedRoleUser>"...)
	if c.Provider != "" {
		dst = appendElement(dst, "Provider", c.Provider)
	}
	if c.Audience != "" {
		dst = appendElement(dst, "Audience", c.Audience)
	}
	dst = append(dst, "</AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>"...)
	dst = appendEscaped(dst, string(requestID))
	return append(dst, "</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>"...)
}

// AppendErrorXML appends AWS STS's ErrorResponse for e (answered with
// e.Status and ContentType). Type is Sender for 4xx, Receiver otherwise.
func AppendErrorXML(dst []byte, e *Error, requestID []byte) []byte {
	typ := "Sender"
	if e.Status >= 500 {
		typ = "Receiver"
	}
	dst = append(dst, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"...)
	dst = append(dst, "<ErrorResponse "+xmlns+"><Error><Type>"+typ+"</Type>"...)
	dst = appendElement(dst, "Code", e.Code)
	dst = appendElement(dst, "Message", e.Message)
	dst = append(dst, "</Error><RequestId>"...)
	dst = appendEscaped(dst, string(requestID))
	return append(dst, "</RequestId></ErrorResponse>"...)
}

func appendElement(dst []byte, name, value string) []byte {
	dst = append(dst, '<')
	dst = append(dst, name...)
	dst = append(dst, '>')
	dst = appendEscaped(dst, value)
	dst = append(dst, "</"...)
	dst = append(dst, name...)
	return append(dst, '>')
}

// appendEscaped appends s as XML character data. Characters XML 1.0 cannot
// carry at all, even as references (C0 controls but tab, LF and CR;
// U+FFFE, U+FFFF; invalid UTF-8), become U+FFFD, so that every parser
// accepts the document; CR is written as &#13; so it survives
// end-of-line normalization.
func appendEscaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '<':
				dst = append(dst, "&lt;"...)
			case c == '>':
				dst = append(dst, "&gt;"...)
			case c == '&':
				dst = append(dst, "&amp;"...)
			case c == '"':
				dst = append(dst, "&quot;"...)
			case c == '\'':
				dst = append(dst, "&apos;"...)
			case c == '\r':
				dst = append(dst, "&#13;"...)
			case c < 0x20 && c != '\t' && c != '\n':
				dst = append(dst, "\uFFFD"...)
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || r == 0xFFFE || r == 0xFFFF {
			dst = append(dst, "\uFFFD"...)
		} else {
			dst = append(dst, s[i:i+n]...)
		}
		i += n
	}
	return dst
}
