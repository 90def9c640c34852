package engine

import (
	"io"
	"time"

	"github.com/mizuchi-gw/mizuchi/upstream"
)

// sendFile writes the spooled body to the backend in pumpChunk steps, each
// with a fresh write deadline: sendfile(2) from the file to a plain TCP
// backend (net.TCPConn.ReadFrom does it for an *os.File), a copy through
// buf under TLS.
func (ex *exchange) sendFile(up *upstream.Conn, w *spoolFile, buf []byte) error {
	left := w.n
	for left > 0 {
		chunk := min(left, pumpChunk)
		_ = up.SetWriteDeadline(time.Now().Add(ex.s.tun().BodyTimeout))
		lr := &io.LimitedReader{R: w.f, N: chunk}
		var m int64
		var err error
		if up.Raw != nil && up.TCP != nil {
			m, err = up.TCP.ReadFrom(lr)
			bytesSpliced.Add(int(m))
		} else {
			m, err = io.CopyBuffer(up, lr, buf)
			bytesCopied.Add(int(m))
		}
		left -= m
		if err != nil {
			return err
		}
		if m < chunk {
			return io.ErrUnexpectedEOF
		}
	}
	return nil
}
