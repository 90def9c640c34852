package config

import "time"

// Config is the whole gateway configuration. Build it with Load, Parse or
// Dev; a Config returned by them is finished (defaults and derived values
// applied) and valid. A Config changed afterwards (ApplyFlags, tests) should be
// checked again with Validate.
type Config struct {
	Server  Server   `yaml:"server"`
	Buckets []Bucket `yaml:"buckets"`
	Metrics Metrics  `yaml:"metrics"`
	// Tracing exports one OpenTelemetry span per S3 request over OTLP
	// (cmd/mizuchi/tracing.go). Off by default.
	Tracing Tracing `yaml:"tracing"`
	// STS is the AssumeRoleWithWebIdentity endpoint on the S3 listener:
	// clients trade an OIDC token for short-lived SigV4 credentials. nil
	// (no sts section) = off.
	STS *STS `yaml:"sts"`
	// AccessLog is the access log (config/accesslog.go). nil (no
	// access_log section) = off.
	AccessLog *AccessLog `yaml:"access_log"`

	// DevDataDir is set only by Dev: the directory the embedded development
	// S3 backend stores objects under. Empty for a loaded configuration.
	DevDataDir string `yaml:"-"`

	// lines maps a key path to the line it was read from, so validation
	// errors can point into the file. Nil for configurations built in code.
	lines map[string]int
}

// Server configures the S3 listener and the admin listener.
type Server struct {
	// Address is the S3 listen address, host:port (original key).
	// Default "0.0.0.0:8080".
	Address string `yaml:"address"`
	// AdminAddress is the admin/metrics listen address (/metrics, /healthz,
	// /readyz, and /debug/pprof/ with -pprof). Default:
	// "127.0.0.1:<metrics.port>" when metrics.enabled is true (the original
	// bound 0.0.0.0; the admin listener reveals internals, so another
	// interface is an explicit choice); otherwise empty, which means no
	// admin listener.
	AdminAddress string `yaml:"admin_address"`
	// ZeroCopy is the original splice switch and pipe size.
	ZeroCopy ZeroCopy `yaml:"zero_copy"`
	// Loops is the number of gnet event loops. Default 0 = GOMAXPROCS.
	Loops int `yaml:"loops"`
	// PipePool is the maximum number of pipe pairs kept for splicing.
	// Default 256.
	PipePool int `yaml:"pipe_pool"`
	// SpliceThreshold: bodies of at least this many bytes are spliced;
	// smaller ones are relayed in the event loop. Default 256KiB.
	// 0 splices every body.
	SpliceThreshold Size `yaml:"splice_threshold"`
	// VirtualHostDomains enables virtual-hosted addressing: with "s3.local",
	// a request for host "uploads.s3.local" goes to the bucket named
	// "uploads". Lower-cased, without port or trailing dot. Default none
	// (path-style only).
	VirtualHostDomains []string `yaml:"virtual_host_domains"`
	// MaxHeaderBytes caps the request head size. Default 64KiB.
	MaxHeaderBytes Size `yaml:"max_header_bytes"`
	// HeaderTimeout bounds the time to receive a request head.
	// YAML: header_timeout_seconds (number of seconds or "10s"). Default 10s.
	HeaderTimeout time.Duration `yaml:"header_timeout_seconds,s"`
	// IdleTimeout closes keep-alive connections idle this long.
	// YAML: idle_timeout_seconds. Default 60s.
	IdleTimeout time.Duration `yaml:"idle_timeout_seconds,s"`
	// BodyTimeout is the stall timeout while reading a body: the upload is
	// aborted when no byte arrives for this long. YAML: body_timeout_seconds.
	// Default 60s.
	BodyTimeout time.Duration `yaml:"body_timeout_seconds,s"`
	// UpstreamTimeout bounds the wait for the backend's reply once the
	// request went out; past it the client gets 504 GatewayTimeout.
	// YAML: upstream_timeout_seconds. Default 5m.
	UpstreamTimeout time.Duration `yaml:"upstream_timeout_seconds,s"`
	// MaxConnections caps concurrent client connections. Default 10000.
	MaxConnections int `yaml:"max_connections"`
	// TLS serves HTTPS (HTTP/1.1, TLS 1.2+) on Address instead of plain
	// HTTP; both files must exist. The certificate is reloaded on SIGHUP.
	// Default: off.
	TLS TLS `yaml:"tls"`
	// UploadIDSecret seals the multipart upload ids the gateway hands out,
	// so an upload id is accepted only from the identity that started the
	// upload, on the same route and key (package policy/uploadid). At least
	// 32 bytes; put it in the environment: "${MIZUCHI_UPLOAD_ID_SECRET}".
	// The loader makes it the first entry of UploadIDSecrets; read that.
	// Default none. Required when a route has more than one identity (auth
	// enabled with jwt, or with sigv4 credentials of more than one subject).
	UploadIDSecret string `yaml:"upload_id_secret"`
	// UploadIDSecrets is the rotation list: the first seals new upload ids,
	// all of them open. To rotate, put the new secret first and keep the old
	// one until max_upload_age has passed. Each at least 32 bytes. After
	// loading it holds UploadIDSecret first (once). Default none.
	UploadIDSecrets []string `yaml:"upload_id_secrets"`
	// ProxyProtocol expects PROXY protocol headers from load balancers
	// (config/proxy.go). Default: off.
	ProxyProtocol ProxyProtocol `yaml:"proxy_protocol"`
	// TrustedProxies lists the peers (CIDR prefixes or addresses, []string)
	// whose X-Forwarded-For header is believed: for a request whose socket
	// peer is in the list, the client address is the right-most
	// X-Forwarded-For entry that is not itself a trusted proxy. Default:
	// empty (X-Forwarded-For is ignored).
	TrustedProxies []string `yaml:"trusted_proxies"`
	// Limits are connection, request and body-rate limits (limits.go).
	// Default: all off.
	Limits Limits `yaml:"limits"`
	// Memory bounds the body bytes buffered in user space (config/memory.go).
	Memory Memory `yaml:"memory"`
	// Spool buffers chunked UploadPart bodies on disk (config/spool.go).
	Spool Spool `yaml:"spool"`
}

