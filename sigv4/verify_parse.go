package sigv4

import (
	"bytes"
	"fmt"
	"time"
)

// Presigned query parameters Verify reads, by index into Verifier.qv.
const (
	qAlgorithm = iota
	qCredential
	qDate
	qExpires
	qSignedHeaders
	qSignature
	qContentSHA
	qSecurityToken
	qCount
)

var presignNames = [qCount]string{
	"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
	"X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Content-Sha256",
	"X-Amz-Security-Token",
}

// qvalue is one presigned query parameter: its raw value (view into the
// query) and its decoded value qdec[s:e]; n counts occurrences.
type qvalue struct {
	raw  []byte
	s, e int
	n    int
}

// scanQuery records the presigned parameters of the raw query q in v.qv
// (decoding values into v.qdec) and reports whether q asks for presigned
// verification (X-Amz-Algorithm, X-Amz-Credential or X-Amz-Signature).
// Names match case-sensitively after decoding, as in S3.
func (v *Verifier) scanQuery(q []byte) bool {
	v.qv = [qCount]qvalue{}
	v.qdec = v.qdec[:0]
	for len(q) > 0 {
		seg := q
		if i := bytes.IndexByte(q, '&'); i >= 0 {
			seg, q = q[:i], q[i+1:]
		} else {
			q = nil
		}
		name, value, _ := cutByte(seg, '=')
		i := presignParam(name)
		if i < 0 {
			continue
		}
		p := &v.qv[i]
		p.n++
		if p.n > 1 {
			continue
		}
		p.raw = value
		p.s = len(v.qdec)
		v.qdec = appendQueryUnescape(v.qdec, value)
		p.e = len(v.qdec)
	}
	return v.qv[qAlgorithm].n > 0 || v.qv[qCredential].n > 0 || v.qv[qSignature].n > 0
}

// qparam returns presigned parameter i: a view into the query when it was
// not encoded, else into v.qdec (valid until the next Verify).
func (v *Verifier) qparam(i int) []byte {
	p := &v.qv[i]
	d := v.qdec[p.s:p.e]
	if bytes.Equal(p.raw, d) {
		return p.raw
	}
	return d
}

// presignParam returns the index of the presigned parameter named by the
// raw (possibly encoded) query name, or -1.
func presignParam(name []byte) int {
	if len(name) < len("X-Amz-Date") || len(name) > 64 {
		return -1
	}
	var buf [64]byte
	if bytes.IndexByte(name, '%') >= 0 || bytes.IndexByte(name, '+') >= 0 {
		name = appendQueryUnescape(buf[:0], name)
	}
	for i, n := range presignNames {
		if string(name) == n {
			return i
		}
	}
	return -1
}

