package engine

import (
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/panjf2000/gnet/v2"

	"github.com/mizuchi-gw/mizuchi/engine/limits"
)

// Limits are the admission limits of the S3 listener. A zero field turns
// its limit off. They are reloadable: Server.SetLimits swaps them
// atomically, and each check reads the limits live at that moment.
//
// Where each check runs:
//
//   - MaxConnsPerIP: in OnOpen (admitIP) with the connection's client
//     (connIP), or, with PROXY protocol on a plain listener, once its
//     header is read (admitProxied); a refused connection gets 503
//     SlowDown and is closed, like the MaxConns refusal.
//   - RequestsPerSecond, MaxInflightUploads(PerIdentity): in OnTraffic once
//     the head is authenticated and its framing checked, before binding,
//     authorization, 100 Continue and any body byte (admitRequest);
//     refusals are 503 SlowDown with Retry-After, never queued.
//   - MinBodyRate: while a body arrives, on the loop for small bodies
//     (bodyTooSlow, woken by the sweeper when a window ends) and on the
//     worker's socket for detached ones (rateConn); a body too slow is
//     answered 400 RequestTimeout and the backend request is aborted.
type Limits struct {
	MaxConnsPerIP int           // concurrent client connections per client IP
	MinBodyRate   int64         // bytes per second a body must average over each window
	MinBodyWindow time.Duration // the body-rate window; 0 = 10s
	// MaxInflightUploads caps the PutObject and UploadPart requests of the
	// process between admission and their reply.
	MaxInflightUploads int
	// MaxInflightUploadsPerIdentity is the same cap per authenticated
	// identity (method and subject); anonymous routes are not capped by it.
	MaxInflightUploadsPerIdentity int
	// RequestsPerSecond is the token-bucket rate per authenticated
	// identity; Burst is the bucket's size (0 = max(1, RequestsPerSecond)).
	RequestsPerSecond float64
	Burst             float64
}

// defaultBodyWindow is the body-rate window when none is set.
const defaultBodyWindow = 10 * time.Second

func (l *Limits) setDefaults() {
	if l.MinBodyWindow <= 0 {
		l.MinBodyWindow = defaultBodyWindow
	}
	if l.Burst <= 0 {
		l.Burst = max(1, l.RequestsPerSecond)
	}
}

var (
	refusedPerIP      = metrics.NewCounter(`mizuchi_limit_refusals_total{limit="per_ip"}`)
	refusedInflight   = metrics.NewCounter(`mizuchi_limit_refusals_total{limit="inflight"}`)
	refusedInflightID = metrics.NewCounter(`mizuchi_limit_refusals_total{limit="inflight_identity"}`)
	refusedRate       = metrics.NewCounter(`mizuchi_limit_refusals_total{limit="rate"}`)
	refusedBodyRate   = metrics.NewCounter(`mizuchi_limit_refusals_total{limit="min_body_rate"}`)

	// uploadsInflight counts PutObject and UploadPart requests between
	// admission and their reply, capped or not. (mizuchi_inflight_uploads
	// shows what is relayed to the backend by kind.)
	uploadsInflight limits.Gate
)

// limitState is the Server's live limits and their counters.
type limitState struct {
	cur atomic.Pointer[Limits]
	ips limits.IPCounter
	ids limits.Identities
}

// SetLimits installs new limits; requests admitted before keep running.
func (s *Server) SetLimits(l Limits) {
	l.setDefaults()
	s.lim.cur.Store(&l)
}

// Limits returns the live limits.
func (s *Server) Limits() Limits { return *s.lim.cur.Load() }

// connLimits is a connection's part in the limits. Touched on its loop, or
// by the worker owning its detached socket; wake is also read by the
// sweeper.
type connLimits struct {
	ip    netip.Addr  // counted in the per-IP limit while valid
	rated bool        // the current request took its token
	slot  limits.Slot // the current upload's in-flight place, until its exchange takes it

	// small-body rate, measured on the loop
	win   limits.Window
	winAt int64 // coarse ns of the last look; 0 = not measuring
	have  int64 // body bytes buffered at winAt
	wake  atomic.Int64
}

// handOff moves the current request's in-flight place to its exchange,
// which releases it when done, and readies the connection for its next
// request's admission.
func (l *connLimits) handOff() limits.Slot {
	s := l.slot.Take()
	l.next()
	return s
}

// next forgets the current request's admission.
func (l *connLimits) next() {
	l.rated = false
	l.slot.Release()
	l.winAt = 0
	l.wake.Store(0)
}

// admitIP counts one more connection from ip, refusing it when ip already
// has MaxConnsPerIP. Every admitted connection is released with releaseIP
// exactly once. An invalid ip (unknown peer) is admitted uncounted.
func (s *Server) admitIP(ip netip.Addr) bool {
	if !ip.IsValid() {
		return true
	}
	if !s.lim.ips.Admit(ip, s.lim.cur.Load().MaxConnsPerIP) {
		refusedPerIP.Inc()
		return false
	}
	return true
}

// releaseIP forgets one connection admitted by admitIP.
func (s *Server) releaseIP(ip netip.Addr) {
	if ip.IsValid() {
		s.lim.ips.Release(ip)
	}
}