// ZeroCopy is the original server.zero_copy section.
type ZeroCopy struct {
	// Enabled: false forces the copy path everywhere. Default true.
	Enabled bool `yaml:"enabled"`
	// PipeBufferSize is the size of each pipe (F_SETPIPE_SZ), 4KiB..1GiB.
	// Default 1MiB (1048576), as the original.
	PipeBufferSize Size `yaml:"pipe_buffer_size"`
}

// TLS names the certificate and key for the S3 listener.
type TLS struct {
	CertFile string `yaml:"cert_file"` // PEM certificate chain; default none
	KeyFile  string `yaml:"key_file"`  // PEM private key; default none
}

// Enabled reports whether TLS is configured.
func (t *TLS) Enabled() bool { return t.CertFile != "" || t.KeyFile != "" }

// Bucket is one upload route (the original "buckets[]" entry).
type Bucket struct {
	// Name is the bucket name clients use with virtual-hosted addressing and
	// the route's label in logs and metrics. Required, unique,
	// [A-Za-z0-9._-]{1,63} (lower-case DNS form when virtual hosts are on).
	Name string `yaml:"name"`
	// PathPrefix routes path-style requests: "/uploads/key" matches
	// "/uploads". It starts with '/', has no trailing '/', and is unique; the
	// longest matching prefix wins. Default "/" + Name (the original required
	// it).
	PathPrefix string `yaml:"path_prefix"`
	// S3 is the upstream backend.
	S3 S3 `yaml:"s3"`
	// Auth is authentication by SigV4 and/or JWT, verified on the event
	// loop before any body byte moves. Default: off (anonymous route).
	Auth Auth `yaml:"auth"`
	// Authz is authorization by OPA (embedded or server) and/or OpenFGA,
	// after authentication. Default: off.
	Authz Authz `yaml:"authz"`
	// Upload is the route's upload handling: auto-multipart tuning, key
	// template, upload id lifetime and upload limits.
	Upload Upload `yaml:"upload"`
	// AllowHead allows HeadObject on this route. Default false.
	AllowHead bool `yaml:"allow_head"`
	// CORS answers browser preflights and adds CORS headers. nil = no CORS
	// (preflights are refused).
	CORS *CORS `yaml:"cors"`
}