// parsePresigned fills a from the presigned query parameters.
func (v *Verifier) parsePresigned(cfg *VerifyConfig, in *Input, a *authz) error {
	a.presigned = true
	for i := range v.qv {
		if v.qv[i].n > 1 {
			return fmt.Errorf("%w: %s appears more than once", ErrQueryMalformed, presignNames[i])
		}
	}
	for _, i := range [...]int{qAlgorithm, qCredential, qSignature, qDate, qExpires, qSignedHeaders} {
		if v.qv[i].n == 0 {
			return fmt.Errorf("%w: missing %s", ErrQueryMalformed, presignNames[i])
		}
	}
	if err := checkAlgorithm(v.qparam(qAlgorithm), ErrQueryMalformed); err != nil {
		return err
	}
	if err := parseCredential(cfg, v.qparam(qCredential), a, ErrQueryMalformed); err != nil {
		return err
	}
	if raw := v.qv[qCredential].raw; bytes.HasPrefix(raw, a.accessKey) {
		a.accessKey = raw[:len(a.accessKey)] // a view into the Input when possible
	}

	d := v.qparam(qDate)
	t, ok := v.dates.parse(d)
	if !ok {
		return fmt.Errorf("%w: X-Amz-Date must be in the ISO8601 basic format 20060102T150405Z", ErrQueryMalformed)
	}
	a.t = t
	copy(a.amzDate[:], d)
	if !bytes.Equal(a.date, d[:8]) {
		return fmt.Errorf("%w: the credential date %s does not match X-Amz-Date %s", ErrQueryMalformed, quoteSafe(a.date), d)
	}

	exp := v.qparam(qExpires)
	if len(exp) > 0 && exp[0] == '-' {
		return fmt.Errorf("%w: X-Amz-Expires must be non-negative", ErrQueryMalformed)
	}
	n, ok := atoiDigits(exp)
	if !ok {
		return fmt.Errorf("%w: X-Amz-Expires should be a number", ErrQueryMalformed)
	}
	if n > maxPresignExpires {
		return fmt.Errorf("%w: X-Amz-Expires must be less than a week (in seconds) that is 604800", ErrQueryMalformed)
	}
	a.expires = time.Duration(n) * time.Second

	a.signedHeaders = v.qparam(qSignedHeaders)
	if err := checkSignedHeaders(a.signedHeaders, ErrQueryMalformed); err != nil {
		return err
	}
	a.signature = v.qparam(qSignature)
	if !validSignatureHex(a.signature) {
		return fmt.Errorf("%w: X-Amz-Signature must be 64 hexadecimal characters", ErrQueryMalformed)
	}
	a.payloadHash = unsignedPayloadBytes
	if v.qv[qContentSHA].n > 0 {
		a.payloadHash = v.qparam(qContentSHA)
		if !validPayloadHash(a.payloadHash) {
			return fmt.Errorf("%w: X-Amz-Content-Sha256 must be UNSIGNED-PAYLOAD or a hex SHA-256", ErrQueryMalformed)
		}
	}
	return nil
}

// parseHeaderAuth fills a from the Authorization header and the X-Amz-Date
// (or Date) and x-amz-content-sha256 headers found by hdr. It accepts
//
//	AWS4-HMAC-SHA256 Credential=AK/date/region/service/aws4_request, SignedHeaders=a;b, Signature=hex
//
// with the components in any order, with or without spaces after commas.
func parseHeaderAuth(cfg *VerifyConfig, hdr *authHeaders, a *authz, dates *amzDateMemo) error {
	alg, rest, _ := cutByte(hdr.first[hAuthorization], ' ')
	if err := checkAlgorithm(alg, ErrMalformed); err != nil {
		return err
	}
	const (
		cCredential = iota
		cSignedHeaders
		cSignature
	)
	var comp [3][]byte
	var seen [3]bool
	names := [3]string{"Credential", "SignedHeaders", "Signature"}
	for len(rest) > 0 {
		var part []byte
		part, rest, _ = cutByte(rest, ',')
		part = trimOWS(part)
		if len(part) == 0 {
			continue
		}
		k, val, ok := cutByte(part, '=')
		if !ok {
			return fmt.Errorf("%w: each component must have the form Name=value", ErrMalformed)
		}
		var c int
		switch string(k) {
		case "Credential":
			c = cCredential
		case "SignedHeaders":
			c = cSignedHeaders
		case "Signature":
			c = cSignature
		default:
			return fmt.Errorf("%w: unknown component %s", ErrMalformed, safeToken(k))
		}
		if seen[c] {
			return fmt.Errorf("%w: %s given more than once", ErrMalformed, names[c])
		}
		seen[c], comp[c] = true, val
	}
	for c, ok := range seen {
		if !ok {
			return fmt.Errorf("%w: missing %s", ErrMalformed, names[c])
		}
	}
	if err := parseCredential(cfg, comp[cCredential], a, ErrMalformed); err != nil {
		return err
	}
	a.signedHeaders = comp[cSignedHeaders]
	if err := checkSignedHeaders(a.signedHeaders, ErrMalformed); err != nil {
		return err
	}
	a.signature = comp[cSignature]
	if !validSignatureHex(a.signature) {
		return fmt.Errorf("%w: Signature must be 64 hexadecimal characters", ErrMalformed)
	}

	if d, n := hdr.first[hAmzDate], hdr.n[hAmzDate]; n > 0 {
		t, ok := dates.parse(d)
		if n > 1 || !ok {
			return fmt.Errorf("%w: X-Amz-Date must be one value of the form 20060102T150405Z", ErrMissingSecurityHeader)
		}
		a.t = t
		copy(a.amzDate[:], d)
	} else if d, n := hdr.first[hDate], hdr.n[hDate]; n == 1 {
		t, ok := parseHTTPDate(d)
		if !ok {
			return fmt.Errorf("%w: AWS authentication requires a valid Date or x-amz-date header", ErrMissingSecurityHeader)
		}
		a.t = t
		AppendAmzDate(a.amzDate[:0], t)
	} else {
		return fmt.Errorf("%w: AWS authentication requires a valid Date or x-amz-date header", ErrMissingSecurityHeader)
	}
	if !bytes.Equal(a.date, a.amzDate[:8]) {
		return fmt.Errorf("%w: the credential date %s does not match the request date %s", ErrMalformed, quoteSafe(a.date), string(a.amzDate[:8]))
	}

	ph, n := hdr.first[hContentSHA], hdr.n[hContentSHA]
	switch {
	case n == 0:
		return fmt.Errorf("%w: missing x-amz-content-sha256 header", ErrMissingSecurityHeader)
	case n > 1:
		return fmt.Errorf("%w: more than one x-amz-content-sha256 header", ErrMissingSecurityHeader)
	case !validPayloadHash(ph):
		return fmt.Errorf("%w: x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER), STREAMING-UNSIGNED-PAYLOAD-TRAILER or a hex SHA-256", ErrMissingSecurityHeader)
	}
	a.payloadHash = ph
	return nil
}

