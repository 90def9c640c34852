package engine

import (
	"bytes"
	"encoding/xml"
	"io"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/mizuchi-gw/mizuchi/policy/keytemplate"
)

// FuzzRewriteXML checks rewriteXML, the byte-level rewriter of backend
// multipart replies, against encoding/xml. It never panics; a body naming
// none of its elements passes unchanged; and for a well-formed body of the
// shape S3 backends send, the output is well-formed and decodes to the same
// events except that the first <Bucket>, <Key>, <Location> (and <UploadId>
// when replaced) hold the new values and every <Owner> and <Initiator> is
// gone.
//
// Outside that shape (comments, CDATA, processing instructions after the
// declaration, attributes or whitespace in the rewritten tags, an element
// nested in itself) the byte rewriter and an XML parser legitimately
// differ; backends do not send such replies, so only "no panic" is checked.
// Values are what the engine hands over: a key keytemplate.ValidateKey
// accepts, a location built from the Host field (no control characters but
// HTAB) and the path, and a sealed upload id.
func FuzzRewriteXML(f *testing.F) {
	f.Add([]byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>backend</Bucket><Key>pfx/a.bin</Key><UploadId>BACKEND-ID</UploadId></InitiateMultipartUploadResult>`),
		"a.bin", "gw:8080", "SEALED_tok-1", true)
	f.Add([]byte(`<CompleteMultipartUploadResult><Location>http://backend:9000/backend/pfx/a</Location><Bucket>backend</Bucket><Key>pfx/a</Key><ETag>"e-3"</ETag></CompleteMultipartUploadResult>`),
		"dir/ü &<>.bin", "127.0.0.1", "", false)
	f.Add([]byte(`<CompleteMultipartUploadResult><Location>http://b/k</Location><Bucket>b</Bucket><Key>k</Key></CompleteMultipartUploadResult>`),
		"k", "h\xff\xef\xbf\xbe", "", false)
	f.Add([]byte(`<ListPartsResult><Bucket>b</Bucket><Key>k</Key><UploadId>u</UploadId><Initiator><ID>AK</ID><DisplayName>x</DisplayName></Initiator><Owner><ID>AK</ID></Owner><Part><PartNumber>1</PartNumber><ETag>&quot;e&quot;</ETag></Part></ListPartsResult>`),
		"k", "h\tost", "id", true)
	f.Add([]byte(`<R><Key>k1</Key><Key>k2</Key><BucketX>b</BucketX><Bucket>unterminated`), "k", "h", "", true)
	f.Add([]byte(`<Error><Code>NoSuchUpload</Code><Key>k</Key></Error>`), "k", "h\xff", "", false)
	f.Add([]byte(`<a:R xmlns:a="u"><a:Key>x</a:Key><Key a="1">y</Key><Key>z</Key></a:R>`), "k", "h", "", false)

	var target = [...]string{"Bucket", "Key", "Location", "Owner", "Initiator", "UploadId"}
	f.Fuzz(func(t *testing.T, body []byte, key, host, uploadID string, replaceID bool) {
		if len(body) > 16<<10 || len(host) > 256 || len(uploadID) > 256 {
			t.Skip("input too large")
		}
		loc := []byte("http://" + host + "/route/k")
		var id []byte
		if replaceID {
			id = []byte(uploadID)
		}
		out := rewriteXML(nil, body, "route", []byte(key), loc, id)

		named := false
		for _, tag := range target {
			named = named || bytes.Contains(body, []byte("<"+tag+">"))
		}
		if !named && !bytes.Equal(out, body) {
			t.Fatalf("body without rewritten elements changed:\nin  %q\nout %q", body, out)
		}
		if keytemplate.ValidateKey([]byte(key), len(key)) != nil || !fieldValue(host) || !plainS3Shape(body) {
			return
		}
		in, ok := xmlEvents(body)
		if !ok {
			return
		}
		want, ok := expectedEvents(in, map[string][]byte{"Bucket": []byte("route"), "Key": []byte(key), "Location": loc, "UploadId": id})
		if !ok {
			return
		}
		got, ok := xmlEvents(out)
		if !ok {
			t.Fatalf("output is not well-formed XML:\nin  %q\nout %q", body, out)
		}
		want, got = mergeText(want), mergeText(got)
		if !xmlSafe(key) || !xmlSafe(string(loc)) || !xmlSafe(uploadID) {
			// Escaped to '?' where XML has no character: compare the
			// structure only.
			want, got = dropText(want), dropText(got)
		}
		if len(want) != len(got) {
			t.Fatalf("event count differs; got %d; want %d\nin  %q\nout %q", len(got), len(want), body, out)
		}
		for i := range want {
			if !sameEvent(want[i], got[i]) {
				t.Fatalf("event %d differs; got %#v; want %#v\nin  %q\nout %q", i, got[i], want[i], body, out)
			}
		}
	})
}

// fieldValue reports whether s could be a Host field value from httpparse.
func fieldValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// xmlSafe reports whether s survives appendXMLEscaped and decoding
// unchanged: valid UTF-8 of XML characters, no CR (escaped to '?').
func xmlSafe(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || r < ' ' && r != '\t' && r != '\n' || r == 0xfffe || r == 0xffff {
			return false
		}
	}
	return utf8.ValidString(s)
}