// CORS is a route's cross-origin policy for browser uploads.
type CORS struct {
	// AllowedOrigins are exact origins ("https://app.example.com") or "*".
	// Required.
	AllowedOrigins []string `yaml:"allowed_origins"`
	// AllowedHeaders are request headers a browser may send (case
	// insensitive), or "*". Default ["*"].
	AllowedHeaders []string `yaml:"allowed_headers"`
	// ExposeHeaders are response headers scripts may read. ETag and
	// x-amz-request-id are always exposed (browser multipart uploads need
	// the part ETags).
	ExposeHeaders []string `yaml:"expose_headers"`
	// MaxAge is how long a browser may cache a preflight. YAML:
	// max_age_seconds. Default 0 (header omitted).
	MaxAge time.Duration `yaml:"max_age_seconds,s"`
}

// S3 is the upstream backend of a route.
type S3 struct {
	// Bucket is the backend bucket. Required.
	Bucket string `yaml:"bucket"`
	// Region signs upstream requests. Required.
	Region string `yaml:"region"`
	// EndpointURL is the backend base URL, "http://host[:port]" or
	// "https://host[:port]" without path, query or user info. YAML key
	// "endpoint". Default empty = AWS, https://s3.<region>.amazonaws.com
	// (amazonaws.com.cn for cn-* regions). See Endpoint.
	EndpointURL string `yaml:"endpoint"`
	// AccessKey and SecretKey are static upstream credentials; set both or
	// neither. Neither means the standard AWS chain (see Credentials).
	AccessKey string `yaml:"access_key"`
	SecretKey string `yaml:"secret_key"`
	// SessionToken goes with static keys (temporary credentials). Default none.
	SessionToken string `yaml:"session_token"`
	// KeyPrefix is prepended to every object key upstream, e.g. "incoming/".
	// It must not start with '/'. Default none.
	KeyPrefix string `yaml:"key_prefix"`
	// ForcePathStyle selects path-style upstream URLs (host/bucket/key)
	// instead of virtual-hosted ones (bucket.host/key). Nil = automatic:
	// path-style for a custom endpoint (MinIO and most S3-compatible
	// servers), virtual-hosted for AWS unless the bucket name contains a dot.
	// Use UsePathStyle rather than reading this field.
	ForcePathStyle *bool `yaml:"force_path_style"`
}

// Upload is a route's upload handling: the original multipart tuning
// (multipart_threshold, part_size, concurrent_parts), which drives
// auto-multipart, and the additions key_template, max_upload_age_seconds,
// max_object_size, max_part_size and allowed_content_types.
//
// A PutObject larger than MultipartThreshold, or a chunked one of unknown
// length, is uploaded as a multipart upload of PartSize parts, up to
// ConcurrentParts in flight, each held in memory until the backend took it
// (so a failed part can be retried). The original's defaults (50 MiB,
// 100 MiB) are not kept: 5 GiB is the most S3 accepts in one PUT, so
// smaller objects keep their single PUT (and ETag), and 16 MiB parts bound
// the memory of one upload to PartSize x (ConcurrentParts + 1) = 80 MiB.
type Upload struct {
	MultipartThreshold Size `yaml:"multipart_threshold"` // default 5GiB
	PartSize           Size `yaml:"part_size"`           // default 16MiB, at least 5MiB
	ConcurrentParts    int  `yaml:"concurrent_parts"`    // default 4, at least 1

	// KeyTemplate maps the client's key to the key stored upstream (after
	// s3.key_prefix), e.g. "{subject}/{key}" or
	// "{claims.tenant}/{date}/{key}"; see package policy/keytemplate.
	// Default "{key}" (the client's key).
	KeyTemplate string `yaml:"key_template"`
	// MaxUploadAge is how long a multipart upload id stays valid after
	// CreateMultipartUpload; later calls with it get 404 NoSuchUpload. YAML:
	// max_upload_age_seconds (number of seconds or "168h"). Default 7 days.
	MaxUploadAge time.Duration `yaml:"max_upload_age_seconds,s"`
	// MaxObjectSize is the largest object a client may upload. Default 0 =
	// S3's limit, 5TiB.
	MaxObjectSize Size `yaml:"max_object_size"`
	// MaxPartSize is the largest part of a client's multipart upload.
	// Default 0 = S3's limit, 5GiB; otherwise 5MiB..5GiB.
	MaxPartSize Size `yaml:"max_part_size"`
	// AllowedContentTypes are media type globs ("image/*",
	// "application/pdf", "*"); see policy/limits.MatchContentType. Default
	// none = any content type.
	AllowedContentTypes []string `yaml:"allowed_content_types"`
}

