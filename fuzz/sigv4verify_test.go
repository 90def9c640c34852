package fuzz

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/mizuchi-gw/mizuchi/sigv4"
)

// FuzzVerify builds a request from the fuzz input (method, object key,
// query, one header with two values), signs it with aws-sdk-go-v2 (SignHTTP
// or PresignHTTP, configured as for S3) and requires sigv4.Verify to accept
// it. Then it replaces one byte of the method, path, query, a signed header
// value, X-Amz-Date or the signature and requires Verify to reject the
// result, unless the change leaves the canonical form S3 verifies
// unchanged, judged independently of sigv4:
//
//   - path: the same bytes after decoding %XX once (S3 re-encodes it);
//   - query: the same net/url.ParseQuery result, sorted (a query net/url
//     cannot parse is a change), not counting X-Amz-Signature;
//   - header: the same values after aws-sdk-go-v2's trimming and space
//     collapsing, joined with ',';
//   - method, X-Amz-Date and the signature: every change is a change.
func FuzzVerify(f *testing.F) {
	f.Add("PUT", "photos/my file.jpg", "x-id=PutObject", "x-amz-meta-a", "  Jane   Doe ", "b", false, uint8(0), uint16(1), byte('x'))
	f.Add("PUT", "photos/my file.jpg", "x-id=PutObject", "x-amz-meta-a", "  Jane   Doe ", "b", true, uint8(1), uint16(12), byte('%'))
	f.Add("POST", "日本語/ファイル", "uploads", "content-type", "text/plain", "", false, uint8(2), uint16(3), byte('+'))
	f.Add("PUT", "a+b%c~d/e!(x)", "partNumber=3&uploadId=abc%2Bdef", "x-amz-checksum-crc32", "NhCmhg==", "x", true, uint8(3), uint16(0x0102), byte(' '))
	f.Add("PUT", "k", "b=2&a=1&a=0&&c=a+b&d=%7e", "X-Amz-Meta-Case", "\tv\t", " w ", false, uint8(4), uint16(7), byte('1'))
	f.Add("DELETE", "k", "uploadId=x%2F%3D", "if-none-match", "*", "", true, uint8(5), uint16(63), byte('0'))
	f.Add("PUT", "k%2Fx", "a=%41", "cache-control", "no-cache", "", true, uint8(2), uint16(40), byte('B'))

	const maxLen = 128
	creds := sigv4.Credentials{AccessKey: "AKIAIOSFODNN7EXAMPLE", SecretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	signTime := time.Date(2024, 3, 7, 9, 5, 1, 0, time.UTC)
	const host, region = "s3.eu-west-1.amazonaws.com", "eu-west-1"
	sdk := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	sdkCreds := aws.Credentials{AccessKeyID: creds.AccessKey, SecretAccessKey: creds.SecretKey}
	cfg := &sigv4.VerifyConfig{Region: region, Keys: sigv4.Keys{creds.AccessKey: {Secret: creds.SecretKey, Subject: "fuzz"}}}
	vf := sigv4.NewVerifier(sigv4.NewKeyCache(4))

	f.Fuzz(func(t *testing.T, method, key, query, hname, hval1, hval2 string, presign bool, field uint8, pos uint16, repl byte) {
		if len(method) > 16 || len(key) > maxLen || len(query) > maxLen || len(hname) > 64 || len(hval1) > maxLen || len(hval2) > maxLen {
			t.Skip("input too large")
		}
		if !validToken(method) {
			t.Skip("net/http cannot carry the method")
		}
		vals, err := url.ParseQuery(query)
		if err != nil {
			t.Skip("the SDK drops query parameters net/url cannot parse")
		}
		for k := range vals {
			if strings.HasPrefix(k, "X-Amz-") {
				t.Skip("the query holds SigV4 parameters of its own")
			}
		}
		lname := strings.ToLower(hname)
		if !validToken(hname) || sdkSpecialHeaders[lname] || lname == "x-amz-content-sha256" || lname == "date" {
			t.Skip("the SDK or S3 treats this header name specially")
		}
		switch lname {
		case "x-amz-algorithm", "x-amz-credential", "x-amz-expires", "x-amz-signedheaders", "x-amz-signature":
			// A presigned request carries these in the query; the SDK would
			// hoist the header there too.
			t.Skip("the header name is a presigned query parameter")
		}
		path := string(sigv4.AppendURIEncode([]byte("/bucket/"), []byte(key), false))

		if presign {
			if query != "" {
				query += "&"
			}
			query += "X-Amz-Expires=900"
		}
		req, err := http.NewRequest(method, "https://"+host+"/", nil)
		if err != nil {
			t.Skip("net/http cannot build the request")
		}
		req.URL.Opaque = "//" + host + path
		req.URL.RawQuery = query
		req.Host = host
		req.Header.Add(hname, hval1)
		req.Header.Add(hname, hval2)
		in := &sigv4.Input{Method: []byte(method), Path: []byte(path), Now: signTime}
		if presign {
			uri, signed, err := sdk.PresignHTTP(context.Background(), sdkCreds, req, "UNSIGNED-PAYLOAD", "s3", region, signTime)
			if err != nil {
				t.Fatalf("sdk PresignHTTP: %s", err)
			}
			_, q, _ := strings.Cut(uri, "?")
			in.Query = []byte(q)
			in.Headers = appendSortedHeaders(in.Headers, signed)
		} else {
			req.Header.Add("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
			if err := sdk.SignHTTP(context.Background(), sdkCreds, req, "UNSIGNED-PAYLOAD", "s3", region, signTime); err != nil {
				t.Fatalf("sdk SignHTTP: %s", err)
			}
			in.Query = []byte(req.URL.RawQuery)
			in.Headers = append(in.Headers, sigv4.Header{Name: []byte("Host"), Value: []byte(host)})
			in.Headers = appendSortedHeaders(in.Headers, req.Header)
		}

		var out sigv4.Verified
		if err := vf.Verify(cfg, in, &out); err != nil {
			t.Fatalf("valid request rejected: %s\nquery %q\nheaders %q\nserver canonical request:\n%s", err, in.Query, in.Headers, vf.CanonicalRequest())
		}

		// Choose the byte to change.
		var target []byte
		var same func() bool // reports whether the change keeps the canonical form
		never := func() bool { return false }
		switch field % 6 {
		case 0:
			target, same = in.Method, never
		case 1:
			orig := pathUnescape(in.Path)
			target = in.Path
			same = func() bool { return bytes.Equal(pathUnescape(in.Path), orig) }
		case 2:
			orig, _ := canonicalQuery(string(in.Query), presign)
			target = in.Query
			same = func() bool {
				c, ok := canonicalQuery(string(in.Query), presign)
				return ok && c == orig
			}
			if presign {
				// A change inside X-Amz-Signature is a signature change.
				i := bytes.Index(in.Query, []byte("X-Amz-Signature="))
				p := int(pos) % len(target)
				if i >= 0 && p >= i && p < i+len("X-Amz-Signature=")+64 {
					same = never
				}
			}
		case 3:
			signed := signedHeaderNames(in, presign)
			var idx []int
			for i, h := range in.Headers {
				if slices.Contains(signed, strings.ToLower(string(h.Name))) && len(h.Value) > 0 {
					idx = append(idx, i)
				}
			}
			if len(idx) == 0 {
				t.Skip("no signed header value to change")
			}
			h := idx[int(pos>>8)%len(idx)]
			name := strings.ToLower(string(in.Headers[h].Name))
			orig := canonicalHeader(in, name)
			target = in.Headers[h].Value
			same = func() bool { return canonicalHeader(in, name) == orig }
		case 4:
			if presign {
				i := bytes.Index(in.Query, []byte("X-Amz-Date="))
				target = in.Query[i+len("X-Amz-Date=") : i+len("X-Amz-Date=")+16]
			} else {
				for _, h := range in.Headers {
					if strings.EqualFold(string(h.Name), "x-amz-date") {
						target = h.Value
					}
				}
			}
			same = never
		case 5:
			if presign {
				i := bytes.Index(in.Query, []byte("X-Amz-Signature="))
				target = in.Query[i+len("X-Amz-Signature=") : i+len("X-Amz-Signature=")+64]
			} else {
				for _, h := range in.Headers {
					if strings.EqualFold(string(h.Name), "authorization") {
						target = h.Value[len(h.Value)-64:]
					}
				}
			}
			same = never
		}
		if len(target) == 0 {
			t.Skip("nothing to change")
		}
		p := int(pos) % len(target)
		if field%6 == 3 {
			p = int(pos&0xff) % len(target)
		}
		old := target[p]
		if repl == old {
			repl = old ^ 1
		}
		target[p] = repl
		err = vf.Verify(cfg, in, &out)
		if keep := same(); keep && err != nil {
			t.Fatalf("field %d byte %d %q->%q keeps the canonical form but was rejected: %s\nserver canonical request:\n%s", field%6, p, old, repl, err, vf.CanonicalRequest())
		} else if !keep && err == nil {
			t.Fatalf("field %d byte %d %q->%q changes the request but was accepted\nquery %q\nheaders %q", field%6, p, old, repl, in.Query, in.Headers)
		}
	})
}

func appendSortedHeaders(dst []sigv4.Header, h http.Header) []sigv4.Header {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			dst = append(dst, sigv4.Header{Name: []byte(k), Value: []byte(v)})
		}
	}
	return dst
}

