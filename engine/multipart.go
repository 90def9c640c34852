package engine

import (
	"bytes"
	"strconv"

	"github.com/mizuchi-gw/mizuchi/httpparse"
)

// Multipart and HeadObject replies. The backend's XML names its own bucket
// and key (with the route's key_prefix) and its owner identities; the
// client sees its route name, its own key and its own request URL, and no
// owner. These replies are small (ListParts is at most 1,000 parts) and
// rare next to the bodies, so they are rewritten with plain byte searches.

// repliesXML reports operations whose successful reply carries an XML body.
func (o op) repliesXML() bool {
	return o == opCreateMultipart || o == opCompleteMultipart || o == opListParts
}

// appendUpstreamQuery appends the query parameters of q that the backend
// needs (uploadId, partNumber, ...), raw as the client encoded them; the
// upstream signer canonicalizes them, the backend decodes them. Everything
// else (x-id, presigned X-Amz-*, token parameters) is dropped. A non-empty
// uploadID (the backend's id of a sealed one, binding.go) replaces the
// value of uploadId, percent-encoded.
func appendUpstreamQuery(dst, q, uploadID []byte) []byte {
	for len(q) > 0 {
		var k, v []byte
		k, v, q = httpparse.NextParam(q)
		if !isUpstreamParam(k) {
			continue
		}
		if len(dst) > 0 {
			dst = append(dst, '&')
		}
		dst = append(dst, k...)
		if len(uploadID) > 0 && string(k) == "uploadId" {
			dst = append(dst, '=')
			dst = appendUploadIDValue(dst, uploadID)
			continue
		}
		if len(v) > 0 {
			dst = append(dst, '=')
			dst = append(dst, v...)
		}
	}
	return dst
}

var errorElem = []byte("<Error>")

func isErrorBody(b []byte) bool {
	i := bytes.Index(b, errorElem)
	return i >= 0 && i < 256 // the root element, after at most an XML declaration
}

// rewriteXML appends body to dst with the text of the first <Bucket>, <Key>
// and <Location> elements replaced, and <Owner> and <Initiator> elements
// removed. A non-nil uploadID replaces the text of the first <UploadId>.
func rewriteXML(dst, body []byte, bucket string, key, location, uploadID []byte) []byte {
	type repl struct {
		tag string
		val []byte
		del bool
	}
	rs := [...]repl{
		{tag: "Bucket", val: []byte(bucket)},
		{tag: "Key", val: key},
		{tag: "Location", val: location},
		{tag: "Owner", del: true},
		{tag: "Initiator", del: true},
		{tag: "UploadId", val: uploadID},
	}
	if uploadID == nil {
		rs[len(rs)-1].tag = ""
	}
	for len(body) > 0 {
		lt := bytes.IndexByte(body, '<')
		if lt < 0 {
			break
		}
		dst = append(dst, body[:lt]...)
		body = body[lt:]
		done := false
		for i := range rs {
			r := &rs[i]
			if r.tag == "" {
				continue
			}
			open := len(r.tag) + 2
			if len(body) < open || string(body[1:open-1]) != r.tag || body[open-1] != '>' {
				continue
			}
			end := bytes.Index(body, []byte("</"+r.tag+">"))
			if end < 0 {
				continue
			}
			if !r.del {
				dst = append(dst, body[:open]...)
				dst = appendXMLEscaped(dst, r.val)
				dst = append(dst, body[end:end+open+1]...)
				r.tag = "" // only the first occurrence
			}
			body = body[end+open+1:]
			done = true
			break
		}
		if !done {
			dst = append(dst, '<')
			body = body[1:]
		}
	}
	return append(dst, body...)
}

// mapXML answers a successful multipart reply with its XML rewritten.
func (ex *exchange) mapXML(body []byte) int {
	r := &ex.resp
	id, err := ex.replyUploadID(body)
	if err != nil {
		// The backend's reply had no (usable) upload id. Nothing of it
		// reaches the client.
		return ex.fail(errInternal, "cannot seal the backend's upload id", err)
	}
	ex.xml = rewriteXML(ex.xml[:0], body, ex.route.Name, ex.key, ex.location(), id)
	out := appendStatusLine(ex.out[:0], r.Status)
	out = ex.appendCommon(out)
	out = append(out, "Content-Type: application/xml\r\nContent-Length: "...)
	out = strconv.AppendInt(out, int64(len(ex.xml)), 10)
	out = append(out, "\r\n\r\n"...)
	ex.out = append(out, ex.xml...)
	return r.Status
}

// headReturned are the HeadObject reply headers a client may see.
func headReturned(name []byte) bool {
	switch {
	case eqFoldASCII(name, "content-length"), eqFoldASCII(name, "content-type"),
		eqFoldASCII(name, "last-modified"), eqFoldASCII(name, "content-encoding"),
		eqFoldASCII(name, "content-disposition"), eqFoldASCII(name, "content-language"),
		eqFoldASCII(name, "cache-control"), eqFoldASCII(name, "expires"),
		eqFoldASCII(name, "accept-ranges"), eqFoldASCII(name, "x-amz-storage-class"),
		eqFoldASCII(name, "x-amz-tagging-count"), eqFoldASCII(name, "x-amz-mp-parts-count"):
		return true
	case len(name) > 11 && eqFoldASCII(name[:11], "x-amz-meta-"):
		return true
	}
	return false
}

// mapHead answers a successful HeadObject: the object's headers, no body.
func (ex *exchange) mapHead() int {
	r := &ex.resp
	out := appendStatusLine(ex.out[:0], r.Status)
	out = ex.appendCommon(out)
	for _, h := range r.Headers {
		if headReturned(h.Name) {
			out = append(out, h.Name...)
			out = append(out, ": "...)
			out = append(out, h.Value...)
			out = append(out, "\r\n"...)
		}
	}
	ex.out = append(out, "\r\n"...)
	return r.Status
}

// location is the object's URL as the client addressed it.
func (ex *exchange) location() []byte {
	ex.loc = append(ex.loc[:0], "http://"...)
	ex.loc = append(ex.loc, ex.req.Host...)
	return append(ex.loc, ex.req.Path...)
}

func eqFoldASCII(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
