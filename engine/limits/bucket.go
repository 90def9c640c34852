package limits

// TokenBucket is a token bucket refilled at rate tokens per second up to
// burst tokens. Its zero value is full on first use. It is not safe for
// concurrent use: Identities guards each bucket with its shard's mutex.
type TokenBucket struct {
	tokens float64
	last   int64 // Unix ns of the last refill; 0 = never used
}

// Take refills the bucket for the time since its last use and takes one
// token. When none is left it returns false and how long until one is
// (nanoseconds, at least 1).
func (b *TokenBucket) Take(now int64, rate, burst float64) (ok bool, wait int64) {
	if b.last == 0 {
		b.tokens, b.last = burst, now
	} else if now > b.last {
		b.tokens += float64(now-b.last) * rate / 1e9
		if b.tokens > burst {
			b.tokens = burst
		}
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait = int64((1 - b.tokens) / rate * 1e9)
	if wait < 1 {
		wait = 1
	}
	return false, wait
}

// full reports whether the bucket would be full at now: forgetting it then
// changes nothing.
func (b *TokenBucket) full(now int64, rate, burst float64) bool {
	return b.last == 0 || b.tokens+float64(now-b.last)*rate/1e9 >= burst
}
