package httpparse

// s3PutHead is the PutObject head aws-sdk-go-v2 (s3 v1.114.10) sent, from
// ../shared/testdata/client-captures/gosdk-v2-s3v1.114-http.log.
const s3PutHead = "PUT /hdr-gosdk/small.bin?x-id=PutObject HTTP/1.1\r\n" +
	"Host: 127.0.0.1:5100\r\n" +
	"Accept-Encoding: identity\r\n" +
	"Amz-Sdk-Invocation-Id: 8f86a62d-a6cf-455d-a658-8ad5245d6436\r\n" +
	"Amz-Sdk-Request: attempt=1; max=3\r\n" +
	"Authorization: AWS4-HMAC-SHA256 Credential=testkey/20261125/us-east-1/s3/aws4_request, SignedHeaders=accept-encoding;amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-checksum-crc32;x-amz-content-sha256;x-amz-date, Signature=9b5a1bdeae1b6b0661bdaa3a355e9643f980534534951c61bf7949ae7afa5bfe\r\n" +
	"Content-Length: 1000\r\n" +
	"Content-Type: application/octet-stream\r\n" +
	"User-Agent: aws-sdk-go-v2/1.48.0 ua/2.1 os/linux lang/go#1.26.8 md/GOOS#linux md/GOARCH#amd64 api/s3#1.114.10 m/E,Z,e\r\n" +
	"X-Amz-Checksum-Crc32: 7qcriQ==\r\n" +
	"X-Amz-Content-Sha256: 2ded9cd4e93499809c5c232d1cdccd5052a2f961bb101b54162e2e14019b1711\r\n" +
	"X-Amz-Date: 20261125T191619Z\r\n" +
	"\r\n"

// s3PutResponseHead is a typical PutObject response head from S3.
const s3PutResponseHead = "HTTP/1.1 200 OK\r\n" +
	"x-amz-id-2: Nxq1ZjJ2TLTb2X1hyTFHmYJ6s3Ri9GQk4R3TbR1jJZ0hlV8Oj1/Wm0n0xO2bNHr2yYHpYcL0Lzc=\r\n" +
	"x-amz-request-id: 4B3C2A1D0E9F8A7B\r\n" +
	"Date: Wed, 25 Nov 2026 19:16:19 GMT\r\n" +
	"x-amz-checksum-crc32: 7qcriQ==\r\n" +
	"ETag: \"2b5a8e0053660afa33e2c1b3c4d5e6f7\"\r\n" +
	"x-amz-server-side-encryption: AES256\r\n" +
	"Content-Length: 0\r\n" +
	"Server: AmazonS3\r\n" +
	"\r\n"
