package main

import (
	"log/slog"
	"math"
	"syscall"
)

// fdReserve is the least number of file descriptors kept out of the
// engine's descriptor account (engine/fdaccount.go): the listeners, event
// loops and their wake-up descriptors, logs, the admin listener and its
// clients, DNS, readiness probes, the HTTP clients of remote
// authorization, JWKS and trace exporters, and the transient duplicates
// made while a socket changes hands. gnet stops serving when accept(2)
// fails with EMFILE (engine/fdlimit.go), so the account refuses new
// connections and requests before the process reaches RLIMIT_NOFILE.
//
// gnet's acceptor takes connections off the listen queue before an event
// loop sees them (OnOpen, where the account refuses them), so a burst of
// new connections while the account is full holds descriptors the account
// cannot see yet: a sixteenth of the limit, when that is more than
// fdReserve, is kept for such bursts.
const fdReserve = 128

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

// fdLimit returns the descriptors the engine's account may hold under
// nofile: all but max(fdReserve, nofile/16), and at least one.
func fdLimit(nofile uint64) int64 {
	if nofile > math.MaxInt32 {
		return math.MaxInt32
	}
	n := int64(nofile)
	return max(n-max(fdReserve, n/16), 1)
}

// fileLimitFDs raises the open file limit, logs it, and returns the
// engine's descriptor limit it implies (0 when it cannot be read: not
// limited). Client connections, backend connections, pipes (up to
// 2×pipePool) and spool files are counted as they are used, so an idle
// client connection costs one descriptor.
func fileLimitFDs(log *slog.Logger, pipePool, maxConns int) int64 {
	nofile, err := raiseFileLimit(log)
	if err != nil {
		log.Warn("cannot read the open file limit", "err", err)
		return 0
	}
	l := fdLimit(nofile)
	if int64(maxConns) >= l {
		log.Warn("max_connections is above what the open file limit carries: connections and uploads beyond the descriptor limit are refused with 503 SlowDown",
			"nofile", nofile, "fd_limit", l, "max_connections", maxConns, "pipe_pool", pipePool)
	} else {
		log.Info("open file limit", "nofile", nofile, "fd_limit", l, "pipe_pool", pipePool)
	}
	return l
}
