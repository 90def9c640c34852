// Package upstream talks to the S3 backend of a route: it keeps a pool of
// keep-alive connections per endpoint, builds the upstream request head
// (bucket and key mapped, the key URI-encoded exactly once, an allowlist of
// client headers forwarded) and signs it with SigV4 using the route's own
// credentials, then reads and maps the backend's reply.
//
// Guarantees:
//   - No client credential or Authorization header ever reaches the backend:
//     only the headers in the forward allowlist are copied, and the head is
//     signed with the route's credentials.
//   - The client's x-amz-content-sha256 is passed through (and signed) when it
//     is a hex digest, UNSIGNED-PAYLOAD or STREAMING-UNSIGNED-PAYLOAD-TRAILER,
//     so the backend itself verifies the body; anything else is signed as
//     UNSIGNED-PAYLOAD. Content-MD5 and x-amz-checksum-* are forwarded and
//     signed too.
//   - Header values come from httpparse, which rejects CR, LF and other
//     control bytes, so a value can never inject a line into the upstream head.
//   - A connection is reused only after a complete response whose body was
//     fully read and which did not ask to close; an idle connection is probed
//     with a non-blocking MSG_PEEK before reuse, so a backend that closed it
//     while idle is noticed before a body is committed to it.
//
// Most of this may block (dial, DNS, TLS handshake, reads, a credentials
// refresh): call it from a worker goroutine, never from an event loop. The
// exceptions are for the engine's in-loop relay and never wait:
// Builder.AppendHeadCached signs with the credentials the last AppendHead
// retrieved (ErrNoCachedCredentials when there are none or they are about
// to expire), and ParseResponse parses a reply from bytes already read.
package upstream
