// Package config loads, completes and validates the Mizuchi configuration.
//
// # Format
//
// The YAML format of the original Rust Mizuchi (Mizuchi Uploadr,
// github.com/julianshen/mizuchi-uploadr: src/config/mod.rs, docs/CONFIG.md,
// config.example.yaml, examples/config.yaml) is accepted unchanged:
//
//	server:   address, zero_copy{enabled, pipe_buffer_size}
//	buckets[]: name, path_prefix,
//	          s3{bucket, region, endpoint, access_key, secret_key},
//	          auth{enabled,
//	               jwt{algorithm, secret, public_key, jwks_url, cache_ttl_seconds,
//	                   issuer, audience, token_sources[{type: bearer|query|header|cookie, name}]},
//	               sigv4{service, region, access_key, secret_key, max_clock_skew_seconds}},
//	          authz{enabled,
//	                opa{url, policy_path, timeout_seconds, cache_ttl_seconds, cache_max_entries},
//	                openfga{url, store_id, model_id, timeout_seconds, cache_ttl_seconds,
//	                        cache_max_entries}},
//	          upload{multipart_threshold, part_size, concurrent_parts}
//	metrics:  enabled, port
//	tracing:  enabled, service_name, otlp{endpoint, protocol, timeout_seconds, compression,
//	          headers},
//	          sampling{strategy, ratio}, batch{max_queue_size, scheduled_delay_millis,
//	          max_export_batch_size}
//
// (The original's serde structs had sigv4{service, region} and no authz
// field, while its docs list sigv4 keys and authz; both sets are accepted.)
// Additions of this version: server.{admin_address, loops, pipe_pool,
// splice_threshold, virtual_host_domains, max_header_bytes,
// header_timeout_seconds, idle_timeout_seconds, body_timeout_seconds,
// upstream_timeout_seconds, max_connections, tls, proxy_protocol.trusted,
// trusted_proxies, limits{max_connections_per_ip, min_body_bytes_per_second,
// min_body_rate_window_seconds, max_inflight_uploads,
// max_inflight_uploads_per_identity, requests_per_second_per_identity,
// burst_per_identity}, memory.buffer_budget},
// s3.{session_token, key_prefix, force_path_style},
// jwt.{algorithms, public_key_file, leeway_seconds, subject_claim,
// jwks_min_refresh_seconds}, token source type cookie,
// sigv4.credentials, authz.{type, engines, fail_mode},
// opa.{policy, policy_file, bundle, query, bearer_token, timeout_ms,
// cache_deny_ttl_seconds}, openfga.{api_url, authorization_model_id,
// api_token, relation, object_type, user_type, object, timeout_ms,
// cache_deny_ttl_seconds} and buckets[].allow_head. testdata/example.yaml
// shows every key with its default; testdata/policy/mizuchi.rego is an
// example policy for embedded OPA or an OPA server. docs/CONFIG.md is the
// operator's reference: one row per key (Keys), with type and default,
// checked against these structs by doc_test.go.
//
// Differences from the original, all stricter: unknown keys are errors (the
// original ignored them), an unset ${VAR} without default is an error (the
// original left the text in place), values are validated with their key
// path, and path_prefix defaults to "/" + name instead of being required.
// Sizes also accept units ("1MiB"). Where the original docs and code
// disagreed on a default, the docs won (OPA/OpenFGA cache TTL 60s). The
// OPA/OpenFGA timeout defaults to 100ms (the original's 5s would hold an
// upload that long behind a stalled engine).
//
// Uploads are bound to their uploader with the additions
// server.{upload_id_secret, upload_id_secrets} and
// upload.{key_template, max_upload_age_seconds, max_object_size,
// max_part_size, allowed_content_types}. A configuration with a route that
// has more than one identity (auth enabled with jwt, or sigv4 credentials of
// more than one subject) is refused without server.upload_id_secret (an
// original configuration with such a route must add it): the secret seals
// multipart upload ids so that one works only for the identity, route and
// key it was issued to.
//
// The sts section (an addition: enabled, jwt, roles[{arn, routes,
// key_template, required_claims, max_duration_seconds}], secrets) serves
// AssumeRoleWithWebIdentity on the S3 listener (package policy/sts). Its
// jwt takes the keys of a route's auth.jwt and is validated the same way;
// when enabled, jwt.issuer, jwt.audience, at least one role, sts.secrets
// and server.upload_id_secret are required, role ARNs are unique and start
// with "arn:", and routes name buckets. required_claims is a mapping of
// claim name to one value or a list (the one mapping with free-form keys).
//
// # Guarantees
//
// A *Config returned by Load, Parse or Dev has every default applied (each is
// documented on its field and set in defaults.go) and passed Validate.
// Every error names the key path and, for a file, the line:
//
//	buckets[0].s3.endpiont: unknown key (did you mean "endpoint"?) (line 12)
//	server.address: invalid listen address "x": missing port in address (line 2)
//
// Parse reports all problems it finds (up to 20), joined with errors.Join;
// each is an *Error.
//
// # Environment variables
//
// ${VAR}, ${VAR:-default} (unset or empty) and ${VAR-default} (unset) are
// substituted in every scalar value, and $$ is a literal '$'. A '$' followed
// by anything else is literal. Substitution is done on the parsed YAML
// scalars before they are decoded into Go values, not on the raw text, so a
// substituted secret containing '#' or ": " cannot change the document,
// comments are not expanded, and an unset variable is reported with its key
// path and line. A plain (unquoted) value that expands to nothing counts as
// absent, so the key keeps its default.
//
// # Not implemented yet
//
// Everything is implemented (auth, authz, server.tls and tracing
// included). Unsupported lists configured features this build cannot serve
// (today only an sts role naming a route without auth, whose session
// credentials would go unchecked) and the binary refuses such a configuration instead of
// serving it unprotected. Ignored lists accepted settings without effect
// (none today).
//
// # Decisions
//
//   - Decoding walks the yaml.Node tree by reflection over `yaml` field tags
//     (plus `alias` for the original key names such as openfga.url), rather
//     than yaml.v3's Decoder.KnownFields, so every error has a full key path
//     and duplicate or conflicting keys are caught.
//   - Sizes: KB/MB/GB/TB are powers of ten, KiB/MiB/GiB/TiB powers of two,
//     as VictoriaMetrics' flags; "1MB" is 1000000.
//   - The admin listener defaults to 127.0.0.1:<metrics.port> when metrics
//     are enabled (the original bound 0.0.0.0; an admin port reveals
//     internals, so another interface must be chosen explicitly);
//     server.admin_address or -admin-listen override it, and it is off when
//     metrics are disabled and no address is given.
//   - Upstream addressing: see S3.UsePathStyle (path-style for custom
//     endpoints, virtual-hosted for AWS, force_path_style overrides).
//   - Relative file names (tls, public_key_file, policy_file, bundle) are
//     relative to the working directory, and must exist when the file is
//     loaded.
//   - authz: the original single engine (type/opa/openfga) and the engines
//     list are exclusive; after loading Authz.Engines always holds the
//     complete list, so the gateway reads only Engines and FailMode.
package config