// connIP is the client of a new connection as known in OnOpen: for a
// connection through the TLS front, the client of its PROXY header or the
// TLS peer; else the socket peer, or, with PROXY protocol on, invalid
// (not known yet: admitProxied counts it once the header is read).
func (s *Server) connIP(c gnet.Conn) netip.Addr {
	if p, ok := c.Context().(tlsPeer); ok {
		if p.client.IsValid() {
			return p.client.Unmap()
		}
		return p.addr.Unmap()
	}
	if len(s.cfg.ProxyProtocol) > 0 {
		return netip.Addr{}
	}
	return remoteIP(c)
}

// admitProxied applies the per-IP limit to the client a PROXY header named
// (st.client, just set), on the loop. A refused connection is answered 503
// SlowDown and must be closed.
func (s *Server) admitProxied(c gnet.Conn, st *connState) bool {
	if st.lim.ip.IsValid() {
		return true // counted in OnOpen (cannot happen: connIP was invalid)
	}
	if !s.admitIP(st.client) {
		connsRejected.Inc()
		_, _ = c.Write(refuseConnLimit())
		return false
	}
	st.lim.ip = st.client
	return true
}

// refuseConnLimit is the response of a connection refused by admitIP.
func refuseConnLimit() []byte {
	var id [16]byte
	return appendErrorResponseX(nil, errSlowDown.Code, errSlowDown.Status, errSlowDown.Message,
		appendRequestID(id[:0]), nil, true, []byte(retryAfterLine(1)), nil)
}

// connGone releases what a connection holds in the limits, when it is
// closed for good (not detached).
func (s *Server) connGone(st *connState) {
	s.releaseIP(st.lim.ip)
	st.lim.ip = netip.Addr{}
	st.lim.next()
	st.releaseFDs()
}

// isUpload: the operations counted as in-flight uploads.
func isUpload(o op) bool { return o == opPutObject || o == opUploadPart }

// identityKey names an authenticated identity; ok is false for anonymous
// requests.
func identityKey(id *identity) (limits.Key, bool) {
	name := id.subject
	if name == "" {
		name = id.accessKey
	}
	return limits.Key{Method: id.method, Name: name}, id.method != ""
}

// admitRequest applies the per-identity rate and the in-flight caps to an
// authenticated, well-framed head, on the loop. It returns 0 when admitted,
// else the seconds for Retry-After. A head looked at again (its small body
// arriving, a parked decision) is not counted twice.
func (s *Server) admitRequest(st *connState, o op, ar *authResult) int {
	l := s.lim.cur.Load()
	key, named := identityKey(&ar.id)
	if !st.lim.rated {
		if l.RequestsPerSecond > 0 && named {
			ok, wait := s.lim.ids.Allow(key, nowNanos(), l.RequestsPerSecond, l.Burst)
			if !ok {
				refusedRate.Inc()
				return int((wait + int64(time.Second) - 1) / int64(time.Second))
			}
		}
		st.lim.rated = true
	}
	if !isUpload(o) || st.lim.slot.Held() {
		return 0
	}
	perID := int64(l.MaxInflightUploadsPerIdentity)
	if !named {
		perID = 0
	}
	slot, refused := s.lim.ids.Acquire(&uploadsInflight, int64(l.MaxInflightUploads), key, perID, nowNanos())
	switch refused {
	case 1:
		refusedInflight.Inc()
		return 1
	case 2:
		refusedInflightID.Inc()
		return 1
	}
	st.lim.slot = slot
	return 0
}

// refuseLimit answers a request refused by admitRequest: 503 SlowDown with
// Retry-After.
func (s *Server) refuseLimit(c gnet.Conn, st *connState, sc *loopScratch, headLen int, m *routeMetrics, o op, retry int) gnet.Action {
	return s.refuseWith(c, st, sc, headLen, m, o, errSlowDown.Code, errSlowDown.Status, errSlowDown.Message, retryAfterLine(retry), nil)
}

// retryAfterLines are the Retry-After header lines for 1..60 seconds.
var retryAfterLines = func() (r [61]string) {
	for i := range r {
		r[i] = "Retry-After: " + strconv.Itoa(max(i, 1)) + "\r\n"
	}
	return r
}()

func retryAfterLine(sec int) string {
	return retryAfterLines[min(max(sec, 1), len(retryAfterLines)-1)]
}

// bodyTooSlow measures a small body arriving in gnet's buffer: have is the
// body bytes buffered now. It reports whether the body fell below the
// minimum rate over a window, and asks the sweeper to look again when the
// current window ends (a silent client causes no read event).
func (s *Server) bodyTooSlow(st *connState, have int64) bool {
	l := s.lim.cur.Load()
	if l.MinBodyRate <= 0 {
		return false
	}
	now := nowNanos()
	w := &st.lim
	if w.winAt == 0 {
		w.win.Reset(l.MinBodyRate, int64(l.MinBodyWindow))
	} else if !w.win.Add(have-w.have, now-w.winAt) {
		refusedBodyRate.Inc()
		w.wake.Store(0)
		return true
	}
	w.winAt, w.have = now, have
	w.wake.Store(now + w.win.Left())
	return false
}

// wakeForBodyRate is the sweeper's part: a connection whose body-rate
// window ended is woken, so its loop judges the window.
func wakeForBodyRate(st *connState, now int64) {
	if w := st.lim.wake.Load(); w != 0 && now >= w {
		st.lim.wake.Store(0)
		_ = st.gc.Wake(nil)
	}
}
