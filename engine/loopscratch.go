package engine

import "github.com/mizuchi-gw/mizuchi/upstream"

// Per-request overheads the loop avoids. OnTraffic hands the head to
// onHead and returns its scratch to the pool itself, not with a defer: a
// function with as many returns as onHead cannot have its defers
// open-coded, so a defer there costs a runtime defer record and
// deferreturn on every call, the link's OnTraffic included. And an
// exchange prepared on the loop signs with the loop's own Builder
// (loopLinks.builder) rather than one from Server.builders: the loop
// runs one prepare at a time, so it needs no pool.

// builder returns the loop's upstream head builder, made on first use.
// Only the loop's goroutine may call it.
func (ll *loopLinks) builder() *upstream.Builder {
	if ll.b == nil {
		ll.b = upstream.NewBuilder(ll.s.keys)
	}
	return ll.b
}