// Auth is a route's authentication (original keys: enabled, jwt, sigv4).
type Auth struct {
	// Enabled turns authentication on; then jwt or sigv4 (or both) must be
	// configured. Default false.
	Enabled bool   `yaml:"enabled"`
	JWT     *JWT   `yaml:"jwt"`   // nil when absent
	SigV4   *SigV4 `yaml:"sigv4"` // nil when absent
}

// JWT configures bearer-token authentication. Original keys: algorithm,
// secret, public_key, jwks_url, cache_ttl_seconds, issuer, audience,
// token_sources; the others are additions.
type JWT struct {
	// Algorithm is the original single algorithm. It is merged into
	// Algorithms by the loader; read Algorithms.
	Algorithm string `yaml:"algorithm"`
	// Algorithms accepted: HS256/384/512, RS256/384/512, PS256/384/512,
	// ES256/384/512, EdDSA. Default [Algorithm], else [HS256] when Secret is
	// set, else [RS256]. HS* needs Secret; the others need a public key or
	// JWKS.
	Algorithms []string `yaml:"algorithms"`
	// Secret is the HMAC key. Default none.
	Secret string `yaml:"secret"`
	// PublicKey is a PEM public key; PublicKeyFile reads it from a file
	// (which must exist). At most one of the two.
	PublicKey     string `yaml:"public_key"`
	PublicKeyFile string `yaml:"public_key_file"`
	// JWKSURL is the https:// URL of a JWK set. Default none.
	JWKSURL string `yaml:"jwks_url"`
	// JWKSAllowHTTP accepts an http:// jwks_url. Keys fetched without TLS
	// can be replaced by anyone on the path, so this is for identity
	// providers on loopback and tests. A redirect from https to http is
	// never followed. Default false.
	JWKSAllowHTTP bool `yaml:"jwks_allow_http"`
	// CacheTTL is how long a fetched JWK set is used. YAML:
	// cache_ttl_seconds. Default 1h, as the original docs.
	CacheTTL time.Duration `yaml:"cache_ttl_seconds,s"`
	// MinRefresh is the least time between JWKS refreshes triggered by a
	// token naming an unknown kid. YAML: jwks_min_refresh_seconds. Default
	// 10s.
	MinRefresh time.Duration `yaml:"jwks_min_refresh_seconds,s"`
	// Issuer, when set, must equal the "iss" claim.
	Issuer string `yaml:"issuer"`
	// Audience, when set, must intersect the "aud" claim. YAML accepts a
	// string or a list.
	Audience []string `yaml:"audience"`
	// Leeway is the clock skew allowed on exp/nbf/iat. YAML: leeway_seconds.
	// Default 60s.
	Leeway time.Duration `yaml:"leeway_seconds,s"`
	// SubjectClaim names the claim used as the subject. Default "sub".
	SubjectClaim string `yaml:"subject_claim"`
	// TokenSources lists where tokens are looked for, in order. Default
	// [{type: bearer}].
	TokenSources []TokenSource `yaml:"token_sources"`
}

// TokenSource is one place a JWT is read from.
type TokenSource struct {
	// Type is "bearer" (Authorization: Bearer), "query", "header" or
	// "cookie".
	Type string `yaml:"type"`
	// Name is the query parameter, header or cookie name; required for
	// query, header and cookie.
	Name string `yaml:"name"`
}

// SigV4 configures AWS Signature V4 authentication of clients. Original keys:
// service, region (code) and access_key, secret_key, region,
// max_clock_skew_seconds (docs); credentials is an addition.
type SigV4 struct {
	// Service is the signing service name. Default "s3".
	Service string `yaml:"service"`
	// Region clients sign for. Default the route's s3.region.
	Region string `yaml:"region"`
	// MaxClockSkew is the allowed difference between X-Amz-Date and now.
	// YAML: max_clock_skew_seconds. Default 5m.
	MaxClockSkew time.Duration `yaml:"max_clock_skew_seconds,s"`
	// AccessKey and SecretKey are one client credential (original form).
	AccessKey string `yaml:"access_key"`
	SecretKey string `yaml:"secret_key"`
	// Credentials are further client credentials.
	Credentials []SigV4Credential `yaml:"credentials"`
}

