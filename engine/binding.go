package engine

import (
	"strconv"
	"strings"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/panjf2000/gnet/v2"

	"github.com/mizuchi-gw/mizuchi/httpparse"
	"github.com/mizuchi-gw/mizuchi/policy/keytemplate"
	"github.com/mizuchi-gw/mizuchi/policy/limits"
	"github.com/mizuchi-gw/mizuchi/policy/seal"
	"github.com/mizuchi-gw/mizuchi/policy/uploadid"
	"github.com/mizuchi-gw/mizuchi/sigv4"
)

// Upload binding (see the package doc): on the loop, right after
// authentication and before authorization, 100 Continue, any body byte and
// any backend connection, bind
//
//   - decodes the client's key, maps it through the route's key template
//     to the stored key and checks it (keytemplate.ValidateKey);
//   - opens a sealed upload id (UploadPart, CompleteMultipartUpload,
//     AbortMultipartUpload, ListParts) into the backend's id;
//   - checks the route's size and content type limits from the head.
//
// The exchange takes the stored key and the backend id from the loop
// (setBind): the upstream request names them, the client's replies keep
// the client's key and sealed id (multipart.go).

var (
	errNoSuchUpload = &s3Error{"NoSuchUpload", 404, "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."}
	errKeyTemplate  = &s3Error{"AccessDenied", 403, "Access Denied: the route's key template cannot be applied to this identity."}
	errKeyInvalid   = &s3Error{"InvalidArgument", 400, `Object key is not valid: it must be UTF-8 without control characters and without "." or ".." path segments.`}
	errKeyEscape    = &s3Error{"InvalidArgument", 400, "Object key is not validly percent-encoded."}
	errUploadIDDup  = &s3Error{"InvalidArgument", 400, "The uploadId query parameter may be given only once."}
)

// Refusals by reason (fixed label set).
var (
	refusedKey         = metrics.NewCounter(`mizuchi_upload_refused_total{reason="key"}`)
	refusedKeyTemplate = metrics.NewCounter(`mizuchi_upload_refused_total{reason="key_template"}`)
	refusedUploadID    = metrics.NewCounter(`mizuchi_upload_refused_total{reason="upload_id"}`)
	refusedSize        = metrics.NewCounter(`mizuchi_upload_refused_total{reason="size"}`)
	refusedContentType = metrics.NewCounter(`mizuchi_upload_refused_total{reason="content_type"}`)
)

const (
	day = 24 * time.Hour
	// maxDateDays bounds the earlier days tried for a sealed id on a
	// {date} template (see openUploadID).
	maxDateDays = 31
)

// binding is a route's upload binding, derived from its UploadConfig and
// endpoint by NewRouter. It is immutable.
type binding struct {
	sealer    *seal.Sealer
	maxAge    time.Duration
	tmpl      *keytemplate.Template // nil: the stored key is the client's key
	dateDays  int                   // sealing with a {date} template: earlier days a sealed id may come from
	prefixLen int                   // len(Endpoint.KeyPrefix)

	objLimit, partLimit int64    // 0: only S3's limits (checked elsewhere)
	objErr, partErr     *s3Error // their refusals, messages built once
	types               []string // allowed content types; empty: any
	typesErr            *s3Error

	// limited: any size or content type limit is set. With no sealer, no
	// template and not limited, bind only decodes and validates the key.
	limited bool
}

func newBinding(rt *Route) binding {
	u := &rt.Upload
	b := binding{sealer: u.Sealer, maxAge: u.MaxUploadAge, types: u.AllowedContentTypes}
	if b.maxAge <= 0 {
		b.maxAge = 7 * day
	}
	if rt.Endpoint != nil {
		b.prefixLen = len(rt.Endpoint.KeyPrefix)
	}
	if t := u.KeyTemplate; t != nil && !t.IsIdentity() {
		b.tmpl = t
		// Literal text cannot hold braces: "{date}" is the placeholder.
		if b.sealer != nil && strings.Contains(t.String(), "{date}") {
			b.dateDays = min(int((b.maxAge+day-1)/day), maxDateDays)
		}
	}
	if u.MaxObjectSize > 0 {
		b.objLimit = limits.ObjectLimit(u.MaxObjectSize)
		b.objErr = tooLargeError(b.objLimit)
	}
	if u.MaxPartSize > 0 {
		b.partLimit = limits.PartLimit(u.MaxPartSize)
		b.partErr = tooLargeError(b.partLimit)
	}
	if len(b.types) > 0 {
		b.typesErr = &s3Error{"InvalidArgument", 400, "The Content-Type is not allowed on this route; allowed: " +
			strings.Join(b.types, ", ") + "."}
	}
	b.limited = b.objLimit > 0 || b.partLimit > 0 || len(b.types) > 0
	return b
}

func tooLargeError(limit int64) *s3Error {
	return &s3Error{"EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed size: " +
		strconv.FormatInt(limit, 10) + " bytes."}
}

