package authz

import (
	"context"
	"errors"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"golang.org/x/sync/singleflight"

	"github.com/mizuchi-gw/mizuchi/policy"
)

// Outcomes of a Result, as the access log names them.
const (
	OutcomeAllow       = "allow"
	OutcomeDeny        = "deny"
	OutcomeUnavailable = "unavailable" // no decision under fail_mode closed
)

// Result is a route's decision for one request.
type Result struct {
	Allow bool
	// Unavailable: an engine could not decide and the fail mode is
	// closed. Allow is false.
	Unavailable bool
	// Reason is the denying policy's reason, or why no decision was made
	// ("opa_server: timeout"); empty when allowed.
	Reason string
	// Engine is the type of the engine that denied or failed; empty when
	// allowed.
	Engine string
}

// Outcome names the result for logs: allow, deny or unavailable.
func (r *Result) Outcome() string {
	switch {
	case r.Allow:
		return OutcomeAllow
	case r.Unavailable:
		return OutcomeUnavailable
	}
	return OutcomeDeny
}

// EngineConfig is one engine with its limits. Zero values: Timeout 100 ms;
// TTL and DenyTTL 0 (not cached); MaxEntries 1000.
type EngineConfig struct {
	Engine     policy.Engine
	Timeout    time.Duration
	TTL        time.Duration // allows are cached this long; 0 = not cached
	DenyTTL    time.Duration // denials are cached this long; 0 = not cached
	MaxEntries int
}

// DefaultTimeout bounds one engine call when EngineConfig.Timeout is 0.
const DefaultTimeout = 100 * time.Millisecond

// Authorizer is one route's authorization. It is safe for concurrent use.
type Authorizer struct {
	route    string
	failOpen bool
	engines  []*engine
}

type engine struct {
	eng     policy.Engine
	typ     string
	timeout time.Duration
	ttl     int64 // ns
	denyTTL int64 // ns
	cache   *cache
	flight  singleflight.Group

	allow, deny, errs, timeouts, failOpen *metrics.Counter
	hits, misses                          *metrics.Counter
	latency                               *metrics.PrometheusHistogram
}

// New builds a route's Authorizer from its engines, in the order they are
// asked. failOpen allows (and counts) when an engine cannot decide.
func New(route string, failOpen bool, engines []EngineConfig) (*Authorizer, error) {
	if len(engines) == 0 {
		return nil, errors.New("authz: no engine")
	}
	a := &Authorizer{route: route, failOpen: failOpen}
	for _, ec := range engines {
		if ec.Engine == nil {
			return nil, errors.New("authz: nil engine")
		}
		e := &engine{eng: ec.Engine, typ: ec.Engine.Type(), timeout: ec.Timeout,
			ttl: int64(ec.TTL), denyTTL: int64(ec.DenyTTL)}
		if e.timeout <= 0 {
			e.timeout = DefaultTimeout
		}
		if e.ttl > 0 || e.denyTTL > 0 {
			n := ec.MaxEntries
			if n <= 0 {
				n = 1000
			}
			e.cache = newCache(n)
		}
		lbl := `{route="` + route + `",engine="` + e.typ + `"`
		res := func(r string) *metrics.Counter {
			return metrics.GetOrCreateCounter(`mizuchi_authz_decisions_total` + lbl + `,result="` + r + `"}`)
		}
		e.allow, e.deny, e.errs, e.timeouts = res("allow"), res("deny"), res("error"), res("timeout")
		e.failOpen = metrics.GetOrCreateCounter(`mizuchi_authz_fail_open_total` + lbl + `}`)
		e.hits = metrics.GetOrCreateCounter(`mizuchi_authz_cache_hits_total` + lbl + `}`)
		e.misses = metrics.GetOrCreateCounter(`mizuchi_authz_cache_misses_total` + lbl + `}`)
		e.latency = metrics.GetOrCreatePrometheusHistogram(`mizuchi_authz_decision_duration_seconds` + lbl + `}`)
		a.engines = append(a.engines, e)
	}
	return a, nil
}