// plainS3Shape excludes what a byte rewriter cannot see like a parser
// does: markup that may hide tags, and rewritten tags with attributes,
// whitespace or the empty-element form.
func plainS3Shape(body []byte) bool {
	if i := bytes.Index(body, []byte("<?")); i > 0 || bytes.Contains(body[max(i, 0)+1:], []byte("<?")) {
		return false
	}
	if bytes.Contains(body, []byte("<!")) {
		return false
	}
	for _, tag := range [...]string{"Bucket", "Key", "Location", "Owner", "Initiator", "UploadId"} {
		for _, open := range [...]string{"<" + tag, "</" + tag} {
			for rest := body; ; {
				i := bytes.Index(rest, []byte(open))
				if i < 0 {
					break
				}
				rest = rest[i+len(open):]
				if len(rest) > 0 && !isNameByte(rest[0]) && rest[0] != '>' && rest[0] != ':' {
					return false
				}
			}
		}
	}
	return true
}

func isNameByte(c byte) bool {
	return c == '-' || c == '_' || c == '.' || c >= 0x80 || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// xmlEvents decodes a whole document strictly (well-formed, one root) and
// returns its raw events (prefixes as written); ok is false when it is not
// well-formed.
func xmlEvents(b []byte) ([]xml.Token, bool) {
	d := xml.NewDecoder(bytes.NewReader(b))
	roots, depth := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, false
		}
		switch tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
	if roots != 1 {
		return nil, false
	}
	d = xml.NewDecoder(bytes.NewReader(b))
	var evs []xml.Token
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			return evs, true
		}
		if err != nil {
			return nil, false
		}
		evs = append(evs, xml.CopyToken(tok))
	}
}

// expectedEvents applies the rewrite to the input's events; ok is false
// for shapes outside the contract (a rewritten element nested in itself,
// or with attributes).
func expectedEvents(in []xml.Token, vals map[string][]byte) (out []xml.Token, ok bool) {
	done := map[string]bool{}
	open := map[string]int{}
	for i := 0; i < len(in); i++ {
		switch e := in[i].(type) {
		case xml.StartElement:
			if e.Name.Space != "" {
				break
			}
			switch name := e.Name.Local; name {
			case "Bucket", "Key", "Location", "Owner", "Initiator", "UploadId":
				if len(e.Attr) > 0 || open[name] > 0 {
					return nil, false
				}
				j, nested := skipElement(in, i)
				if nested {
					return nil, false
				}
				if name == "Owner" || name == "Initiator" {
					i = j
					continue
				}
				v, replace := vals[name]
				if done[name] || !replace || name == "UploadId" && v == nil {
					open[name]++
					out = append(out, e)
					continue
				}
				done[name] = true
				out = append(out, e)
				if len(v) > 0 {
					out = append(out, xml.CharData(v))
				}
				out = append(out, in[j])
				i = j
				continue
			}
		case xml.EndElement:
			if e.Name.Space == "" && open[e.Name.Local] > 0 {
				open[e.Name.Local]--
			}
		}
		out = append(out, in[i])
	}
	return out, true
}

// skipElement returns the index of the end of the element starting at
// in[i], and whether an element of the same name is nested in it.
func skipElement(in []xml.Token, i int) (int, bool) {
	name := in[i].(xml.StartElement).Name
	depth := 0
	nested := false
	for j := i; j < len(in); j++ {
		switch e := in[j].(type) {
		case xml.StartElement:
			if j > i && e.Name.Local == name.Local && e.Name.Space == "" {
				nested = true
			}
			depth++
		case xml.EndElement:
			depth--
			if depth == 0 {
				return j, nested
			}
		}
	}
	return len(in) - 1, true
}

// mergeText joins adjacent character data (a removed element joins the
// text around it) and drops empty runs.
func mergeText(evs []xml.Token) []xml.Token {
	var out []xml.Token
	for _, e := range evs {
		if cd, ok := e.(xml.CharData); ok {
			if len(out) > 0 {
				if prev, ok := out[len(out)-1].(xml.CharData); ok {
					out[len(out)-1] = append(slices.Clone(prev), cd...)
					continue
				}
			}
			if len(cd) == 0 {
				continue
			}
		}
		out = append(out, e)
	}
	return out
}

func dropText(evs []xml.Token) []xml.Token {
	return slices.DeleteFunc(slices.Clone(evs), func(e xml.Token) bool { _, ok := e.(xml.CharData); return ok })
}

func sameEvent(a, b xml.Token) bool {
	switch x := a.(type) {
	case xml.StartElement:
		y, ok := b.(xml.StartElement)
		return ok && x.Name == y.Name && slices.Equal(x.Attr, y.Attr)
	case xml.EndElement:
		y, ok := b.(xml.EndElement)
		return ok && x.Name == y.Name
	case xml.CharData:
		y, ok := b.(xml.CharData)
		return ok && bytes.Equal(x, y)
	case xml.ProcInst:
		y, ok := b.(xml.ProcInst)
		return ok && x.Target == y.Target && bytes.Equal(x.Inst, y.Inst)
	}
	return false
}
