// Package sigv4 computes AWS Signature Version 4 (AWS4-HMAC-SHA256) header
// signatures the way Amazon S3 expects them. Mizuchi uses it to re-sign each
// upload with the backend credentials, and later to verify client
// signatures with the same canonicalization code.
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
//   - Only the standard library is imported (enforced by a test).
//
// # Concurrency and borrowing
//
// A Signer holds scratch buffers and is not safe for concurrent use: keep
// one per goroutine or pool them. A KeyCache is safe for concurrent use and
// is meant to be shared by all Signers; it is bounded, evicts an arbitrary
// entry when full, and a hit allocates nothing.
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
// Secrets: the secret key is copied into the KeyCache's map key and is
// wiped from the Signer's scratch buffers after each use. Signatures and
// Authorization values must not be logged.
package sigv4
