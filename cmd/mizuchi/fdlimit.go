package main

import (
	"log/slog"
	"math"
	"syscall"
)

// The file descriptor budget. gnet stops serving when accept(2) fails
// with EMFILE (engine/fdlimit.go), so client connections are capped
// below what RLIMIT_NOFILE allows: fdReserve descriptors stay for the
// listeners, event loops, logs, the admin listener and idle backend
// connections, two per pipe of the pipe pool, and fdsPerConn per client
// connection (its socket, its backend connection and a spool file or the
// transient duplicate of a detached socket).
const (
	fdReserve  = 128
	fdsPerConn = 3
)

// raiseFileLimit raises the soft RLIMIT_NOFILE to the hard limit (the Go
// runtime does it too on Linux; this logs it and covers other systems)
// and returns the soft limit in force.
func raiseFileLimit(log *slog.Logger) (uint64, error) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, err
	}
	if r.Cur < r.Max {
		old := r.Cur
		r.Cur = r.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
			log.Warn("cannot raise the open file limit", "soft", old, "hard", r.Max, "err", err)
			return old, nil
		}
		log.Info("raised the open file limit to the hard limit", "from", old, "to", r.Cur)
	}
	return r.Cur, nil
}

// fdConnCap returns the most client connections nofile descriptors carry
// with pipePool splice pipes.
func fdConnCap(nofile uint64, pipePool int) int {
	if nofile > math.MaxInt32 {
		return math.MaxInt32
	}
	avail := int64(nofile) - fdReserve - 2*int64(pipePool)
	return int(max(avail/fdsPerConn, 1))
}

// fileLimitConnCap raises the open file limit, logs it, and returns the
// connection cap it implies (0 when it cannot be read).
func fileLimitConnCap(log *slog.Logger, pipePool, maxConns int) int {
	nofile, err := raiseFileLimit(log)
	if err != nil {
		log.Warn("cannot read the open file limit", "err", err)
		return 0
	}
	c := fdConnCap(nofile, pipePool)
	if c < maxConns {
		log.Warn("max_connections lowered to fit the open file limit", "nofile", nofile, "max_connections", maxConns, "cap", c)
	} else {
		log.Info("open file limit", "nofile", nofile, "connection_cap", c)
	}
	return c
}
