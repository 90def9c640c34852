package policy

import (
	"context"
	"time"
)

// Refresh invariants: one goroutine (loop) performs every JWKS fetch, so
// fetches never overlap. refreshing is true from the moment a fetch is due
// (claimed by RefreshUnknownKey or started by the loop) until it ended and
// the waiters were taken; every waiter is called exactly once, on the loop
// goroutine, after the fetch it waited for (or when the loop stops).

// Start loads the JWK set (if jwks_url is configured) on a new goroutine and
// refreshes it every cache_ttl until ctx is done or Close is called; after a
// failed fetch it retries sooner (MinRefreshInterval, doubling up to
// cache_ttl). It returns at once. Calls after the first, or after Close, do
// nothing.
func (a *JWT) Start(ctx context.Context) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.started || a.closed {
		return
	}
	a.started = true
	if a.jwksURL == "" {
		return
	}
	a.stopAfter = context.AfterFunc(ctx, a.cancel)
	a.refreshing = true // the first fetch; RefreshUnknownKey waits for it
	a.lastAttempt = a.now()
	a.wg.Add(1)
	go a.loop()
}

// Ready reports whether keys are loaded: true from the start without
// jwks_url, else once a JWK set was fetched.
func (a *JWT) Ready() bool { return a.ready.Load() }

// Close stops background refreshes and waits for the refresh goroutine.
// Pending RefreshUnknownKey callbacks are called. Verify keeps working with
// the last keys.
func (a *JWT) Close() {
	a.mu.Lock()
	a.closed = true
	stop := a.stopAfter
	a.mu.Unlock()
	if stop != nil {
		stop()
	}
	a.cancel()
	a.wg.Wait()
}

// RefreshUnknownKey asks for a JWK set refresh because a token named an
// unknown kid. It never blocks. done is always called exactly once, on
// another goroutine:
//
//   - after the refresh this call started, or the one already running, ends;
//   - when the last fetch started less than MinRefreshInterval ago (rate
//     limit), after a refresh deferred until the interval has passed, so a
//     key published just after a fetch still gets its requests through;
//   - at once when no jwks_url is configured, Start was not called, or the
//     authenticator is closed.
//
// done must not block: it runs on the refresh goroutine.
func (a *JWT) RefreshUnknownKey(done func()) {
	if a.jwksURL == "" {
		go done()
		return
	}
	now := a.now()
	a.mu.Lock()
	switch {
	case !a.started || a.closed:
		a.mu.Unlock()
		go done()
		return
	case a.refreshing:
		a.waiters = append(a.waiters, done)
		a.mu.Unlock()
		return
	case now.Sub(a.lastAttempt) < a.minRefresh:
		a.waiters = append(a.waiters, done)
		if !a.deferred {
			a.deferred = true
			time.AfterFunc(a.minRefresh-now.Sub(a.lastAttempt), a.deferredRefresh)
		}
		a.mu.Unlock()
		return
	}
	a.refreshing = true
	a.lastAttempt = now
	a.waiters = append(a.waiters, done)
	a.mu.Unlock()
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// deferredRefresh starts the refresh a rate-limited RefreshUnknownKey put
// off. If a fetch is already running its end releases the waiters.
func (a *JWT) deferredRefresh() {
	a.mu.Lock()
	a.deferred = false
	if a.closed || a.refreshing {
		a.mu.Unlock()
		return
	}
	a.refreshing = true
	a.lastAttempt = a.now()
	a.mu.Unlock()
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// loop runs every fetch: first at once, then on the timer or when kicked.
func (a *JWT) loop() {
	defer a.wg.Done()
	defer a.finish()
	backoff := a.minRefresh
	for {
		next := a.ttl
		err := a.refresh()
		if err != nil {
			next = min(backoff, a.ttl)
			backoff = min(backoff*2, a.ttl)
		} else {
			backoff = a.minRefresh
		}
		a.mu.Lock()
		a.refreshing = false
		if err == nil {
			// Ready only once the fetch is over: a RefreshUnknownKey
			// after Ready starts a fetch of its own instead of waiting
			// for this one.
			a.ready.Store(true)
		}
		ws := a.waiters
		a.waiters = nil
		a.mu.Unlock()
		for _, w := range ws {
			w()
		}

		t := time.NewTimer(next)
	wait:
		for {
			select {
			case <-a.ctx.Done():
				t.Stop()
				return
			case <-t.C:
				a.mu.Lock()
				a.refreshing = true
				a.lastAttempt = a.now()
				a.mu.Unlock()
				break wait
			case <-a.kick:
				a.mu.Lock()
				claimed := a.refreshing
				a.mu.Unlock()
				if claimed {
					t.Stop()
					break wait
				}
			}
		}
	}
}

// finish marks the authenticator closed and releases pending waiters.
func (a *JWT) finish() {
	a.mu.Lock()
	a.closed = true
	a.refreshing = false
	ws := a.waiters
	a.waiters = nil
	a.mu.Unlock()
	for _, w := range ws {
		w()
	}
}