// pathUnescape decodes every valid %XX once; anything else is literal.
func pathUnescape(p []byte) []byte {
	var out []byte
	for i := 0; i < len(p); i++ {
		if p[i] == '%' && i+2 < len(p) {
			if b, err := strconv.ParseUint(string(p[i+1:i+3]), 16, 8); err == nil {
				out = append(out, byte(b))
				i += 2
				continue
			}
		}
		out = append(out, p[i])
	}
	return out
}

// canonicalQuery is the reference canonical query: net/url's parse, sorted
// by name then value, without X-Amz-Signature for a presigned request
// (which must then appear exactly once).
func canonicalQuery(q string, presign bool) (string, bool) {
	vals, err := url.ParseQuery(q)
	if err != nil {
		return "", false
	}
	if presign {
		if len(vals["X-Amz-Signature"]) != 1 {
			return "", false
		}
		delete(vals, "X-Amz-Signature")
	}
	var pairs []string
	for k, vs := range vals {
		for _, v := range vs {
			pairs = append(pairs, url.QueryEscape(k)+"="+url.QueryEscape(v))
		}
	}
	slices.Sort(pairs)
	return strings.Join(pairs, "&"), true
}

// canonicalHeader is the reference canonical value of header name:
// aws-sdk-go-v2's StripExcessSpaces then strings.TrimSpace per value,
// joined with ','.
func canonicalHeader(in *sigv4.Input, name string) string {
	var vs []string
	for _, h := range in.Headers {
		if strings.EqualFold(string(h.Name), name) {
			v := strings.Trim(string(h.Value), " ")
			for strings.Contains(v, "  ") {
				v = strings.ReplaceAll(v, "  ", " ")
			}
			vs = append(vs, strings.TrimSpace(v))
		}
	}
	return strings.Join(vs, ",")
}

// signedHeaderNames returns the SignedHeaders list of a signed request.
func signedHeaderNames(in *sigv4.Input, presign bool) []string {
	if presign {
		vals, _ := url.ParseQuery(string(in.Query))
		return strings.Split(vals.Get("X-Amz-SignedHeaders"), ";")
	}
	for _, h := range in.Headers {
		if strings.EqualFold(string(h.Name), "authorization") {
			a := string(h.Value)
			i := strings.Index(a, "SignedHeaders=") + len("SignedHeaders=")
			j := strings.Index(a[i:], ",")
			return strings.Split(a[i:i+j], ";")
		}
	}
	return nil
}
