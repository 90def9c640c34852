package engine

import (
	"errors"
	"io"
	"os"
	"sync/atomic"

	"github.com/VictoriaMetrics/metrics"
)

// Spooling: an UploadPart sent with Transfer-Encoding: chunked has no
// length until its last chunk, and S3 needs a Content-Length for a part.
// The worker of the detached socket decodes the body into an unlinked
// temporary file (spool_linux.go), then sends it to the backend with the
// length now known (sendfile from the file to a plain TCP backend). The
// upstream head carries the client's x-amz-content-sha256 unchanged
// (UNSIGNED-PAYLOAD or the hex hash of the decoded body), so the backend
// checks exactly what the client signed.
//
// The bytes on disk at once are bounded by SpoolMaxBytes: a body that
// finds the budget spent before it starts, or that grows past what is left
// of it, gets 503 SlowDown with Retry-After; one that passes the per-body
// limit (the budget itself, 5 GiB, or the route's max_part_size) gets 400
// EntityTooLarge. Disk I/O runs on the worker goroutine only.

// maxPartSize is S3's largest part.
const maxPartSize = 5 << 30

var (
	spoolRefusals = metrics.NewCounter(`mizuchi_spool_refusals_total`)
	spoolBodies   = metrics.NewCounter(`mizuchi_spool_bodies_total`)
	_             = metrics.NewGauge(`mizuchi_spool_bytes_in_use`, func() float64 { return float64(spoolInUse.Load()) })

	errSpoolFull = &s3Error{"SlowDown", 503, "Too many chunked uploads are being buffered. Please retry."}
	// errSpoolTooLarge: a spooled part passed its limit.
	errSpoolTooLarge = errors.New("engine: spooled body exceeds its limit")
	// errSpoolBudget: the spool budget ran out while a body was written.
	errSpoolBudget = errors.New("engine: spool budget exhausted")
)

// spoolInUse is the bytes spooled now, by every Server of the process.
var spoolInUse atomic.Int64

// spooler holds the spool budget. A nil one, or max 0, spools nothing.
type spooler struct {
	dir   string
	max   int64
	inUse *atomic.Int64
}

func newSpooler(dir string, max int64) *spooler {
	if dir == "" {
		dir = os.TempDir()
	}
	return &spooler{dir: dir, max: max, inUse: &spoolInUse}
}

// on reports whether chunked UploadPart bodies are spooled.
func (sp *spooler) on() bool { return sp != nil && sp.max > 0 }

// full reports whether the budget is spent.
func (sp *spooler) full() bool { return sp.inUse.Load() >= sp.max }

// spoolFile is one body being spooled: the file and the bytes it holds,
// all of them reserved in the budget.
type spoolFile struct {
	sp    *spooler
	f     *os.File
	n     int64 // bytes written and reserved
	limit int64 // per-body limit
}

// open creates an unlinked temporary file for one body.
func (sp *spooler) open(limit int64) (*spoolFile, error) {
	f, err := openTemp(sp.dir)
	if err != nil {
		return nil, err
	}
	return &spoolFile{sp: sp, f: f, limit: min(limit, sp.max, maxPartSize)}, nil
}

// Write reserves len(p) bytes in the budget, then writes them.
func (w *spoolFile) Write(p []byte) (int, error) {
	if w.n+int64(len(p)) > w.limit {
		return 0, errSpoolTooLarge
	}
	if w.sp.inUse.Add(int64(len(p))) > w.sp.max {
		w.sp.inUse.Add(-int64(len(p)))
		return 0, errSpoolBudget
	}
	w.n += int64(len(p))
	return w.f.Write(p)
}

// fill copies the decoded body from src into the file.
func (w *spoolFile) fill(src io.Reader, buf []byte) error {
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// close closes the file (its blocks are freed: it has no name) and gives
// its bytes back to the budget.
func (w *spoolFile) close() {
	w.f.Close()
	w.sp.inUse.Add(-w.n)
	w.n = 0
}
