// Package seal turns short secrets (multipart upload ids, later STS session
// tokens) into opaque, authenticated, URL-safe tokens and back, keyed by a
// rotation list of server secrets.
//
// # Guarantees
//
//   - A token is RawURLEncoding base64 (A-Z a-z 0-9 - _, no padding) of
//     version(1) || nonce(12) || AES-256-GCM ciphertext || tag(16). It is
//     safe in a URL path or query without escaping, and Overhead+len(plain)
//     bytes before base64 (SealedLen gives the token length).
//   - The plaintext is hidden and the whole token is authenticated, together
//     with caller-supplied additional data that is not stored in the token
//     (Seal and Open must be given the same ad).
//   - Keys are derived per secret and per purpose with HKDF-SHA256 (info
//     "mizuchi seal v1 " + purpose), so a token sealed for one purpose never
//     opens for another, and the version byte is bound through the key too:
//     a token of another format version never opens with these keys.
//   - The first secret seals; every secret opens (rotation: add the new
//     secret first, keep the old one until its tokens expired, then drop it).
//   - Open fails with ErrInvalid and nothing else for every reason (bad
//     base64, CR/LF, non-canonical trailing bits, truncation, tampering, wrong
//     purpose or ad, unknown secret, over MaxTokenLen): callers cannot learn
//     which. Because decoding is strict, every single-byte change of a valid
//     token fails to open.
//   - Open does not allocate when dst has 2*len(token) bytes of spare
//     capacity (allocation_test.go); the keys of a purpose are derived once
//     and cached.
//
// # Decisions
//
// AES-256-GCM with a random 96-bit nonce (crypto/cipher.NewGCMWithRandomNonce)
// rather than XChaCha20-Poly1305: it is in the standard library (no new
// direct dependency, FIPS 140-3 approved), runs on AES-NI/ARMv8 AES in
// constant time, and the usual limit of random-nonce GCM (about 2^32
// messages per key for a 2^-32 collision chance) is far away: keys are per
// purpose, rotated with the secret, and one gateway seals one token per
// CreateMultipartUpload. A nonce collision would leak the XOR of two
// plaintexts (backend upload ids) under one key, not the secret. GCM-SIV
// would remove even that, but it is not in the standard library.
//
// Tokens are not deterministic (a fresh nonce each time) and carry no key
// id: Open tries each secret in turn, which costs one GCM tag check per
// secret; rotation lists are short.
package seal
