package engine

import (
	"github.com/mizuchi-gw/mizuchi/httpparse"
)

// op is an S3 operation, classified from the method, key and query.
type op uint8

const (
	opUnknown op = iota
	opPutObject
	opCreateMultipart
	opUploadPart
	opCompleteMultipart
	opAbortMultipart
	opListParts
	opCopyObject
	opReadOrList // GetObject, HeadObject, ListObjects, …
	opDelete
	opBucket // any other bucket-level request
	numOps
)

var opNames = [numOps]string{
	opUnknown:           "Unknown",
	opPutObject:         "PutObject",
	opCreateMultipart:   "CreateMultipartUpload",
	opUploadPart:        "UploadPart",
	opCompleteMultipart: "CompleteMultipartUpload",
	opAbortMultipart:    "AbortMultipartUpload",
	opListParts:         "ListParts",
	opCopyObject:        "CopyObject",
	opReadOrList:        "Read",
	opDelete:            "DeleteObject",
	opBucket:            "Bucket",
}

func (o op) String() string { return opNames[o] }

// classify returns the operation of a routed request and, when it is refused,
// the error to answer. Only PutObject is served by this build.
func classify(req *httpparse.Request, rawKey []byte) (op, *s3Error) {
	m := req.Method
	var hasUploads, hasUploadID, hasPartNumber, hasOther bool
	for q := req.Query; len(q) > 0; {
		var k []byte
		k, _, q = httpparse.NextParam(q)
		switch string(k) {
		case "uploads":
			hasUploads = true
		case "uploadId":
			hasUploadID = true
		case "partNumber":
			hasPartNumber = true
		case "x-id", "":
			// x-id=PutObject is added by the SDKs; it names the operation.
		default:
			hasOther = true
		}
	}
	if len(rawKey) == 0 {
		if string(m) == "GET" || string(m) == "HEAD" {
			return opBucket, errAccessDenied
		}
		return opBucket, errMethodNotAllowed
	}
	switch string(m) {
	case "PUT":
		switch {
		case hasPartNumber && hasUploadID:
			return opUploadPart, errPartsNotYet
		case hasOther || hasUploadID || hasPartNumber || hasUploads:
			return opUnknown, errNotImplemented
		case req.Header("x-amz-copy-source") != nil:
			return opCopyObject, errCopyNotAllowed
		}
		return opPutObject, nil
	case "POST":
		switch {
		case hasUploads:
			return opCreateMultipart, errPartsNotYet
		case hasUploadID:
			return opCompleteMultipart, errPartsNotYet
		}
		return opUnknown, errNotImplemented
	case "DELETE":
		if hasUploadID {
			return opAbortMultipart, errPartsNotYet
		}
		return opDelete, errAccessDenied
	case "GET":
		if hasUploadID {
			return opListParts, errPartsNotYet
		}
		return opReadOrList, errAccessDenied
	case "HEAD":
		return opReadOrList, errAccessDenied
	}
	return opUnknown, errMethodNotAllowed
}
