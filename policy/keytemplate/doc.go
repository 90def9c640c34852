// Package keytemplate maps a client's object key to the key stored
// upstream, through a per-route template such as "{subject}/{key}", and
// checks keys against S3's rules.
//
// # Templates
//
// Compile accepts literal text and these placeholders:
//
//	{key}            the client's key, as decoded from the request (required, at least once)
//	{subject}        the authenticated subject
//	{route}          the route (bucket) name
//	{date}           the request day in UTC, YYYY-MM-DD
//	{claims.NAME}    a JWT claim: a string or a number (integers without
//	                 exponent or fraction); {claims.a.b} is claim "a.b" if
//	                 present, else claim "b" of the object claim "a"
//
// "{key}" is the default; IsIdentity reports it so the gateway can skip
// the work, and Append with it only copies the key (no allocation when dst
// has room, allocation_test.go).
//
// # Guarantees
//
// Compile refuses (ErrSyntax) a template without {key}, an unknown or
// empty placeholder, a stray '{' or '}', literal text that ValidateKey's
// character rules refuse, a literal path segment "." or "..", a literal
// piece of dots only next to a placeholder (as in "{subject}.{key}" or
// "{subject}/..{key}", which a value could turn into a dot segment), and a
// template longer than MaxKeyLen.
//
// Append refuses (ErrInvalid, the gateway answers 403 AccessDenied) a
// missing claim, a claim that is not a string or number, and any
// substituted value (subject, route, claim) that is empty, is "." or "..",
// contains '/', or breaks ValidateKey's character rules. Values may not
// contain '/' so that one identity can never write into another's
// namespace: with "{subject}/{key}", a subject "alice/x" would otherwise
// write below alice's "x/".
//
// Together: when the client's key passes ValidateKey, the output of a
// successful Append also has only valid characters and no "." or ".."
// segment (TestAppend_NoDotSegments and fuzz/keytemplate_test.go check
// this), so only its length is left to check: call
// ValidateKey(key, len(keyPrefix)+len(out)) after Append.
//
// # Key rules (ValidateKey)
//
// As S3, plus what a gateway in front of other S3 implementations needs:
//
//   - not empty; at most MaxKeyLen (1024) bytes as stored, that is after
//     key_prefix and template (ErrKeyTooLong: 400 KeyTooLongError);
//   - valid UTF-8 (utf8 rejects overlong encodings and surrogates), no
//     C0 control character or DEL (0x00-0x1F, 0x7F), no C1 control
//     character (U+0080-U+009F: invisible, and terminals act on some of
//     them), no U+FFFE or U+FFFF (not XML characters, so the key could not
//     be echoed in an S3 XML response); other errors are ErrKeyInvalid
//     (400 InvalidArgument);
//   - no path segment that is exactly "." or "..", so no backend or proxy
//     that normalizes dot segments can move a key out of its route's
//     key_prefix ("..%2F..%2Fother%2Fx" decodes to "../../other/x": refused).
//
// Empty segments ("a//b", "/a", "a/") and any other Unicode are valid and
// are stored exactly as given. ValidateKey does not allocate.
package keytemplate
