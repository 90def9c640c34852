package pipes

import "errors"

var (
	// ErrPoolExhausted is returned by Pool.Acquire when Config.Max pipes are
	// alive and none is free.
	ErrPoolExhausted = errors.New("pipes: pool exhausted")

	// ErrPoolClosed is returned by Pool.Acquire after Pool.Close.
	ErrPoolClosed = errors.New("pipes: pool closed")

	// ErrShortBody means the source reached EOF before n bytes were read. It
	// always arrives wrapped in a *SideError with Src set.
	ErrShortBody = errors.New("pipes: source closed before the body was complete")

	// ErrUnsupported is returned by Acquire and Splice where splice(2) does not
	// exist (every GOOS but linux). Use Copy there.
	ErrUnsupported = errors.New("pipes: splice is not supported on this platform")

	// ErrPipeNotEmpty is returned by Splice, without moving anything, when it is
	// handed a pipe that still holds bytes. Pipes from Acquire are always empty,
	// so this is a caller bug, not a side failure.
	ErrPipeNotEmpty = errors.New("pipes: pipe is not empty")
)

// SideError says which side of a transfer failed, so the engine can answer
// properly: a source (client) failure aborts the upstream request; a
// destination (upstream) failure becomes a 5xx for the client.
//
// Err is the underlying error: ErrShortBody, a syscall.Errno such as
// ECONNRESET or EPIPE, or the *net.OpError the netpoller returned (which
// wraps os.ErrDeadlineExceeded or net.ErrClosed). errors.Is sees through it.
type SideError struct {
	Src bool // true: reading the source failed; false: writing the destination failed
	Err error
}

func (e *SideError) Error() string {
	if e.Src {
		return "pipes: source: " + e.Err.Error()
	}
	return "pipes: destination: " + e.Err.Error()
}

func (e *SideError) Unwrap() error { return e.Err }
