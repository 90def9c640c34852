// Package sts is a stateless AssumeRoleWithWebIdentity: clients trade an
// OpenID Connect ID token for short-lived SigV4 credentials that every S3
// SDK can use, and the gateway verifies requests signed with them without
// a database, a cache or a call to anyone.
//
// # Flow
//
// The gateway (engine/sts.go, wired in cmd/mizuchi/routes.go) parses an STS call with ParseRequest, verifies the
// WebIdentityToken with JWT().Verify (on policy.ErrUnknownKey it calls
// RefreshUnknownKey and retries once; other failures map to an answer with
// TokenError), then calls Assume and answers AppendResponseXML, or
// AppendErrorXML with the *Error, as text/xml with the error's status.
//
// A SigV4 request that carries X-Amz-Security-Token (header, or query for
// presigned URLs) goes to Open, or OpenNoClaims when the route needs no
// claims, with the access key id of its credential scope; the returned
// secret key verifies its signature, and the Session says who it is
// (subject, role, claims) and what it may do (Allows). Trust the Session
// only once the signature verified.
//
// # Guarantees
//
//   - Stateless: everything a session is sits in its session token,
//     sealed with package seal (AES-256-GCM, purpose Purpose, keys derived
//     per secret with HKDF-SHA256): format, expiry (Unix seconds), the
//     access key id and secret key (random, 80 and 240 bits), subject,
//     role ARN, RoleSessionName, key prefix, routes and claims. The token
//     hides all of it and any change to it, or a token sealed for another
//     purpose (an upload id), fails to open.
//   - Keys: the access key id is "ASIA" and the base32 of its 10 random
//     bytes; the secret access key is the standard base64 of its 30
//     random bytes (40 characters). Open recomputes the access key id from
//     the token and compares it in constant time, so an access key id works
//     only with the token it was issued with, and the secret key of one
//     session says nothing about another's.
//   - Rotation: sts.secrets, first seals, all open (package seal tries
//     each; one GCM tag check per secret). Dropping a secret invalidates
//     every session it sealed; keep it for the longest
//     max_duration_seconds after adding a new one. Because the secret key
//     travels sealed inside the token rather than being derived from the
//     sealing secret, Open never needs to know which secret opened it.
//   - Refusing: Open fails with ErrInvalidToken (does not open, malformed,
//     or its role is no longer configured: removing a role ends its
//     sessions at once), ErrAccessKeyMismatch, or ErrExpiredToken
//     (now >= expiry; no leeway). S3 answers these as 400 InvalidToken
//     "The provided token is malformed or otherwise invalid.", 403
//     InvalidAccessKeyId "The AWS access key Id you provided does not
//     exist in our records." and 400 ExpiredToken "The provided token has
//     expired.". A route removed from a role is removed from its open
//     sessions' Routes at once; a changed key_template, required_claims or
//     max_duration_seconds applies to sessions issued afterwards.
//   - Assume refuses with AWS's codes: AccessDenied (403, the same message
//     for an unknown role, unmet required_claims and a key_template the
//     token cannot fill), ValidationError (bad or missing parameters,
//     DurationSeconds out of 900..role maximum), InvalidIdentityToken,
//     ExpiredTokenException, IDPCommunicationError (no JWK set fetched
//     yet), PackedPolicyTooLarge (claims over MaxClaimsSize), and
//     ParseRequest with MissingAction, InvalidAction and
//     InvalidParameterValue. Error.Reason says why for logs and is never
//     sent.
//   - Scope: Allows admits a route of Routes and a key, as the client
//     names it (before the route's own key_template), that starts with
//     KeyPrefix, the role's key_template filled at issue time. Templates
//     end with '/' and their values cannot contain '/', so one subject's
//     prefix never contains another's.
//   - Bounded: claims are sealed as sorted JSON without the token's own
//     exp, iat, nbf, jti, nonce, at_hash and c_hash, at most MaxClaimsSize
//     bytes (else Assume refuses; a session never carries a silently
//     trimmed claim set); subjects at most MaxSubjectLen; the whole
//     plaintext at most 8 KiB, so tokens are at most MaxSessionTokenLen.
//
// # Cost
//
// OpenNoClaims allocates the Session and one string (all its text fields
// share it), plus Routes beyond four; a refused token allocates nothing,
// except that a token that is not base64 past its 255th byte costs the one
// allocation encoding/base64 makes for its error (allocation_test.go).
// Decoding claims is most of the cost of Open: on the 2-core development
// machine OpenNoClaims takes about 1.2-1.6 µs and 2 allocations for a
// 400-byte token, Open with a typical ID token's 7 claims about 8-9 µs and
// 45 allocations, and opening a sealed upload id (same AES-GCM, nothing
// else) about 0.3 µs (bench_test.go). Assume costs about 10 µs.
//
// # Decisions
//
// The secret key is random and sealed in the token instead of derived as
// HMAC(HKDF(secret), access key id): seal.Open does not say which secret
// of the rotation list opened a token, so a derived key would need one
// HMAC per secret to find the access key id's secret; sealing it costs 30
// bytes of token and nothing per request. The access key id is random too
// and bound to the token by being sealed in it.
//
// Session policies (Policy, PolicyArns) and ProviderId (OAuth 2.0 access
// tokens) are refused rather than ignored: Mizuchi cannot apply IAM
// policies, and silently widening what a caller asked to narrow would be
// wrong. DurationSeconds is bounded by the role as AWS does, not by the
// web identity token's exp.
package sts
