// Package uploadid binds multipart upload ids to their uploader.
//
// The gateway answers CreateMultipartUpload with Seal's token instead of the
// backend's upload id, and turns the token of every UploadPart,
// UploadPartCopy, CompleteMultipartUpload, AbortMultipartUpload and
// ListParts back into the backend id with Open.
//
// # Guarantees
//
//   - The token hides the backend id and its expiry and is authenticated
//     (package seal, purpose Purpose). The Owner (route name, object key as
//     stored upstream, subject) is bound as additional data, length-prefixed
//     so no two owners share an encoding: a token opens only for exactly the
//     owner it was sealed for, and only before its expiry (whole seconds).
//   - Every failure of Open (malformed, tampered, sealed with an unknown
//     secret, another owner, expired, over MaxTokenLen) is ErrNoSuchUpload,
//     which the gateway answers as S3 does for an unknown upload id:
//     404 NoSuchUpload. Callers cannot tell the cases apart.
//   - Tokens are URL-safe base64 without padding and at most MaxTokenLen
//     (732) bytes, for backend ids of 1 to MaxBackendID (512) bytes; Seal
//     refuses other backend ids with ErrBackendID.
//   - Open does not allocate when dst has spare capacity for twice the
//     token, plus the owner's fields and 20 bytes (allocation_test.go);
//     2 KiB + 1 KiB for the key is always enough.
//
// Token layout (before base64, see package seal): version, nonce,
// AES-GCM(expiry as big-endian Unix seconds (8) || backend id), tag.
package uploadid
