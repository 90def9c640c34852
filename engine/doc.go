// Package engine is Mizuchi's S3 endpoint: gnet event loops own the client
// sockets, parse request heads in place, route and classify each request,
// refuse what is not an upload with an S3 XML error, relay small uploads on
// the loop itself and hand large ones to worker goroutines.
//
// # Event-loop discipline
//
// OnTraffic never blocks. It parses the head in gnet's buffer (httpparse, no
// allocation), matches the route, classifies the operation and validates
// lengths. Work that only costs CPU (authentication, signing the upstream
// head, parsing the backend's reply) may run on the loop; anything that can
// wait (credential refresh, DNS, dialing, a blocking read or write) runs in
// a worker goroutine, whose response comes back through gnet's AsyncWrite;
// its callback runs on the loop and resumes the connection (Wake when
// pipelined bytes are waiting). A connection has at most one request in
// flight.
//
// # The in-loop relay (uplink.go)
//
// A request whose head and body are all in gnet's buffer (a body under the
// splice threshold) is relayed without leaving its loop when the loop has
// an idle link to the route's backend: a plain-TCP backend connection
// dialed off the loop and enrolled on that loop with EventLoop.Enroll. The
// loop signs the upstream head with cached backend credentials
// (upstream.Builder.AppendHeadCached), writes head and body with one writev,
// and the link's OnTraffic parses the reply (upstream.ParseResponse, which
// never blocks), maps it and writes the client's response on the same
// loop: no goroutine, no thread hand-off, four syscalls per request (read,
// writev, read, write; nginx makes seven). A loop with no idle link starts
// a dial (at most 4 at once, 256 links per loop and endpoint) and hands the
// request to a worker meanwhile; so do TLS backends, credentials due for a refresh, and
// aws-chunked bodies over 64 KiB (their decoding hashes every chunk). A
// reused link the backend closed before answering is retried once by a
// worker; a truncated or malformed reply is a 500 InternalError. Links idle
// longer than the endpoint's idle timeout, and links whose reply is
// overdue (UpstreamTimeout), are closed by a per-loop sweep that runs on
// the loop (EventLoop.Execute). Counted as
// mizuchi_buffered_relays_total{path="loop"|"worker"}.
//
// # Operations and bodies
//
// The upload surface is served (op.go): PutObject, the multipart family
// (XML replies rewritten to the client's bucket and key, multipart.go) and
// HeadObject on routes with AllowHead; CORS preflights are answered on the
// loop (cors.go). Bodies are Content-Length (spliced or relayed as is),
// aws-chunked (decoded and verified, decode.go; re-framed with the checksum
// trailer for the backend, rechunk.go), chunked around aws-chunked, or, for
// a PutObject above the route's threshold or of unknown length, an
// auto-multipart upload from a bounded in-memory spool (automp.go).
//
// # Authentication
//
// A route with an Auth is authenticated on the loop, from the head alone,
// right after classification: before any body byte is forwarded and before
// 100 Continue, so a refused upload costs microseconds and no body transfer.
// SigV4 (sigv4.Verifier, one per pooled loop scratch) and cached JWTs
// allocate nothing. The one step that can wait, a JWKS refresh for a token
// naming an unknown kid, runs on policy's refresh goroutine: the connection
// is parked (authWait; its bytes stay in gnet's buffer) and woken with Wake,
// and OnTraffic then parses and authenticates the same head again, once.
// While a small body arrives over several read events the head is parsed
// again each time, but its authentication result is kept on the connection
// (connState.authed, for that route's Auth) and not recomputed; it is
// dropped when the request is relayed or refused. aws-chunked heads are
// verified again, since their seed signature must reach the decoder.
// Signed aws-chunked bodies (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER])
// are decoded with sigv4.ChunkDecoder (decode.go), holding the
// last decoded byte back until every signature verified.
//
// # STS (sts.go)
//
// With Router.STS set, AssumeRoleWithWebIdentity is served on the S3
// listener as AWS STS serves it (package policy/sts): POST "/" with an
// application/x-www-form-urlencoded body, or GET "/" with an Action
// parameter, on any host that is not a virtual-hosted bucket (path
// prefixes are never "/", so no route is shadowed; without STS such
// requests get today's answers). The loop waits for the body in gnet's
// buffer (at most sts.MaxRequestSize; larger, or chunked, is refused with
// STS's ErrorResponse) and hands the call to a worker goroutine: verifying
// an RS256 token costs about 50 µs, Assume about 10 µs, and a token naming
// an unknown kid waits there for a JWK set refresh and is tried once more.
// The worker answers with AsyncWrite (text/xml, x-amzn-RequestId, status
// and codes as AWS); the connection is busy meanwhile, so one request stays
// in flight. CORS preflights of "/" are answered on the loop with the union
// of the CORS policies of the routes the roles name. Counted in
// mizuchi_sts_requests_total{result="issued"|"preflight"|<error code>}; the
// access log names the role, never a token or key.
//
// Session credentials are verified inline like any SigV4 request, on the
// routes some role names: their VerifyConfig has a Resolve
// (SessionResolver) that opens the X-Amz-Security-Token (header, or query
// of a presigned URL) with no lookup: one AES-GCM open per configured
// secret at most, the Session and two small allocations; the signing key
// is derived per request (sessions bypass the KeyCache). The identity is
// auth "sts" with the session's subject, access key id, role and (decoded
// after the signature verified, only where authorization or a
// {claims.NAME} key template reads them) claims. Refusals are S3's: 400
// InvalidToken (does not open, tampered, a token with a long-term key),
// 400 ExpiredToken, 403 InvalidAccessKeyId (access key id not the token's),
// counted in mizuchi_sts_session_refused_total{reason}. bind then checks
// the session's scope (Session.Allows: the route is one of its role's
// and the client's key, before the route's template, starts with its
// prefix) for every operation: 403 AccessDenied otherwise
// (mizuchi_upload_refused_total{reason="sts_scope"}).
//
// # Upload binding (binding.go)
//
// After authentication and bodyMode, before authorization, 100 Continue,
// any body byte and any backend connection, the loop binds the request to
// its uploader (Route.Upload):
//
//   - The client's decoded key goes through the route's key template
//     (policy/keytemplate, e.g. "{subject}/{key}") to the stored key; the
//     endpoint's KeyPrefix is added upstream. A template that cannot be
//     applied to the identity (missing claim, a value with '/') is 403
//     AccessDenied. keytemplate.ValidateKey then checks the client's key and
//     the stored length (KeyPrefix + stored key): 400 KeyTooLongError, or
//     400 InvalidArgument for invalid UTF-8, control characters and "." or
//     ".." segments. Every route gets this check.
//   - With a Sealer, CreateMultipartUpload's <UploadId> is replaced by
//     uploadid.Seal(backend id, {route name, stored key without
//     KeyPrefix, subject}, now + MaxUploadAge); the uploadId of UploadPart,
//     CompleteMultipartUpload, AbortMultipartUpload and ListParts is opened
//     on the loop, and any failure (tampered, truncated, another identity,
//     key or route, expired, an unsealed id) is 404 NoSuchUpload. The
//     backend's id replaces it in the upstream query (percent-encoded);
//     ListParts echoes the client's sealed id; errors are the gateway's own
//     bodies, so no backend id reaches a client. The authorization input
//     keeps the client's (sealed) id. Auto-multipart uses backend ids
//     internally and never seals them. With a {date} template a sealed id
//     also opens with the stored key of the earlier days it may have been
//     created on (up to 31), so an upload started before midnight UTC
//     continues on its own key. Without a Sealer ids pass through.
//   - Limits from the head: MaxObjectSize for PutObject (the decoded length
//     of aws-chunked), MaxPartSize for UploadPart (400 EntityTooLarge with
//     the limit in the message and <ProposedSize>/<MaxSizeAllowed>), and
//     AllowedContentTypes for PutObject and CreateMultipartUpload (400
//     InvalidArgument naming the allowed types). A chunked PutObject of
//     unknown length is counted while it streams and cut off with 400
//     EntityTooLarge when it passes MaxObjectSize; its internal upload is
//     aborted.
//
// The stored key and backend id are copied into the exchange (setBind);
// the worker's re-parse only decodes the client's key, which every reply
// shows (XML Key and Location). A route without Sealer, template or
// limits only decodes and validates the key, without allocating; with
// them the loop work is a template append and one AES-GCM open, also
// without allocating (alloc_test.go). Refusals are counted in
// mizuchi_upload_refused_total{reason}.
//
// Routing uses the raw path, but a percent-encoded path is matched a second
// time on its decoded form (Router.MatchesDecoded, the form SigV4 verified):
// a request whose two matches differ is refused with 400 InvalidURI, so a
// signature computed for one route can never land on another.
//
// # Authorization (authorize.go)
//
// A route with an Authz (policy/authz) is authorized after authentication
// and upload binding, from the head: before 100 Continue, before any body
// byte is read and before any backend connection is used. The decision
// input (policy.Input) is built on the loop and looked up in the route's
// decision caches; a hit is answered on the loop. A miss is never decided
// on the loop, embedded Rego included (50–65 µs per evaluation measured
// here): the connection parks (authWait, as for a JWKS refresh) while a
// goroutine decides and wakes it. A request whose body would leave the
// loop unread (large or chunked) is not parked, since gnet would keep
// reading its body into the buffer: its decision travels with the
// detached socket and the worker makes it before reading the body or
// answering 100 Continue. A denial is 403 AccessDenied with the policy's
// reason; no decision under fail_mode closed is 503 with Retry-After.
//
// # Two body paths
//
//   - In-loop (copy): a body under the splice threshold (default 256 KiB)
//     waits in gnet's buffer; the loop answers 100 Continue once the request
//     is accepted. When head and body are complete they are copied into a
//     pooled exchange and relayed on the loop (above), or by a worker
//     when the loop cannot. gnet cannot pause reading a
//     socket, so what it may buffer per connection is bounded (head limit +
//     threshold + 64 KiB); a connection that pipelines more is closed.
//   - Detached (splice): a larger body leaves the event loop. On the loop:
//     Dup() the socket, copy the bytes gnet already read, return gnet.Close
//     (gnet deletes the fd from epoll and closes its copy; OnClose fires with
//     the connection marked as detaching). The worker adopts the dup with
//     net.FileConn so Go's netpoller parks it while waiting, connects to the
//     backend, writes the signed head and the buffered bytes, sends
//     100 Continue if the client asked, then moves the rest with
//     pipes.Splice (kernel-side, through a pooled pipe) or pipes.Copy for a
//     TLS backend or with zero copy off. It writes the response itself and
//     hands the socket back to the same loop with EventLoop.Enroll.
//
// # Memory: the buffer budget (membudget.go, bodybuf.go)
//
// Body bytes held in user space come from one budget
// (Config.BufferBudget, default 256 MiB), a lock-free counter: TryAcquire
// never waits, so nothing can deadlock on it and it may be asked on a loop.
// What draws from it, and when:
//
//   - An auto-multipart upload reserves all its part buffers at once,
//     before the backend upload is created and before 100 Continue
//     (reserveParts): Concurrent+1 buffers of PartSize, fewer (at least
//     one, sending parts one at a time) when the whole budget holds fewer,
//     plus 512 KiB of read buffers for a chunked body. It never asks for
//     more while it runs, and gives the reservation back when it ends, on
//     every path. The part size grows with the declared length (10,000
//     parts at most); a length whose parts would not fit in the whole
//     budget is refused with 400 EntityTooLarge, since a retry cannot help.
//   - A detached body that is not spliced (TLS client or backend, zero copy
//     off, aws-chunked decoding, or the pipe pool exhausted, counted in
//     mizuchi_pipe_pool_exhausted_total) takes one 256 KiB copy buffer;
//     the pipe or the buffer is taken before the upstream head is written
//     and before 100 Continue (takeBodyBuf).
//
// A request that finds no room is answered 503 SlowDown with Retry-After: 1
// before any body byte is read. Not counted: in-loop bodies (bounded by
// splice threshold x connections, above), a TLS connection's plaintext
// buffer (pooled, held only while it has bytes: tlsconn.go) and crypto/tls's
// own record buffers, and heads. The process's Go memory limit is set to the
// budget plus 256 MiB (cmd/mizuchi/memory.go) so buffers of finished
// uploads are collected before garbage doubles the heap.
//
// # TLS
//
// With Config.TLS the public listener belongs to crypto/tls, not gnet
// (tls.go). Each accepted connection is handshaken by its own goroutine
// (bounded by HeaderTimeout, never on a loop; HTTP/1.1 via ALPN, TLS 1.2+),
// then its TCP socket is handed to gnet with Engine.Register
// (LeastConnections balancing, since Register is called from those
// goroutines) and served on a loop like a TCP client (tlsconn.go): the
// connection's tls.Conn runs over a memory wire, so the loop decrypts the
// ciphertext gnet read in place (pull, one tls.Conn.Read per record) and
// the engine parses the plaintext through tlsConn, a gnet.Conn whose
// Reader methods serve it and whose Writer methods seal. A response
// relayed by a worker is sealed on that worker and queued with
// AsyncWrite; a connection has one request in flight, so records leave in
// order. Records crypto/tls read ahead (a request sent with the client's
// Finished) are decrypted in OnOpen, which wakes the loop. A detached body
// is read through the same tls.Conn, its wire switched to the socket, and
// copied to the backend in full buffers (pipes.CopyFull: a tls.Conn returns
// one record per Read), never spliced: path="copy" and
// mizuchi_tls_bytes_total{dir="in"} count it. No extra socket, goroutine
// or copy sits between the client and the loop. gnet's own listener is a
// unix socket in a private directory, unlinked as soon as gnet has bound
// it (Engine.Register refuses an engine without a listener); loops are
// known to run at the first OnTick, which starts the TLS accept loop. A
// refusal in OnOpen is sealed too. The client's close_notify closes the
// connection; the engine's closes on the loop send no close_notify (the
// response framing ends each exchange), a detached connection's lingering
// close does. A plain HTTP request on the TLS port gets a 400 S3 error in
// plain text. kTLS (the kernel decrypting, so a body could be spliced) is
// not used: the kernels this was built on do not offer the tls ULP.
//
// # Tracing (trace.go)
//
// With Config.Tracer (the OpenTelemetry API; the SDK is the binary's), each
// S3 request gets a server span with children for authentication,
// authorization and the backend exchange, parented by the client's W3C
// traceparent; the backend request carries the upstream span's traceparent
// outside the signature. Without a Tracer each hook is a nil check.
//
// # Client address (clientaddr.go, proxyproto.go)
//
// A connection's client address is set once (connState.setClient): the
// socket peer, the TLS front's peer, or with Config.ProxyProtocol the
// source of the PROXY header the connection must start with (read on the
// loop before the first head, or by the TLS front before the handshake).
// Per request, X-Forwarded-For from a Config.TrustedProxies socket peer
// may name another (forwardedFor, zero-alloc). connState.clientAddr is
// what the access log, source_ip and per-client decisions read.
//
// # Failure handling
//
//   - Client closes or stalls mid-body: the backend connection is closed
//     mid-body, so the backend stores nothing; the client connection is
//     closed (a stall gets 400 RequestTimeout first).
//   - Backend fails mid-body: the client gets the backend's S3 error if it
//     sent one, else 500 InternalError, and the connection is closed.
//   - Backend errors map to the same S3 code and status for the client, with
//     a canonical message; the backend's own message and request id are
//     logged, not returned.
//   - Header, idle and body-wait timeouts of in-loop connections are enforced
//     by a sweeper (gnet has none per connection): a registry of connection
//     states with atomic deadlines, scanned once a second, closing through
//     gnet's concurrency-safe Close.
//
// # Metrics (metrics.go, latency.go, authmetrics.go, inflight.go)
//
// Series are created once and updated with atomic adds: fixed label sets
// (auth failures by method and reason, in-flight requests by kind) at
// start, per route series (requests by op and status, latency histograms
// by op) on first use, cached in the route's routeMetrics, so a request
// costs no map lookup and no string building (metrics_alloc_test.go).
// docs/METRICS.md lists every series.
//
// # Reloading
//
// Routes (SetRouter) and the settings in Tunables (SetTunables: head size,
// timeouts, connection cap, splice threshold) are swapped through atomic
// pointers; the loop loads each once per read event, so a reload applies
// to what starts afterwards and costs the hot path one atomic load and no
// allocation. A request keeps the route and limits it was accepted under.
// Listener, loops and the pipe pool are fixed at New.
//
// # Detaching: what it costs and why it was chosen
//
// gnet reads every socket it polls and has no API to pause one, so a socket
// must leave gnet's poller before it can be spliced. The alternatives were
// (a) relay the body inside the loop (unbounded buffering: gnet cannot apply
// backpressure), (b) detach with Dup + Close and re-Enroll (chosen), and (c)
// a custom poller outside gnet, which the user's design card rules out for
// the client sockets. One detach + re-enroll cycle costs several syscalls
// (dup, net.FileConn's dup, Enroll's dup, epoll add/del), so only bodies at
// or above the splice threshold take it; see the README's figures from
// `make bench` for the measured cost per request at 1 KiB and 64 MiB.
package engine