// bindFailure is a refusal found by bind; the zero value accepts.
type bindFailure struct {
	e   *s3Error
	xml []byte // extra <Error> elements (EntityTooLarge sizes)
}

// bind decodes and checks the object key of the request in sc.req, maps
// it to the stored key, opens its sealed upload id and checks the route's
// limits. It runs on the loop after authentication (ar) and bodyMode
// (decodedLen). It sets sc.key (the client's decoded key), sc.stored (the
// stored key, without the endpoint's KeyPrefix: sc.key itself without a
// template) and sc.upID (the backend's upload id; empty when the route
// does not seal or the operation takes none); they stay valid until the
// next bind on sc. On a route without sealer, template or limits it only
// decodes and validates the key, and allocates nothing (binding_test.go).
func (s *Server) bind(sc *loopScratch, rt *Route, o op, ar *authResult, rawKey []byte, decodedLen int64) bindFailure {
	b := &rt.bind
	var err error
	sc.upID = sc.upID[:0]
	sc.key, err = httpparse.AppendUnescape(sc.key[:0], rawKey)
	if err != nil {
		refusedKey.Inc()
		return bindFailure{e: errKeyEscape}
	}
	if ar.id.session != nil && !ar.id.session.Allows(rt.Name, sc.key) {
		// STS credentials: the role's routes and key prefix, on the
		// client's key (before the route's template).
		sessionScope.Inc()
		return bindFailure{e: errSessionScope}
	}
	sc.stored = sc.key
	var now time.Time
	if b.tmpl != nil || b.sealer != nil {
		now = time.Unix(0, nowNanos())
	}
	if b.tmpl != nil {
		sc.storedBuf, err = b.appendStored(sc.storedBuf[:0], rt.Name, sc.key, &ar.id, now)
		if err != nil {
			refusedKeyTemplate.Inc()
			return bindFailure{e: errKeyTemplate}
		}
		sc.stored = sc.storedBuf
	}
	switch keytemplate.ValidateKey(sc.key, b.prefixLen+len(sc.stored)) {
	case nil:
	case keytemplate.ErrKeyTooLong:
		refusedKey.Inc()
		return bindFailure{e: errKeyTooLong}
	default:
		refusedKey.Inc()
		return bindFailure{e: errKeyInvalid}
	}
	if b.sealer != nil && o.takesUploadID() {
		if f := s.openUploadID(sc, rt, &ar.id, now); f.e != nil {
			refusedUploadID.Inc()
			return f
		}
	}
	if b.limited {
		return b.checkLimits(o, &sc.req, decodedLen)
	}
	return bindFailure{}
}

// appendStored appends the stored key of key for id at now.
func (b *binding) appendStored(dst []byte, route string, key []byte, id *identity, now time.Time) ([]byte, error) {
	return b.tmpl.Append(dst, &keytemplate.Vars{Key: key, Subject: id.subject, Claims: id.claims, Now: now, Route: route})
}

// openUploadID opens the request's sealed uploadId into sc.upID, for the
// route, sc.stored and the subject. With a {date} template the upload may
// have started on an earlier day, whose stored key it keeps: the days
// back to the id's oldest possible creation day are tried too (at most
// maxDateDays), and sc.stored becomes the key of the day that opened.
func (s *Server) openUploadID(sc *loopScratch, rt *Route, id *identity, now time.Time) bindFailure {
	b := &rt.bind
	raw, n := uploadIDParam(sc.req.Query)
	if n > 1 {
		return bindFailure{e: errUploadIDDup}
	}
	var err error
	sc.upTok, err = httpparse.AppendUnescapeQuery(sc.upTok[:0], raw)
	if err != nil || n == 0 {
		return bindFailure{e: errNoSuchUpload}
	}
	if cap(sc.upIDBuf) < openScratch {
		sc.upIDBuf = make([]byte, 0, openScratch)
	}
	o := uploadid.Owner{Route: rt.Name, Key: sc.stored, Subject: id.subject}
	out, err := uploadid.Open(sc.upIDBuf[:0], b.sealer, sc.upTok, &o, now)
	for d := 1; err != nil && d <= b.dateDays; d++ {
		var terr error
		sc.altBuf, terr = b.appendStored(sc.altBuf[:0], rt.Name, sc.key, id, now.Add(-time.Duration(d)*day))
		if terr != nil {
			break
		}
		o.Key = sc.altBuf
		if out, err = uploadid.Open(sc.upIDBuf[:0], b.sealer, sc.upTok, &o, now); err == nil {
			sc.storedBuf, sc.altBuf = sc.altBuf, sc.storedBuf
			sc.stored = sc.storedBuf
		}
	}
	if err != nil {
		return bindFailure{e: errNoSuchUpload}
	}
	sc.upID = out
	return bindFailure{}
}

