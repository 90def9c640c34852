// Package s3sink is a minimal S3-like upstream for benchmarks.
//
// It speaks just enough HTTP/1.1 (keep-alive, Content-Length and chunked
// bodies, Expect: 100-continue) to stand behind the gateway under test, and
// answers the upload operations:
//
//	PUT    /bucket/key                       200, ETag
//	PUT    /bucket/key?partNumber=N&uploadId 200, ETag
//	POST   /bucket/key?uploads               InitiateMultipartUploadResult
//	POST   /bucket/key?uploadId=ID           CompleteMultipartUploadResult
//	DELETE /bucket/key?uploadId=ID           204
//	GET    /bucket/key?uploadId=ID           empty ListPartsResult
//
// Anything else gets an S3 XML NotImplemented error. Signatures are not
// checked and nothing is stored: bodies are read into a reusable 256 KiB
// per-connection buffer and dropped, so the sink's own cost per request and
// per byte stays small next to the proxy being measured.
//
// It is written on net and bufio rather than net/http on purpose: net/http
// allocates a Request, header map and goroutine-per-body machinery per call,
// which would make the sink, not the gateway, the thing being measured.
package s3sink