// Close closes every engine.
func (a *Authorizer) Close() {
	for _, e := range a.engines {
		_ = e.eng.Close()
	}
}

// Cached returns the decision for inJSON when every engine that must be
// asked has it cached at now (Unix ns): a cached denial from any engine
// (all engines before it allowing) is a denial. It never blocks on an
// engine. It counts the hits it finds; a miss is counted by the Decide
// that follows it, so every lookup is counted once.
func (a *Authorizer) Cached(inJSON []byte, now int64) (Result, bool) {
	for _, e := range a.engines {
		d, ok := e.cache.get(inJSON, now)
		if !ok {
			return Result{}, false
		}
		e.hits.Inc()
		if !d.Allow {
			return Result{Reason: d.Reason, Engine: e.typ}, true
		}
	}
	return Result{Allow: true}, true
}

// Decide asks every engine in order, from the cache where it can, and
// returns the route's decision. It may block for up to the sum of the
// engines' timeouts: never call it on an event loop unless Inline.
func (a *Authorizer) Decide(ctx context.Context, in *policy.Input, inJSON []byte) Result {
	for _, e := range a.engines {
		d, err := e.decide(ctx, in, inJSON)
		if err != nil {
			if a.failOpen {
				e.failOpen.Inc()
				continue
			}
			return Result{Unavailable: true, Reason: e.typ + ": " + errorReason(err), Engine: e.typ}
		}
		if !d.Allow {
			return Result{Reason: d.Reason, Engine: e.typ}
		}
	}
	return Result{Allow: true}
}

// decide is one engine's decision: cached, or one call shared by every
// concurrent identical miss.
func (e *engine) decide(ctx context.Context, in *policy.Input, inJSON []byte) (policy.Decision, error) {
	if d, ok := e.cache.get(inJSON, time.Now().UnixNano()); ok {
		e.hits.Inc()
		return d, nil
	}
	if e.cache != nil {
		e.misses.Inc()
	}
	key := string(inJSON)
	v, err, _ := e.flight.Do(key, func() (any, error) {
		// A caller that missed just before an earlier call stored its
		// answer finds it here instead of calling again.
		if d, ok := e.cache.get(inJSON, time.Now().UnixNano()); ok {
			return d, nil
		}
		return e.call(ctx, in, inJSON)
	})
	if err != nil {
		return policy.Decision{}, err
	}
	return v.(policy.Decision), nil
}

// call asks the engine once, under its timeout, and caches the answer.
func (e *engine) call(ctx context.Context, in *policy.Input, inJSON []byte) (policy.Decision, error) {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	start := time.Now()
	d, err := e.eng.Decide(ctx, in, inJSON)
	e.latency.UpdateDuration(start)
	if err == nil && ctx.Err() != nil {
		err = ctx.Err() // an answer after the deadline is not used
	}
	switch {
	case err != nil && errors.Is(err, context.DeadlineExceeded):
		e.timeouts.Inc()
		return d, errTimeout
	case err != nil:
		e.errs.Inc()
		return d, err
	case d.Allow:
		e.allow.Inc()
		if now := time.Now().UnixNano(); e.ttl > 0 {
			e.cache.put(string(inJSON), d, now, now+e.ttl)
		}
	default:
		e.deny.Inc()
		if now := time.Now().UnixNano(); e.denyTTL > 0 {
			e.cache.put(string(inJSON), d, now, now+e.denyTTL)
		}
	}
	return d, nil
}

var errTimeout = errors.New("authz: timeout")

// errorReason is the short reason of a failed decision for logs and the
// 503 message: "timeout", or the engine's error.
func errorReason(err error) string {
	if errors.Is(err, errTimeout) {
		return "timeout"
	}
	return err.Error()
}
