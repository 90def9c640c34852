//go:build !linux

package pipes

import "syscall"

type pump struct{}

// Splice returns ErrUnsupported: splice(2) exists only on Linux. Use Copy.
func Splice(dst, src syscall.RawConn, pp *Pipe, n int64) (int64, error) {
	return 0, ErrUnsupported
}
