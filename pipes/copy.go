package pipes

import (
	"errors"
	"io"
)

// errInvalidWrite means dst returned an impossible count, as in package io.
var errInvalidWrite = errors.New("pipes: invalid write result")

// defaultCopyBuf is the buffer size Copy falls back to when given none.
const defaultCopyBuf = 32 << 10

// Copy is the user-space path (TLS on either side, small bodies, platforms
// without splice): it moves exactly n bytes from src to dst through buf and
// returns the bytes delivered to dst. It never asks src for a byte past n, so
// what follows the body stays unread. buf is the caller's (pooled, e.g.
// 256 KiB) and is only used during the call; an empty buf makes Copy allocate
// a 32 KiB one.
//
// Errors follow Splice: a *SideError with Src for reading src (ErrShortBody on
// EOF before n bytes) and without it for writing dst (io.ErrShortWrite if dst
// wrote less than asked without an error).
func Copy(dst io.Writer, src io.Reader, n int64, buf []byte) (int64, error) {
	return copyN(dst, src, n, buf, false)
}

// CopyFull is Copy that fills buf (or what is left of the n bytes) before
// each write, for a src whose reads return little at a time (a tls.Conn
// returns one record, at most 16 KiB, per Read): fewer, larger writes to
// dst. It still never asks src for a byte past n.
func CopyFull(dst io.Writer, src io.Reader, n int64, buf []byte) (int64, error) {
	return copyN(dst, src, n, buf, true)
}

func copyN(dst io.Writer, src io.Reader, n int64, buf []byte, fill bool) (int64, error) {
	if len(buf) == 0 {
		buf = make([]byte, defaultCopyBuf)
	}
	var done int64
	for done < n {
		b := buf
		if rem := n - done; rem < int64(len(b)) {
			b = b[:rem]
		}
		nr, rerr := src.Read(b)
		for fill && rerr == nil && nr < len(b) {
			var m int
			m, rerr = src.Read(b[nr:])
			nr += m
		}
		if nr > 0 {
			nw, werr := dst.Write(b[:nr])
			if nw < 0 || nw > nr {
				nw = 0
				if werr == nil {
					werr = errInvalidWrite
				}
			}
			done += int64(nw)
			if werr != nil {
				return done, &SideError{Err: werr}
			}
			if nw != nr {
				return done, &SideError{Err: io.ErrShortWrite}
			}
		}
		if rerr != nil {
			if done == n {
				return done, nil
			}
			if rerr == io.EOF {
				rerr = ErrShortBody
			}
			return done, &SideError{Src: true, Err: rerr}
		}
	}
	return done, nil
}
