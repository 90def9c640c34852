package pipes

import "golang.org/x/sys/unix"

// newPipe makes a pipe with pipe2(O_NONBLOCK|O_CLOEXEC) and asks for size
// bytes with F_SETPIPE_SZ. If the kernel refuses (EPERM), it halves the
// request until it is granted or no larger than the pipe already is; the pipe
// keeps whatever it got, so a refusal never fails the caller.
func newPipe(size int) (*Pipe, error) {
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		return nil, err
	}
	pp := &Pipe{r: fds[0], w: fds[1]}
	cur, err := unix.FcntlInt(uintptr(pp.w), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		closePipe(pp)
		return nil, err
	}
	for want := size; want > cur; want /= 2 {
		got, err := unix.FcntlInt(uintptr(pp.w), unix.F_SETPIPE_SZ, want)
		if err == nil {
			cur = got
			break
		}
		if err != unix.EPERM && err != unix.ENOMEM {
			break
		}
	}
	if size < cur {
		// Smaller than the default pipe: shrinking is always allowed.
		if got, err := unix.FcntlInt(uintptr(pp.w), unix.F_SETPIPE_SZ, size); err == nil {
			cur = got
		}
	}
	pp.size = cur
	pp.initPump()
	return pp, nil
}

// closePipe closes both ends of pp.
func closePipe(pp *Pipe) {
	unix.Close(pp.r)
	unix.Close(pp.w)
	pp.r, pp.w = -1, -1
}

// pipeHasData asks the kernel whether pp holds unread bytes. An error counts
// as data, so that a pipe in an unknown state is closed rather than reused.
func pipeHasData(pp *Pipe) bool {
	n, err := unix.IoctlGetInt(pp.r, unix.TIOCINQ) // TIOCINQ is FIONREAD on Linux
	return err != nil || n != 0
}
