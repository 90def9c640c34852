package pipes

import (
	"io"
	"syscall"

	"golang.org/x/sys/unix"
)

// spliceFlags: SPLICE_F_MOVE asks the kernel to move pages rather than copy
// them where it can; SPLICE_F_NONBLOCK makes the pipe side of each call
// non-blocking. The sockets are non-blocking themselves (the netpoller set
// O_NONBLOCK), so no splice call here ever sleeps in the kernel: EAGAIN goes
// back to the netpoller, which parks the goroutine, not the thread. That is
// also what lets rawSplice make the call as a raw system call.
const spliceFlags = unix.SPLICE_F_MOVE | unix.SPLICE_F_NONBLOCK

// pump is the per-pipe state of a transfer. The two callbacks are made once,
// when the pipe is made, and handed to RawConn.Read and RawConn.Write as they
// are, so that Splice allocates nothing.
type pump struct {
	fillFn  func(fd uintptr) bool // src socket -> pipe
	drainFn func(fd uintptr) bool // pipe -> dst socket
	max     int                   // fill: at most this many bytes
	err     error                 // error of the last fill or drain
}

func (pp *Pipe) initPump() {
	pp.fillFn = pp.fill
	pp.drainFn = pp.drain
}

// Splice moves exactly n bytes from src to dst through pp, kernel-side, and
// returns the bytes delivered to dst. It never reads a byte past n from src:
// whatever follows the body (a pipelined request) stays in the source socket.
//
// src and dst must be the RawConns of stream sockets registered with Go's
// netpoller, such as (*net.TCPConn).SyscallConn(): waiting for readiness parks
// the goroutine in the netpoller and never blocks a thread. Deadlines set on
// the conns are honoured (SetReadDeadline on src, SetWriteDeadline on dst), and
// closing either conn from another goroutine aborts the transfer.
//
// pp must be empty, as Acquire returns it; otherwise Splice returns
// ErrPipeNotEmpty and moves nothing. Every other error is a *SideError: Src
// for reading src (ErrShortBody on EOF before n bytes, a deadline, a reset),
// not Src for writing dst. After an error pp may hold bytes; Release closes it
// then. If the error wraps syscall.EINVAL and the count is 0, the socket type
// does not support splice and no byte was consumed: fall back to Copy.
func Splice(dst, src syscall.RawConn, pp *Pipe, n int64) (int64, error) {
	if pp.data != 0 {
		return 0, ErrPipeNotEmpty
	}
	var done int64
	for done < n {
		// Invariant: when entering fill, the pipe is empty. It is new, or the
		// drain before emptied it. So fill may ask for the whole capacity, and
		// an EAGAIN from splice means src is not readable, never that the pipe
		// is full.
		pp.max = pp.size
		if rem := n - done; rem < int64(pp.max) {
			pp.max = int(rem)
		}
		pp.err = nil
		if err := src.Read(pp.fillFn); err != nil {
			return done, &SideError{Src: true, Err: err}
		}
		if pp.err != nil {
			return done, &SideError{Src: true, Err: pp.err}
		}

		// Invariant: when entering drain, the pipe holds pp.data > 0 bytes,
		// all of them part of the body. Only this loop writes into the pipe,
		// so an EAGAIN from splice means dst is not writable, never that the
		// pipe is empty. A source faster than the destination waits here,
		// parked on dst, with the pipe full.
		inPipe := pp.data
		err := dst.Write(pp.drainFn)
		done += int64(inPipe - pp.data)
		if err != nil {
			return done, &SideError{Err: err}
		}
		if pp.err != nil {
			return done, &SideError{Err: pp.err}
		}
	}
	return done, nil
}

// fill moves at most pp.max bytes from the socket fd into the empty pipe.
// It returns false, asking the netpoller to wait, only when the socket has
// nothing to read. EOF (splice returning 0 for a non-zero request) is
// ErrShortBody: Splice asks only for bytes the body still owes.
func (pp *Pipe) fill(fd uintptr) bool {
	for {
		m, err := rawSplice(int(fd), pp.w, pp.max)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return false
		case err != nil:
			pp.err = err
		case m == 0:
			pp.err = ErrShortBody
		default:
			pp.data += int(m)
		}
		return true
	}
}

// drain moves every byte in the pipe to the socket fd. It returns false,
// asking the netpoller to wait, only when the socket cannot take more; the
// bytes moved so far are already subtracted from pp.data.
func (pp *Pipe) drain(fd uintptr) bool {
	for pp.data > 0 {
		m, err := rawSplice(pp.r, int(fd), pp.data)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return false
		case err != nil:
			pp.err = err
			return true
		case m == 0:
			// Cannot happen while the pipe holds data; do not spin if it does.
			pp.err = io.ErrNoProgress
			return true
		}
		pp.data -= int(m)
	}
	return true
}

// rawSplice is splice(2) without offsets, made as a raw system call: the
// goroutine keeps its P and the runtime is not told (no entersyscall and
// exitsyscall). That is safe because no call here can sleep in the kernel
// (see spliceFlags), and it is cheaper: a 1 MiB splice runs for a few hundred
// microseconds of kernel CPU, long enough for sysmon to retake a P marked as
// in a syscall and hand it to a freshly woken thread, which finds nothing to
// do and sleeps again, while the splicing thread takes the slow path back
// from the syscall. On 64 MiB uploads through the gateway the raw call cut
// the futex calls and voluntary context switches by about 30%. The cost: a
// long run of calls is preempted like any running goroutine (after 10 ms, by
// sysmon's signal) instead of giving its P up during each call.
// TestRawSplice checks it answers as unix.Splice does.
func rawSplice(rfd, wfd, n int) (int, error) {
	r, _, e := unix.RawSyscall6(unix.SYS_SPLICE, uintptr(rfd), 0, uintptr(wfd), 0, uintptr(n), spliceFlags)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}