// SigV4Credential is one client key pair.
type SigV4Credential struct {
	AccessKey string `yaml:"access_key"`
	SecretKey string `yaml:"secret_key"`
	// Subject is the identity passed to authorization. Default the access key.
	Subject string `yaml:"subject"`
}

// Authorization types.
const (
	AuthzOPA       = "opa"        // embedded Rego (opa.policy, opa.policy_file or opa.bundle)
	AuthzOPAServer = "opa_server" // remote OPA (opa.url)
	AuthzOpenFGA   = "openfga"    // OpenFGA check API
)

// Authorization fail modes (Authz.FailMode).
const (
	FailClosed = "closed" // an engine that cannot decide denies (503)
	FailOpen   = "open"   // an engine that cannot decide allows (counted)
)

// Authz is a route's authorization. Original keys: enabled, opa, openfga;
// engines and fail_mode are additions.
//
// One engine is configured either with the original top-level type/opa/
// openfga keys or as the single entry of engines; several engines only with
// engines. The two forms are exclusive. After loading, Engines always holds
// the complete list (the top-level engine becomes Engines[0], sharing its
// *OPA and *OpenFGA), so the gateway reads only Engines and FailMode.
type Authz struct {
	// Enabled turns authorization on. Default false.
	Enabled bool `yaml:"enabled"`
	// Type is AuthzOPA, AuthzOPAServer or AuthzOpenFGA. Default inferred:
	// opa with url -> opa_server, opa without url -> opa, openfga -> openfga.
	Type    string   `yaml:"type"`
	OPA     *OPA     `yaml:"opa"`     // nil when absent
	OpenFGA *OpenFGA `yaml:"openfga"` // nil when absent
	// Engines are asked in order and must all allow; the first denial
	// decides. Default: the top-level engine, if any.
	Engines []AuthzEngine `yaml:"engines"`
	// FailMode applies when an engine cannot decide (server down, timeout,
	// a bad policy result): FailClosed refuses the request, FailOpen lets
	// it through. Default "closed".
	FailMode string `yaml:"fail_mode"`
}

// AuthzEngine is one entry of authz.engines: a type and the section it
// reads. Type is inferred as for Authz.Type; an entry has exactly one of
// opa and openfga.
type AuthzEngine struct {
	Type    string   `yaml:"type"`
	OPA     *OPA     `yaml:"opa"`     // nil when absent
	OpenFGA *OpenFGA `yaml:"openfga"` // nil when absent
}

// OPA configures embedded Rego or a remote OPA server. Original keys: url,
// policy_path, timeout_seconds, cache_ttl_seconds, cache_max_entries.
//
// Embedded policies are Rego v1 (a bundle's manifest may say otherwise) and
// cannot call http.send or net.lookup_ip_addr: embedded evaluation never
// waits for I/O. The policy's result is a boolean or {"allow": bool,
// "reason": string}; undefined denies.
type OPA struct {
	// Policy is inline Rego source; PolicyFile reads it from a file (which
	// must exist); Bundle loads a directory of .rego files with optional
	// data.json/data.yaml, or an OPA bundle .tar.gz (which must exist).
	// Exactly one of the three for type opa.
	Policy     string `yaml:"policy"`
	PolicyFile string `yaml:"policy_file"`
	Bundle     string `yaml:"bundle"`
	// Query evaluated by embedded OPA. Default "data.mizuchi.allow".
	Query string `yaml:"query"`
	// URL is the OPA server base URL (type opa_server).
	URL string `yaml:"url"`
	// PolicyPath is the decision path on the server, normalized to the form
	// after /v1/data/ ("/v1/data/mizuchi/allow" and "mizuchi/allow" both
	// become "mizuchi/allow"). Default "mizuchi/allow".
	PolicyPath string `yaml:"policy_path"`
	// BearerToken is sent as "Authorization: Bearer" to the OPA server
	// (type opa_server). Default none.
	BearerToken string `yaml:"bearer_token"`
	// Timeout of one decision. YAML: timeout_ms, or the original
	// timeout_seconds. Default 100ms.
	Timeout time.Duration `yaml:"timeout_ms,ms" alias:"timeout_seconds,s"`
	// CacheTTL is how long an allow is cached. YAML: cache_ttl_seconds.
	// Default 60s; 0 = not cached.
	CacheTTL time.Duration `yaml:"cache_ttl_seconds,s"`
	// CacheDenyTTL is how long a denial is cached. YAML:
	// cache_deny_ttl_seconds. Default 5s; 0 = not cached.
	CacheDenyTTL time.Duration `yaml:"cache_deny_ttl_seconds,s"`
	// CacheMaxEntries bounds the decision cache. Default 1000.
	CacheMaxEntries int `yaml:"cache_max_entries"`
}

