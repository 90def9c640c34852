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
	opHeadObject // HeadObject on a route with allow_head
	opPreflight  // CORS preflight (OPTIONS)
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
	opHeadObject:        "HeadObject",
	opPreflight:         "Preflight",
	opDelete:            "DeleteObject",
	opBucket:            "Bucket",
}

func (o op) String() string { return opNames[o] }

// classify returns the operation of a routed request and, when it is refused,
// the error to answer. The upload surface is served: PutObject and the
// multipart family, plus HeadObject where the route allows it (allowHead).
//
// authParams are query parameter names that carry credentials (a JWT query
// token source); like presigned X-Amz-* parameters they do not name an
// operation and are never forwarded.
func classify(req *httpparse.Request, rawKey []byte, authParams []string, allowHead bool) (op, *s3Error) {
	m := req.Method
	var hasUploads, hasUploadID, hasPartNumber, hasListArgs, hasOther bool
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
		case "max-parts", "part-number-marker":
			hasListArgs = true
		case "x-id", "":
			// x-id=PutObject is added by the SDKs; it names the operation.
		default:
			if !isAuthParam(k, authParams) {
				hasOther = true
			}
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
		case req.Header("x-amz-copy-source") != nil:
			return opCopyObject, errCopyNotAllowed // CopyObject and UploadPartCopy
		case hasOther || hasUploads || hasListArgs:
			return opUnknown, errNotImplemented
		case hasPartNumber && hasUploadID:
			return opUploadPart, nil
		case hasPartNumber || hasUploadID:
			return opUnknown, errInvalidArgument
		}
		return opPutObject, nil
	case "POST":
		switch {
		case hasOther || hasPartNumber || hasListArgs || (hasUploads && hasUploadID):
			return opUnknown, errNotImplemented
		case hasUploads:
			return opCreateMultipart, nil
		case hasUploadID:
			return opCompleteMultipart, nil
		}
		return opUnknown, errNotImplemented
	case "DELETE":
		switch {
		case hasUploadID && !hasOther && !hasPartNumber && !hasUploads && !hasListArgs:
			return opAbortMultipart, nil
		case hasUploadID:
			return opUnknown, errNotImplemented
		}
		return opDelete, errAccessDenied
	case "GET":
		switch {
		case hasUploadID && !hasOther && !hasPartNumber && !hasUploads:
			return opListParts, nil
		case hasUploadID:
			return opUnknown, errNotImplemented
		}
		return opReadOrList, errAccessDenied
	case "HEAD":
		if allowHead && !hasOther && !hasUploads && !hasUploadID && !hasListArgs {
			return opHeadObject, nil
		}
		return opReadOrList, errAccessDenied
	}
	return opUnknown, errMethodNotAllowed
}

// isAuthParam reports presigned-URL parameters (X-Amz-Algorithm,
// X-Amz-Credential, ...) and the route's token parameters.
func isAuthParam(k []byte, authParams []string) bool {
	if len(k) > 6 && string(k[:6]) == "X-Amz-" {
		return true
	}
	for _, p := range authParams {
		if string(k) == p {
			return true
		}
	}
	return false
}

// hasBody reports whether an operation carries a request body that is
// relayed (the others must not send one).
func (o op) hasBody() bool {
	return o == opPutObject || o == opUploadPart || o == opCompleteMultipart
}

// upstreamParams are the query parameters an operation forwards.
func isUpstreamParam(k []byte) bool {
	switch string(k) {
	case "uploads", "uploadId", "partNumber", "max-parts", "part-number-marker":
		return true
	}
	return false
}
