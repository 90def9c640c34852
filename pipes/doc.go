// Package pipes moves request bodies from a client socket to an upstream
// socket: kernel-side with splice(2) through pooled pipes (Splice), or through
// a user-space buffer (Copy) when splice cannot be used.
//
// It depends on the standard library and golang.org/x/sys only (deps_test.go
// enforces it). Splice and the pool work on Linux; elsewhere Acquire and Splice
// return ErrUnsupported and Copy is the only path.
//
// # Guarantees
//
//   - Exactly n bytes. Splice and Copy never ask the source for a byte past
//     n, so whatever follows the body (a pipelined request) stays unread in
//     the source socket, ready for the next request.
//   - Errors name the side. Every failure of a transfer is a *SideError: Src
//     for the client side (ErrShortBody on EOF before n bytes, a reset, a read
//     deadline, a local Close), not Src for the upstream side. The count
//     returned is always the bytes delivered to the destination.
//   - No thread per wait. Splice waits through the RawConns' Read and Write
//     callbacks: on EAGAIN it returns false and the netpoller parks the
//     goroutine until the socket is ready. No splice call sleeps in the kernel
//     (the sockets are O_NONBLOCK and the pipe side uses SPLICE_F_NONBLOCK).
//     TestSplice_NoThreadPerWait holds 64 stalled transfers without a single
//     extra OS thread.
//   - Deadlines and Close work as on the net.Conn: SetReadDeadline on the
//     source and SetWriteDeadline on the destination bound the waits, and
//     closing either conn from another goroutine aborts the transfer with an
//     error wrapping net.ErrClosed. These are the engine's timeout and abort.
//   - No allocations in steady state: Acquire, Release, Splice and Copy
//     allocate nothing (allocation_test.go).
//
// # The pump
//
// Splice alternates two steps until n bytes are delivered:
//
//   - fill: splice from the source socket into the pipe, at most the pipe's
//     capacity and never more than the body still owes. Invariant: when
//     entering fill, the pipe is empty, so an EAGAIN means the socket has
//     nothing to read, never that the pipe is full.
//   - drain: splice everything in the pipe to the destination socket.
//     Invariant: when entering drain, the pipe holds only body bytes and only
//     the pump writes into it, so an EAGAIN means the destination cannot take
//     more, never that the pipe is empty. A source faster than the
//     destination waits here, parked on the destination, with the pipe full;
//     the kernel's socket buffers provide the back-pressure toward the client.
//
// Pipe.data counts the bytes in the pipe at every step; after a failure it
// says whether the pipe still holds bytes of the aborted body.
//
// Each splice is a raw system call: no call can sleep in the kernel, so the
// runtime need not know the goroutine is in one, and sysmon does not hand
// the goroutine's P to another thread in the middle of a 1 MiB splice (see
// rawSplice).
//
// Measured, not assumed: BenchmarkSplice64MiB, BenchmarkCopy64MiB and the
// standard library's own splice (BenchmarkCopy64MiBStdlib, io.CopyN between
// TCP conns) all move 64 MiB over loopback between a writer and a reader
// goroutine. On the 2-vCPU development VM (kernel 6.18, busy) Splice ran at
// 210-290 MB/s, level with the standard library's splice, and Copy at
// 230-365 MB/s: on loopback, with the writer's and reader's own copies sharing
// the same two CPUs, splice did not beat a 256 KiB user-space copy. Rerun the
// benchmarks on the target host before choosing the splice threshold.
//
// # The pool
//
//   - Pipes are made with pipe2(O_NONBLOCK|O_CLOEXEC) and sized with
//     F_SETPIPE_SZ (Config.PipeSize, 1 MiB by default). If the kernel refuses
//     the size (EPERM above fs.pipe-max-size without CAP_SYS_RESOURCE, or over
//     fs.pipe-user-pages-soft for an unprivileged user), the pool halves the
//     request until one is granted and asks for that size from then on.
//     PipeSize reports the size in force; log it at start-up. A non-root
//     process hits the soft limit (16384 pages by default) at about 64 pipes
//     of 1 MiB; size Max accordingly or raise the limit.
//   - At most Config.Max pipes are alive (in use plus free); Acquire returns
//     ErrPoolExhausted beyond that instead of waiting, so the engine can fall
//     back to Copy or refuse.
//   - The free list is capped (Config.MaxFree); pipes released beyond it are
//     closed, so an idle gateway gives the kernel memory back.
//   - A pipe that still holds data is closed, never reused: its bytes belong
//     to another request. Release checks both the pump's count and the
//     kernel's (FIONREAD).
//   - InUse and Free are the gauges; a pipe costs two fds and, while full,
//     PipeSize bytes of kernel memory.
//
// # Leaving gnet's poller
//
// The pump works on any socket registered with Go's netpoller; it needs a
// syscall.RawConn, such as (*net.TCPConn).SyscallConn() of a conn made by
// net.FileConn from a dup of the socket. It does not care how the socket got
// there, only that nothing else reads it meanwhile: gnet reads every socket it
// polls, so a socket must have left gnet's poller before Splice starts, and
// bytes gnet already read into user space must be written to the upstream
// first (then Splice the rest of the Content-Length).
//
// The RawConn holds its net.Conn's file descriptor alive for as long as the
// RawConn is reachable, and Splice keeps it reachable until it returns, so
// the caller need not do anything special; it must not Close the conn unless
// it means to abort the transfer. After a successful Splice the source socket
// sits exactly at the end of the body, so it can go back to the event loop for
// the next request on a keep-alive connection.
//
// The engine chooses how the socket leaves gnet; see engine/doc.go.
package pipes