// OpenFGA configures OpenFGA checks. Original keys: url, store_id, model_id,
// timeout_seconds, cache_ttl_seconds, cache_max_entries (api_url and
// authorization_model_id are accepted as the SDK's names).
type OpenFGA struct {
	// APIURL is the OpenFGA base URL. YAML: api_url or the original url.
	APIURL string `yaml:"api_url" alias:"url"`
	// StoreID is required.
	StoreID string `yaml:"store_id"`
	// AuthorizationModelID; empty = latest. YAML: authorization_model_id or
	// the original model_id.
	AuthorizationModelID string `yaml:"authorization_model_id" alias:"model_id"`
	// APIToken is a bearer token for the OpenFGA API. Default none.
	APIToken string `yaml:"api_token"`
	// Relation checked for uploads. Default "writer" (the original mapped
	// uploads to writer).
	Relation string `yaml:"relation"`
	// ObjectType and UserType: the check's user is "<user_type>:<subject>";
	// ObjectType gives Object's default. Defaults "bucket" and "user".
	ObjectType string `yaml:"object_type"`
	UserType   string `yaml:"user_type"`
	// Object is the template of the checked object, "<type>:<id>", where the
	// id may use {bucket} (route name), {key} (object key), {prefix} (the
	// key before its last '/', empty when none) and {subject}, e.g.
	// "folder:{bucket}/{prefix}". Default "<object_type>:{bucket}". A
	// request whose expansion is not a valid OpenFGA object is denied.
	Object string `yaml:"object"`
	// Timeout of one check. YAML: timeout_ms or timeout_seconds.
	// Default 100ms.
	Timeout time.Duration `yaml:"timeout_ms,ms" alias:"timeout_seconds,s"`
	// CacheTTL is how long an allow is cached. YAML: cache_ttl_seconds.
	// Default 60s; 0 = not cached.
	CacheTTL time.Duration `yaml:"cache_ttl_seconds,s"`
	// CacheDenyTTL is how long a denial is cached. YAML:
	// cache_deny_ttl_seconds. Default 5s; 0 = not cached.
	CacheDenyTTL time.Duration `yaml:"cache_deny_ttl_seconds,s"`
	// CacheMaxEntries bounds the decision cache. Default 1000.
	CacheMaxEntries int `yaml:"cache_max_entries"`
}

// Metrics is the original metrics section.
type Metrics struct {
	// Enabled serves /metrics on the admin listener. Default true.
	Enabled bool `yaml:"enabled"`
	// Port gives the default admin address 127.0.0.1:<port>. Default 9090.
	Port int `yaml:"port"`
}

// Tracing is the original OpenTelemetry section. Enabled, every S3 request
// gets a server span (children: authentication, authorization, the backend
// exchange), the client's W3C traceparent/tracestate is its parent, and the
// backend request carries a traceparent (unsigned). Changes take effect on a
// restart, not on SIGHUP.
type Tracing struct {
	Enabled     bool     `yaml:"enabled"`      // default false
	ServiceName string   `yaml:"service_name"` // default "mizuchi"
	OTLP        OTLP     `yaml:"otlp"`
	Sampling    Sampling `yaml:"sampling"`
	Batch       Batch    `yaml:"batch"`
}

