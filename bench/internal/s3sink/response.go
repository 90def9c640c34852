package s3sink

import (
	"bytes"
	"encoding/xml"
	"strconv"
)

// etag is what every upload gets: the sink stores nothing, so one fixed value
// (a quoted MD5-like hex string, as S3 sends) is honest.
const etag = `"d41d8cd98f00b204e9800998ecf8427e"`

func (s *Server) appendResponse(dst []byte, r *request) []byte {
	id := s.reqID.Add(1)
	switch string(r.method) {
	case "PUT":
		return appendHead(dst, "200 OK", id, true, 0, r.close)
	case "POST":
		if r.hasUploads {
			bucket, key := r.bucketKey()
			var x bytes.Buffer
			x.WriteString(xml.Header)
			x.WriteString(`<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>`)
			xml.EscapeText(&x, bucket)
			x.WriteString(`</Bucket><Key>`)
			xml.EscapeText(&x, key)
			x.WriteString(`</Key><UploadId>sink-`)
			x.Write(strconv.AppendUint(nil, id, 10))
			x.WriteString(`</UploadId></InitiateMultipartUploadResult>`)
			return appendXML(dst, "200 OK", id, x.Bytes(), r.close)
		}
		if r.hasUploadID {
			bucket, key := r.bucketKey()
			var x bytes.Buffer
			x.WriteString(xml.Header)
			x.WriteString(`<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Location>http://sink/`)
			xml.EscapeText(&x, r.path[1:])
			x.WriteString(`</Location><Bucket>`)
			xml.EscapeText(&x, bucket)
			x.WriteString(`</Bucket><Key>`)
			xml.EscapeText(&x, key)
			x.WriteString(`</Key><ETag>&quot;d41d8cd98f00b204e9800998ecf8427e-1&quot;</ETag></CompleteMultipartUploadResult>`)
			return appendXML(dst, "200 OK", id, x.Bytes(), r.close)
		}
	case "DELETE":
		if r.hasUploadID {
			dst = append(dst, "HTTP/1.1 204 No Content\r\nx-amz-request-id: "...)
			dst = strconv.AppendUint(dst, id, 16)
			dst = appendConnClose(dst, r.close)
			return append(dst, "\r\n"...)
		}
	case "GET":
		if r.hasUploadID {
			bucket, key := r.bucketKey()
			var x bytes.Buffer
			x.WriteString(xml.Header)
			x.WriteString(`<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>`)
			xml.EscapeText(&x, bucket)
			x.WriteString(`</Bucket><Key>`)
			xml.EscapeText(&x, key)
			x.WriteString(`</Key><IsTruncated>false</IsTruncated></ListPartsResult>`)
			return appendXML(dst, "200 OK", id, x.Bytes(), r.close)
		}
	}
	return appendError(dst, 501, "Not Implemented", "NotImplemented", "the bench sink only accepts uploads", id, r.close)
}

func appendHead(dst []byte, status string, id uint64, withETag bool, contentLength int, closeConn bool) []byte {
	dst = append(dst, "HTTP/1.1 "...)
	dst = append(dst, status...)
	dst = append(dst, "\r\nx-amz-request-id: "...)
	dst = strconv.AppendUint(dst, id, 16)
	if withETag {
		dst = append(dst, "\r\nETag: "...)
		dst = append(dst, etag...)
	}
	dst = append(dst, "\r\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(contentLength), 10)
	dst = appendConnClose(dst, closeConn)
	return append(dst, "\r\n"...)
}

func appendConnClose(dst []byte, closeConn bool) []byte {
	if closeConn {
		dst = append(dst, "\r\nConnection: close"...)
	}
	return append(dst, "\r\n"...)
}

func appendXML(dst []byte, status string, id uint64, body []byte, closeConn bool) []byte {
	dst = append(dst, "HTTP/1.1 "...)
	dst = append(dst, status...)
	dst = append(dst, "\r\nContent-Type: application/xml\r\nx-amz-request-id: "...)
	dst = strconv.AppendUint(dst, id, 16)
	dst = append(dst, "\r\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(body)), 10)
	dst = appendConnClose(dst, closeConn)
	dst = append(dst, "\r\n"...)
	return append(dst, body...)
}

func appendError(dst []byte, code int, reason, s3code, msg string, id uint64, closeConn bool) []byte {
	var x bytes.Buffer
	x.WriteString(xml.Header)
	x.WriteString("<Error><Code>")
	x.WriteString(s3code)
	x.WriteString("</Code><Message>")
	xml.EscapeText(&x, []byte(msg))
	x.WriteString("</Message><RequestId>")
	x.Write(strconv.AppendUint(nil, id, 16))
	x.WriteString("</RequestId></Error>")
	status := strconv.Itoa(code) + " " + reason
	return appendXML(dst, status, id, x.Bytes(), closeConn)
}
