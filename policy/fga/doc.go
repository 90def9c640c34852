// Package fga is the OpenFGA authorization engine (config type "openfga"):
// each decision is one OpenFGA Check through the official Go SDK
// (github.com/openfga/go-sdk/client). The package is not named openfga so
// it does not clash with the SDK's own package name.
//
// # Guarantees
//
//   - Decide checks user "<user_type>:<subject>", the configured relation
//     and the object expanded from the template (config.OpenFGA.Object,
//     default "<object_type>:{bucket}"; placeholders {bucket}, {key},
//     {prefix} — the key before its last '/', empty when none — and
//     {subject}), in the configured store and authorization model (the
//     latest when none is set).
//   - The request context goes with every Check as the Check's context:
//     source_ip, action, content_length (-1 when unknown: declare it int,
//     not uint, in conditions), bucket and key, so conditions in the model
//     can use them.
//   - A subject or an expanded object that OpenFGA would refuse (empty,
//     ':', '#', whitespace or control characters in the id, invalid UTF-8,
//     over 512/256 characters, or the wildcard "*") is a denial with a
//     reason, decided locally without asking the server: a key can never
//     turn into another object or a userset.
//   - allowed true is an allow; allowed false (or absent) is a denial.
//     Anything else — a server error, a validation error (e.g. a type or
//     relation missing from the model, a missing condition parameter), a
//     connection error, ctx's deadline — is an error, and the caller
//     applies its fail mode. Decide returns by ctx's deadline (with no
//     deadline, by the configured timeout); the SDK's retries are off.
//   - The API token is sent as "Authorization: Bearer" and never logged or
//     put in an error. Connections are kept alive (MaxIdleConnsPerHost per
//     server) and no environment proxy is used.
//   - An Engine is safe for concurrent use; Close closes idle connections.
package fga