// openScratch is enough for uploadid.Open never to allocate: twice the
// longest token, the owner (route, key of at most 1 KiB) and 20 bytes.
const openScratch = 2*uploadid.MaxTokenLen + 1024 + 256 + 64

// checkLimits checks the route's size and content type limits from the
// head. A chunked PutObject of unknown length (size -1) passes here and is
// counted while it streams (automp.go).
func (b *binding) checkLimits(o op, req *httpparse.Request, decodedLen int64) bindFailure {
	size := req.ContentLength
	if decodedLen >= 0 {
		size = decodedLen
	}
	switch {
	case o == opPutObject && b.objLimit > 0 && size > b.objLimit:
		refusedSize.Inc()
		return bindFailure{e: b.objErr, xml: sizeXML(size, b.objLimit)}
	case o == opUploadPart && b.partLimit > 0 && size > b.partLimit:
		refusedSize.Inc()
		return bindFailure{e: b.partErr, xml: sizeXML(size, b.partLimit)}
	}
	if len(b.types) > 0 && (o == opPutObject || o == opCreateMultipart) &&
		!limits.MatchContentType(b.types, req.Header("content-type")) {
		refusedContentType.Inc()
		return bindFailure{e: b.typesErr}
	}
	return bindFailure{}
}

// sizeXML are the extra elements of S3's EntityTooLarge error.
func sizeXML(size, limit int64) []byte {
	x := append([]byte(nil), "<ProposedSize>"...)
	x = strconv.AppendInt(x, size, 10)
	x = append(x, "</ProposedSize><MaxSizeAllowed>"...)
	x = strconv.AppendInt(x, limit, 10)
	return append(x, "</MaxSizeAllowed>"...)
}

// takesUploadID reports the operations that name an existing upload.
func (o op) takesUploadID() bool {
	return o == opUploadPart || o == opCompleteMultipart || o == opAbortMultipart || o == opListParts
}

// uploadIDParam returns the raw (percent-encoded) value of the first
// uploadId parameter of the query q, a view into q, and how many there are.
func uploadIDParam(q []byte) (v []byte, n int) {
	for len(q) > 0 {
		var k, val []byte
		k, val, q = httpparse.NextParam(q)
		if string(k) == "uploadId" {
			if n == 0 {
				v = val
			}
			n++
		}
	}
	return v, n
}

// refuseBind answers a request refused by bind, from the loop.
func (s *Server) refuseBind(c gnet.Conn, st *connState, sc *loopScratch, headLen int, rt *Route, o op, f bindFailure) gnet.Action {
	return s.refuseWith(c, st, sc, headLen, rt.m, o, f.e.Code, f.e.Status, f.e.Message, "", f.xml)
}

// setBind copies what bind found into the exchange: the worker parses the
// head again but does not redo the binding (the stored key depends on the
// time and, for a sealed id on a {date} template, on which day opened it).
func (ex *exchange) setBind(sc *loopScratch) {
	ex.hasStored = ex.route.bind.tmpl != nil
	if ex.hasStored {
		ex.stored = append(ex.stored[:0], sc.stored...)
	}
	ex.upID = append(ex.upID[:0], sc.upID...)
	// The key bind decoded from the same bytes: parseHead need not decode
	// it again.
	ex.key, ex.keyCopied = append(ex.key[:0], sc.key...), true
}

// upstreamKey is the key the backend request names (before the endpoint's
// KeyPrefix): the stored key, which is the client's without a template.
func (ex *exchange) upstreamKey() []byte {
	if ex.hasStored {
		return ex.stored
	}
	return ex.key
}

// replyUploadID returns the upload id that replaces the backend's in a
// successful XML reply: a freshly sealed id for CreateMultipartUpload, the
// client's own (sealed) id for the others; nil when the route does not seal.
func (ex *exchange) replyUploadID(body []byte) ([]byte, error) {
	b := &ex.route.bind
	if b.sealer == nil {
		return nil, nil
	}
	if ex.op != opCreateMultipart {
		raw, _ := uploadIDParam(ex.req.Query)
		var err error
		ex.tok, err = httpparse.AppendUnescapeQuery(ex.tok[:0], raw)
		if ex.tok == nil {
			ex.tok = []byte{} // never nil: the backend's id is always replaced
		}
		return ex.tok, err
	}
	backendID := unescapeXML(xmlElem(body, "UploadId"))
	o := uploadid.Owner{Route: ex.route.Name, Key: ex.upstreamKey(), Subject: ex.ident.subject}
	var err error
	ex.tok, err = uploadid.Seal(ex.tok[:0], b.sealer, backendID, &o, time.Now().Add(b.maxAge))
	return ex.tok, err
}

// appendUploadIDValue appends the backend's upload id as a query value,
// percent-encoded as the upstream signer canonicalizes it.
func appendUploadIDValue(dst, id []byte) []byte {
	return sigv4.AppendURIEncode(dst, id, true)
}