var slashSep = []byte("/")

func checkAlgorithm(alg []byte, base error) error {
	switch string(alg) {
	case Algorithm:
		return nil
	case "AWS4-ECDSA-P256-SHA256":
		return fmt.Errorf("%w: SigV4a (AWS4-ECDSA-P256-SHA256) is not supported; sign with AWS4-HMAC-SHA256", base)
	case "AWS":
		return fmt.Errorf("%w: signature version 2 is not supported; sign with AWS4-HMAC-SHA256", base)
	}
	return fmt.Errorf("%w: unsupported algorithm %s; expecting AWS4-HMAC-SHA256", base, safeToken(alg))
}

// parseCredential splits "AK/date/region/service/aws4_request" into a and
// checks the scope against cfg (the date is checked by the caller).
func parseCredential(cfg *VerifyConfig, cred []byte, a *authz, base error) error {
	if n := bytes.Count(cred, slashSep); n != 4 {
		return fmt.Errorf("%w: the credential must have 5 parts, <access key>/<date>/<region>/<service>/aws4_request; got %d", base, n+1)
	}
	ak, scope, _ := cutByte(cred, '/')
	date, rest, _ := cutByte(scope, '/')
	region, rest, _ := cutByte(rest, '/')
	service, term, _ := cutByte(rest, '/')
	switch {
	case len(ak) == 0:
		return fmt.Errorf("%w: the credential has an empty access key", base)
	case string(term) != scopeTerminator:
		return fmt.Errorf("%w: the credential scope must end with aws4_request, not %s", base, quoteSafe(term))
	case string(service) != cfg.service():
		return fmt.Errorf("%w: the service %s is wrong; expecting %s", base, quoteSafe(service), quoteSafe([]byte(cfg.service())))
	case string(region) != cfg.Region:
		return fmt.Errorf("%w: the region %s is wrong; expecting %s", base, quoteSafe(region), quoteSafe([]byte(cfg.Region)))
	}
	a.accessKey, a.scope, a.date, a.region, a.service = ak, scope, date, region, service
	return nil
}

// checkSignedHeaders checks a SignedHeaders list: ';'-separated, no empty
// names, host among them.
func checkSignedHeaders(sh []byte, base error) error {
	if len(sh) == 0 {
		return fmt.Errorf("%w: SignedHeaders is empty", base)
	}
	host := false
	for rest := sh; ; {
		name, tail, more := cutByte(rest, ';')
		if len(name) == 0 {
			return fmt.Errorf("%w: SignedHeaders has an empty header name", base)
		}
		if equalFoldLower(name, "host") {
			host = true
		}
		if !more {
			break
		}
		rest = tail
	}
	if !host {
		return fmt.Errorf("%w: SignedHeaders must include host", base)
	}
	return nil
}
