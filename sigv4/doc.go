// Package sigv4 computes AWS Signature Version 4 (AWS4-HMAC-SHA256) header
// signatures the way Amazon S3 expects them, and verifies them. Mizuchi
// uses the Signer to re-sign each upload with the backend credentials and
// the Verifier to check client signatures, with the same canonicalization
// code.
//
// # What it guarantees
//
//   - Byte-for-byte agreement with aws-sdk-go-v2's signer configured for S3
//     (SignHTTP with DisableURIPathEscaping) for the same method, path,
//     query, headers, payload hash, time, region and credentials. Tests
//     check this on a table of real S3 uploads and by fuzzing, and check
//     the canonical request, string to sign and signature against the AWS
//     SigV4 test suite cases that apply to S3 (no path normalization).
//   - S3 rules: the path is signed exactly as given (no dot-segment
//     removal, no slash collapsing, no second encoding); an empty path is
//     "/". The query is decoded as net/url does and re-encoded with
//     AppendURIEncode(encodeSlash=true), then sorted by name and value.
//     Header names are lower-cased and sorted (stably, so repeated names
//     are joined with ',' in the order given); values are trimmed and inner
//     runs of spaces collapsed.
//   - Where aws-sdk-go-v2 cannot represent a request, the signer still
//     produces a deterministic result and documents it: a malformed %
//     escape in the query is signed as a literal '%' (%25), a ';' in the
//     query is an ordinary byte, header names are not validated.
//   - The hot path allocates nothing: Signer.AppendAuthorization,
//     AppendSignature, AppendCanonicalRequest, AppendStringToSign,
//     AppendURIEncode, AppendHex and AppendAmzDate make no heap
//     allocation once the Signer's scratch buffers have grown to the
//     request's size and the signing key is in the KeyCache (tested with
//     testing.AllocsPerRun). HMAC-SHA256 is computed by hand over two reused
//     SHA-256 digests because crypto/hmac.New allocates.
//   - Per request, the work is what SigV4 cannot avoid: hashing the
//     canonical request and two of the HMAC's SHA-256 blocks. A Signer (and
//     the Verifier and ChunkDecoder built on one) remembers, for the last
//     signing key it used, the digest states after the HMAC's ipad and opad
//     blocks and after the first 64 bytes of the last string to sign
//     (algorithm, time and scope: the same for every request of a second,
//     and for every chunk of a stream), and restores them instead of
//     hashing again; and it skips the shared KeyCache while the credential,
//     date, region and service stay the same. A different key costs what
//     it did before, plus saving the states.
//   - Only the standard library is imported (enforced by a test).
//
// # Verification
//
// Verifier.Verify accepts exactly the requests S3 accepts for one region
// and service, as far as the signature goes:
//
//   - Both forms: the Authorization header ("AWS4-HMAC-SHA256
//     Credential=..., SignedHeaders=..., Signature=...", components in any
//     order, with or without spaces after the commas) and presigned URLs
//     (X-Amz-Algorithm, -Credential, -Date, -Expires, -SignedHeaders,
//     -Signature in the query). A request with neither is ErrNoAuth; one
//     with both is malformed. SigV2 and SigV4a (AWS4-ECDSA-P256-SHA256) are
//     refused with an explicit detail.
//   - The credential must be access-key/date/region/service/aws4_request
//     with the configured region and service and the date of X-Amz-Date;
//     SignedHeaders must include host; the signature must be 64 hex digits.
//     Header form: X-Amz-Date (or, only when it is absent, Date in
//     http.TimeFormat) and x-amz-content-sha256 (a hex SHA-256,
//     UNSIGNED-PAYLOAD or one of the STREAMING-* values for HMAC) are
//     required, and the request time must be within MaxSkew of Now.
//     Presigned: X-Amz-Expires is 0..604800, X-Amz-Date <= Now+MaxSkew and
//     Now <= X-Amz-Date+X-Amz-Expires; the payload line is the
//     X-Amz-Content-Sha256 query parameter or UNSIGNED-PAYLOAD.
//   - Canonicalization as S3 does it: the wire path is percent-decoded once
//     and re-encoded with AppendURIEncode(encodeSlash=false), and when that
//     does not match the raw wire path is tried as well (clients that sign
//     %2F or leave sub-delims unencoded); no dot-segment removal; the query
//     as the Signer canonicalizes it, without X-Amz-Signature when
//     presigned; the signed headers in the client's SignedHeaders order,
//     matched case-insensitively, every occurrence joined with ',' in
//     arrival order (an absent signed header is empty, so it mismatches),
//     and the SignedHeaders list as the client sent it.
//   - The signature is compared in constant time. Error details (the text
//     after the sentinel) never contain a secret or the client's signature
//     and may be shown to clients; CanonicalRequest and StringToSign give
//     the server's side for the SignatureDoesNotMatch body.
//   - Verify allocates nothing on success once the signing key is cached
//     and the Verifier's buffers have grown (tested with AllocsPerRun for
//     header and presigned requests); failures may allocate their error.
//   - Tests check it against every applicable AWS SigV4 suite case, against
//     aws-sdk-go-v2's SignHTTP and PresignHTTP on S3 upload shapes, reject
//     every single-byte change of method, path, query, signed header value,
//     date and signature, and fuzz the same (fuzz.FuzzVerify).
//   - Every x-amz-* header must be in SignedHeaders, as S3 requires (in
//     both forms; ErrHeadersNotSigned, Verifier.UnsignedHeader names it),
//     except x-amz-security-token (a credential) and an
//     x-amz-content-sha256 equal to the payload line the signature covers.
//     Without this, whoever holds a presigned URL could add metadata,
//     tagging or object-lock retention the signer never approved.
//
// Verify does not check that the payload matches x-amz-content-sha256
// (the caller hashes the body or decodes aws-chunked with
// Verified.SigningKey). Headers other than x-amz-* that are not in
// SignedHeaders (Content-Type, Cache-Control, ...) are not authenticated:
// forward only what the client signed if that matters.
//
// # Temporary credentials
//
// With VerifyConfig.Resolve set, a request carrying a security token
// (the x-amz-security-token header, or the X-Amz-Security-Token query
// parameter of a presigned URL; one of them, once) is verified with the
// Key the Resolver returns for its access key id and token, with no
// lookup in Keys: the caller decides what a token is (Mizuchi's are
// sealed sessions, package policy/sts, which this package does not
// import). A token with an access key of Keys is refused
// (ErrSecurityToken), and so is any Resolver error, wrapped so that
// errors.Is finds both. Without Resolve a token is not looked at. The
// signing key of a resolved Key is derived for every request (four
// HMAC-SHA256, about 1 µs) instead of being cached: each session has its
// own secret, so caching would only churn the KeyCache and evict
// long-term keys, and a secret then never outlives its request in this
// package. Key.Session carries whatever the Resolver attached (the
// session) to the caller through Verified.Key.
//
// # Concurrency and borrowing
//
// A Signer or Verifier holds scratch buffers and is not safe for concurrent
// use: keep one per goroutine or event loop, or pool them. A KeyCache is
// safe for concurrent use and is meant to be shared by all Signers and
// Verifiers; it is bounded, evicts an arbitrary entry when full, and a hit
// allocates nothing. Verify only reads its Input and VerifyConfig (Keys may
// be shared read-only by all Verifiers).
//
// Everything a Request points to is borrowed for the duration of one call:
// the signer neither retains nor modifies it (Headers are sorted through a
// private index, never in place). Append functions write only to the dst
// they return; they never return views of the Signer's buffers.
//
// The signer does not add headers to the request: the caller includes
// host, x-amz-date (see AppendAmzDate), x-amz-content-sha256 and, with a
// session token, x-amz-security-token in Request.Headers and sends exactly
// those values on the wire.
//
// Verified holds views into the Input (AccessKey, PayloadHash), valid as
// long as the request bytes are, except the few documented ones that point
// into the Verifier's scratch (a percent-encoded presigned access key or
// X-Amz-Content-Sha256), valid until its next Verify. CanonicalRequest and
// StringToSign are valid until the next Verify.
//
// Secrets: the secret key is copied into the KeyCache's map key and is
// wiped from the Signer's scratch buffers after each use. Signatures and
// Authorization values, Verified.Signature and Verified.SigningKey must not
// be logged.
//
// # aws-chunked bodies
//
// ChunkDecoder decodes and verifies bodies sent with x-amz-content-sha256
// STREAMING-AWS4-HMAC-SHA256-PAYLOAD or -PAYLOAD-TRAILER, fed in pieces
// split anywhere: it checks every chained chunk signature, the trailer
// signature, x-amz-decoded-content-length and the trailer checksum
// (crc32, crc32c, crc64nvme, sha1 or sha256), and allocates nothing once
// reused through Init. Data is appended as it arrives, before the chunk's
// signature is known: callers that must not commit unverified bytes hold
// them back until Done. Tests check it against minio-go's streaming signer,
// aws-sdk-go-v2's v4.StreamSigner, the AWS documentation examples, every
// split point and single-byte changes (fuzz.FuzzChunkDecode).
package sigv4
