package engine

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/mizuchi-gw/mizuchi/httpparse"
	"github.com/mizuchi-gw/mizuchi/upstream"
)

// Upstream retries. A request whose body the gateway still holds (a small
// body buffered in the loop, an auto-multipart part in memory) is sent
// again when the backend failed in a way that cannot have stored anything
// and that a second attempt may not meet:
//
//   - the connection was refused (nothing was sent);
//   - the connection was reset or closed before any reply byte (the backend
//     cannot have completed the request: it never answered);
//   - the backend answered 503 (SlowDown, ServiceUnavailable): it asked
//     for a retry.
//
// Never after a 2xx or 4xx reply, a malformed or truncated reply, or a
// timeout (a stalled backend would only stall again). At most
// upstreamAttempts attempts, with backoff 50, 100, 200 ms between them.
// Waits happen on worker goroutines only: an in-loop relay that fails hands
// its exchange to a worker (retryBuffered), never sleeps on the loop.
//
// A spliced body was read from the client's socket once and cannot be
// replayed: only its dial is retried (nothing was sent yet).

const (
	upstreamAttempts = 3
	retryBaseBackoff = 50 * time.Millisecond
)

var (
	errBadGateway     = &s3Error{"BadGateway", 502, "The backend failed or sent an invalid response. Please try again."}
	errGatewayTimeout = &s3Error{"GatewayTimeout", 504, "The backend did not answer in time. Please try again."}
)

// retryAfter is sent with every 503 the gateway answers.
const retryAfter = "Retry-After: 1\r\n"

// retryBackoff is the wait before retry number n (1-based): 50, 100, 200 ms.
func retryBackoff(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	return retryBaseBackoff << min(n-1, 4)
}

// retryableErr reports whether a failed attempt may be sent again: a
// refused dial, or a reset/close before any reply byte (replied false).
// Timeouts and bad replies are not retried.
func retryableErr(err error, replied bool) bool {
	if err == nil || replied || isTimeout(err) {
		return false
	}
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, errLinkClosed) || errors.Is(err, net.ErrClosed)
}

// retryableStatus reports whether a backend reply asks for a retry.
func retryableStatus(status int) bool { return status == 503 }

// retrier counts the attempts of one upstream request.
type retrier struct {
	tries int // retries made
}

// again reports whether another attempt is allowed and waits its backoff.
// It blocks: call it on a worker goroutine.
func (r *retrier) again() bool {
	if r.tries >= upstreamAttempts-1 {
		return false
	}
	r.tries++
	time.Sleep(retryBackoff(r.tries))
	return true
}

// done counts a retried request's outcome: ok when the last attempt got
// an answer that is not a retryable failure.
func (r *retrier) done(rt *Route, ok bool) {
	if r.tries == 0 {
		return
	}
	countRetry(rt.Name, ok)
}

// countRetry counts one retried upstream request by outcome (cold path).
func countRetry(route string, ok bool) {
	result := "failure"
	if ok {
		result = "success"
	}
	metrics.GetOrCreateCounter(`mizuchi_upstream_retries_total{route="` + escapeLabel(route) + `",result="` + result + `"}`).Inc()
}

// getConn takes a backend connection, retrying a refused dial with
// backoff (nothing was sent). It blocks: call it on a worker goroutine.
func getConn(ctx context.Context, rt *Route, r *retrier) (*upstream.Conn, error) {
	for {
		up, err := rt.Endpoint.Pool.Get(ctx)
		if err == nil || !errors.Is(err, syscall.ECONNREFUSED) || !r.again() {
			return up, err
		}
	}
}

// failUpstream answers a failed backend exchange: 504 when it timed out,
// 502 otherwise (refused, reset, malformed or truncated reply).
func (ex *exchange) failUpstream(what string, err error) int {
	if isTimeout(err) || errors.Is(err, errLinkTimeout) {
		return ex.fail(errGatewayTimeout, what, err)
	}
	return ex.fail(errBadGateway, what, err)
}

// errHeaders returns the extra header lines of an error reply: the CORS
// lines, and Retry-After on a 503.
func (ex *exchange) errHeaders(status int) []byte {
	if status != 503 {
		return ex.cors
	}
	ex.errHdrs = append(append(ex.errHdrs[:0], retryAfter...), ex.cors...)
	return ex.errHdrs
}

// retryBuffered retries, on a worker goroutine, a buffered request whose
// in-loop attempt failed retryably: it waits the backoff, then relays it
// as relayBuffered does. The caller checked ex.retry.tries < the maximum.
func (ex *exchange) retryBuffered() {
	ex.retry.again()
	ex.relayBuffered()
}

// canRetry reports whether a buffered exchange has attempts left.
func (ex *exchange) canRetry() bool { return ex.retry.tries < upstreamAttempts-1 }

// replayable reports whether a request that failed without a reply may be
// sent again. A CreateMultipartUpload may have created an upload the
// client never learns of: it is retried only when refused or answered 503.
func (ex *exchange) replayable() bool { return ex.op != opCreateMultipart }

// createCall reports whether a backend call creates a multipart upload.
func createCall(method string, query []byte) bool {
	return method == "POST" && string(query) == "uploads"
}

// closeOrPut returns a connection whose reply was read in full to the pool,
// unless the reply asked to close it.
func closeOrPut(p *upstream.Pool, up *upstream.Conn, resp *httpparse.Response) {
	if resp.Close {
		up.Close()
	} else {
		p.Put(up)
	}
}
