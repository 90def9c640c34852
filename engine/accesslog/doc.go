// Package accesslog writes the gateway's access log: one line per request,
// refusals and unparsable heads included, as JSON or logfmt, to stdout,
// stderr or a file that is reopened on demand (logrotate sends SIGHUP).
//
// Guarantees:
//
//   - Logger.Log never blocks and never does I/O. It formats the record into
//     a pooled buffer on the caller's goroutine (an event loop) and offers
//     it to a bounded queue read by one writer goroutine. When the queue is
//     full the line is dropped and counted in
//     mizuchi_access_log_dropped_total. Formatting and queuing allocate
//     nothing once the pool is warm.
//   - A line never holds a secret: the record has no field for
//     Authorization, signatures, session tokens, passwords or the query
//     string (presigned URLs carry their credentials there); callers pass
//     the path without the query. The client's access key id (public) is
//     logged.
//   - Sampling keeps a ratio of the requests answered below 400; every
//     answer of 400 or more is logged.
//
// The writer batches lines in a 64 KiB buffer and flushes whenever the
// queue runs empty, so a line reaches the output within one write of its
// request under light load.
package accesslog
