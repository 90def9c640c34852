package engine

import "time"

// Clock reads of the in-loop exchange. time.Now reads two clocks (wall and
// monotonic) and costs tens of nanoseconds on a virtual machine; the
// request pays for it once, in newExchange (ex.start). Everything else is
// derived from that reading or from the monotonic clock alone (time.Since
// on a time with a monotonic reading reads only that clock):
//
//   - the upstream signing time is ex.start: on the loop, prepare runs in
//     the same OnTraffic call, microseconds later, and x-amz-date has
//     second resolution (S3 accepts 15 minutes of skew);
//   - the upstream start (ex.upStart) is ex.start plus the monotonic time
//     elapsed since, so durations measured from it stay exact;
//   - linkDone reads the monotonic clock once for both histograms (the
//     backend's duration, and the request's, ex.doneIn, used by finish).

// sinceStart returns ex.start advanced by the monotonic time elapsed since
// it: the current time, for one read of the monotonic clock only.
func (ex *exchange) sinceStart() time.Time {
	return ex.start.Add(time.Since(ex.start))
}

// observeDuration records the request's duration: ex.doneIn when linkDone
// measured it (then cleared), else the time since ex.start.
func (ex *exchange) observeDuration() {
	if d := ex.doneIn; d > 0 {
		ex.doneIn = 0
		ex.route.m.histogram(&ex.route.m.latency[ex.op], `mizuchi_request_duration_seconds`, ex.op).Update(d.Seconds())
		return
	}
	ex.route.m.observe(ex.op, ex.start)
}

// observeLinkDone records the backend's duration of an in-loop exchange
// and returns the request's duration so far, from one clock read; linkDone
// hands it to finish (ex.doneIn) when it answers now.
func (ex *exchange) observeLinkDone() time.Duration {
	d, up := ex.linkDurations()
	ex.route.m.histogram(&ex.route.m.upLatency[ex.op], `mizuchi_upstream_request_duration_seconds`, ex.op).Update(up.Seconds())
	return d
}

// linkDurations returns the time since ex.start and since ex.upStart,
// from one read of the monotonic clock.
func (ex *exchange) linkDurations() (total, up time.Duration) {
	total = time.Since(ex.start)
	return total, total - ex.upStart.Sub(ex.start)
}
