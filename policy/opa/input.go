package opa

import (
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/mizuchi-gw/mizuchi/policy"
)

// Keys of the input document and the values every request repeats
// (actions, auth methods, HTTP methods), built once. ast.String terms are
// immutable, and terms in an input value are only read by evaluation, so
// they are shared by every request (as OPA shares its interned terms).
var (
	kSubject       = ast.StringTerm("subject")
	kAuth          = ast.StringTerm("auth")
	kAccessKey     = ast.StringTerm("access_key")
	kRole          = ast.StringTerm("role")
	kClaims        = ast.StringTerm("claims")
	kAction        = ast.StringTerm("action")
	kBucket        = ast.StringTerm("bucket")
	kKey           = ast.StringTerm("key")
	kContentLength = ast.StringTerm("content_length")
	kContentType   = ast.StringTerm("content_type")
	kPartNumber    = ast.StringTerm("part_number")
	kUploadID      = ast.StringTerm("upload_id")
	kSourceIP      = ast.StringTerm("source_ip")
	kMethod        = ast.StringTerm("method")
	kPath          = ast.StringTerm("path")
	kHeaders       = ast.StringTerm("headers")

	common = func() map[string]*ast.Term {
		m := map[string]*ast.Term{}
		for _, s := range policy.Actions {
			m[s] = ast.StringTerm(s)
		}
		for _, s := range []string{"", policy.AuthSigV4, policy.AuthJWT, policy.AuthSTS, policy.AuthNone, "PUT", "POST", "HEAD", "GET", "DELETE"} {
			m[s] = ast.StringTerm(s)
		}
		return m
	}()
)

// inputTerms allocates the terms of one input value together: most inputs
// need fewer than len(ts).
type inputTerms struct {
	ts [16]ast.Term
	n  int
}

// str returns s as a string term, with each byte of invalid UTF-8
// replaced by U+FFFD as encoding/json (and so AppendJSON) does.
func (a *inputTerms) str(s string) *ast.Term {
	if t, ok := common[s]; ok {
		return t
	}
	if !utf8.ValidString(s) {
		s = validUTF8(s)
	}
	if a.n == len(a.ts) {
		return ast.StringTerm(s)
	}
	t := &a.ts[a.n]
	a.n++
	t.Value = ast.String(s)
	return t
}

// inputValue returns in as the OPA value of the document in.AppendJSON
// encodes: the same keys, present under the same conditions. The object is
// built in one call (ast.NewObject allocates its elements as one block).
func inputValue(in *policy.Input) ast.Value {
	a := &inputTerms{}
	var buf [16][2]*ast.Term
	kv := append(buf[:0],
		[2]*ast.Term{kSubject, a.str(in.Subject)},
		[2]*ast.Term{kAuth, a.str(in.Auth)})
	if in.Auth == policy.AuthSigV4 || in.Auth == policy.AuthSTS {
		kv = append(kv, [2]*ast.Term{kAccessKey, a.str(in.AccessKey)})
	}
	if in.Auth == policy.AuthSTS {
		kv = append(kv, [2]*ast.Term{kRole, a.str(in.Role)})
	}
	if in.Auth == policy.AuthJWT || in.Auth == policy.AuthSTS {
		kv = append(kv, [2]*ast.Term{kClaims, ast.NewTerm(claimsValue(in.Claims))})
	}
	kv = append(kv,
		[2]*ast.Term{kAction, a.str(in.Action)},
		[2]*ast.Term{kBucket, a.str(in.Bucket)},
		[2]*ast.Term{kKey, a.str(in.Key)},
		[2]*ast.Term{kContentLength, ast.InternedTerm(in.ContentLength)},
		[2]*ast.Term{kContentType, a.str(in.ContentType)})
	if in.PartNumber > 0 {
		kv = append(kv, [2]*ast.Term{kPartNumber, ast.InternedTerm(in.PartNumber)})
	}
	if in.UploadID != "" {
		kv = append(kv, [2]*ast.Term{kUploadID, a.str(in.UploadID)})
	}
	kv = append(kv,
		[2]*ast.Term{kSourceIP, a.str(in.SourceIP)},
		[2]*ast.Term{kMethod, a.str(in.Method)},
		[2]*ast.Term{kPath, a.str(in.Path)},
		[2]*ast.Term{kHeaders, ast.NewTerm(headersValue(a, in.Headers))})
	return ast.NewObject(kv...)
}

// headersValue returns the headers object.
func headersValue(a *inputTerms, h map[string]string) ast.Value {
	if len(h) == 0 {
		return ast.NewObject()
	}
	kv := make([][2]*ast.Term, 0, len(h))
	for k, v := range h {
		kv = append(kv, [2]*ast.Term{a.str(k), a.str(v)})
	}
	return ast.NewObject(kv...)
}

// claimsValue converts verified JWT claims; claims OPA cannot represent
// give an empty object, as AppendJSON writes {} for claims it cannot
// marshal.
func claimsValue(c map[string]any) ast.Value {
	if c == nil {
		return ast.NewObject()
	}
	v, err := ast.InterfaceToValue(c)
	if err != nil {
		return ast.NewObject()
	}
	return v
}

// validUTF8 replaces each byte of invalid UTF-8 in s by U+FFFD.
func validUTF8(s string) string {
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return string(b)
}