// OTLP is tracing.otlp.
type OTLP struct {
	// Endpoint is the collector's URL, required when enabled. http:// is
	// plaintext, https:// is TLS (system roots): the scheme is the
	// "insecure" switch. For protocol http/protobuf a URL without a path
	// (or "/") gets /v1/traces; any other path is used as it is.
	Endpoint    string        `yaml:"endpoint"`
	Protocol    string        `yaml:"protocol"`          // "grpc" (default), "http/protobuf" or "http" (the same)
	Timeout     time.Duration `yaml:"timeout_seconds,s"` // one export's timeout; default 10s
	Compression string        `yaml:"compression"`       // "", "none" or "gzip"
	// Headers are sent with every export (e.g. an API key); never logged.
	// Default none.
	Headers map[string]string `yaml:"headers"`
}

// Sampling is tracing.sampling.
type Sampling struct {
	// Strategy: always (default: every request), never, ratio (Ratio of
	// the trace ids, ignoring the client's sampled flag), parent_based
	// (the client's sampled flag when it sent a traceparent, else Ratio).
	Strategy string  `yaml:"strategy"`
	Ratio    float64 `yaml:"ratio"` // 0..1, default 1
}

// Batch is tracing.batch.
type Batch struct {
	MaxQueueSize       int           `yaml:"max_queue_size"`            // default 2048
	ScheduledDelay     time.Duration `yaml:"scheduled_delay_millis,ms"` // longest wait before a batch is sent; default 5s
	MaxExportBatchSize int           `yaml:"max_export_batch_size"`     // default 512
}

// STS configures the stateless AssumeRoleWithWebIdentity endpoint (package
// policy/sts). A client presents an OIDC token verified with JWT, names one
// of Roles and receives temporary SigV4 credentials whose session token is
// sealed with Secrets: no state is kept anywhere.
type STS struct {
	// Enabled turns the endpoint on; then jwt, roles and secrets are
	// required. Default false.
	Enabled bool `yaml:"enabled"`
	// JWT verifies the web identity tokens: the same keys and checks as a
	// route's auth.jwt (issuer, audience, algorithms, keys or jwks_url,
	// leeway, subject_claim). token_sources has no effect here: the token
	// is the WebIdentityToken parameter.
	JWT JWT `yaml:"jwt"`
	// Roles a token may assume, by RoleArn. At least one when enabled.
	Roles []STSRole `yaml:"roles"`
	// Secrets seal the session tokens: the first seals, all of them open.
	// To rotate, put the new secret first and keep the old one until the
	// longest max_duration_seconds has passed. Each at least 32 bytes; put
	// them in the environment. Required when enabled.
	Secrets []string `yaml:"secrets"`
}

// STSRole is one role of sts.roles.
type STSRole struct {
	// ARN is the RoleArn clients send: "arn:" then any text (AWS SDKs
	// send whatever the user set), 20 to 2048 bytes, unique, e.g.
	// "arn:aws:iam::123456789012:role/uploader". Required.
	ARN string `yaml:"arn"`
	// Routes are the bucket names (buckets[].name) the credentials may
	// upload to. At least one.
	Routes []string `yaml:"routes"`
	// KeyTemplate scopes every key: the credentials may only upload keys
	// (as the client names them) that start with its expansion, fixed when
	// the credentials are issued. Placeholders {sub} or {subject} (the
	// token's subject) and {claims.NAME} (a string or integer claim), as
	// in upload.key_template; a value that is missing, empty, "." or "..",
	// or contains '/' refuses the AssumeRoleWithWebIdentity call with
	// AccessDenied. It must end with '/' so that one subject's prefix is
	// never the start of another's (with "{sub}", subject "al" could write
	// "alice..."). Default "" = any key.
	KeyTemplate string `yaml:"key_template"`
	// RequiredClaims must all hold for a token to assume the role: claim
	// name -> one value or a list of values. A claim holds when its value
	// (or, for a list claim such as groups, one of its elements) equals one
	// of the listed values; booleans and numbers compare by their JSON
	// text ("true", "42"). Default none.
	RequiredClaims map[string][]string `yaml:"required_claims"`
	// MaxDuration is the longest session a client may ask for with
	// DurationSeconds (900 seconds up to this). YAML: max_duration_seconds.
	// Default 3600 (1h); 15m to 12h.
	MaxDuration time.Duration `yaml:"max_duration_seconds,s"`
}
