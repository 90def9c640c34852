// Package limits holds the per-route upload limits the gateway checks from
// a request head, before any body byte is forwarded: object and part sizes
// and allowed content types. Object key rules are in package keytemplate
// (ValidateKey). It depends on the standard library only.
//
// # Sizes
//
// ObjectLimit and PartLimit turn a configured limit (0 = none) into the
// effective one, capped at S3's own limits (5 TiB per object, 5 GiB per
// part). A request whose Content-Length (or x-amz-decoded-content-length)
// is above the limit is answered 400 EntityTooLarge (ErrTooLarge) before
// the body is read; a body of unknown length (chunked) must be counted
// while streaming and aborted when it passes the limit.
//
// # Content types
//
// MatchContentType matches the media type of a Content-Type value (the part
// before ';', without surrounding spaces and tabs, ASCII case-insensitive)
// against glob patterns "type/subtype", in which '*' matches any run of
// characters except '/': "image/*", "*/*", "application/vnd.ms-*",
// "application/pdf". The pattern "*" alone matches any media type. There is
// no '?', '[...]' or escaping (media types never need them). An empty
// pattern list allows everything; otherwise a request without Content-Type
// is allowed only by "*" or "*/*" (the type the backend would store is not
// the client's choice). A refused type is ErrContentType: the gateway
// answers 400 InvalidArgument naming the allowed types.
// MatchContentType does not allocate.
package limits
