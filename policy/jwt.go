package policy

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/golang-jwt/jwt/v5"

	"github.com/mizuchi-gw/mizuchi/config"
)

// JWTOptions are the runtime settings of a JWT authenticator. The zero
// value is usable.
type JWTOptions struct {
	Route      string           // route name, for metrics labels and logs
	HTTPClient *http.Client     // for JWKS; nil = a client with a 10s timeout
	Logger     *slog.Logger     // nil = slog.Default()
	Now        func() time.Time // nil = time.Now; used for refresh scheduling and rate limiting
	// CacheSize bounds the verified-token cache; 0 = DefaultCacheSize,
	// negative = no cache.
	CacheSize int
	// MinRefreshInterval rate-limits JWKS refreshes asked for by
	// RefreshUnknownKey; 0 = 10s.
	MinRefreshInterval time.Duration
}

const (
	defaultHTTPTimeout = 10 * time.Second
	defaultMinRefresh  = 10 * time.Second
	defaultJWKSTTL     = time.Hour
)

// JWT authenticates bearer tokens of one route. It is safe for concurrent
// use.
type JWT struct {
	route        string
	log          *slog.Logger
	now          func() time.Time
	client       *http.Client
	algs         []string
	parserOpts   []jwt.ParserOption
	leeway       time.Duration
	subjectClaim string
	issuer       string
	sources      []tokenSource
	secret       []byte           // HS*; nil when not configured
	static       crypto.PublicKey // public_key / public_key_file; nil when not configured
	jwksURL      string
	ttl          time.Duration
	minRefresh   time.Duration

	keys  atomic.Pointer[keySet] // nil until the first successful JWKS fetch
	ready atomic.Bool
	cache *tokenCache

	ctx       context.Context // canceled by Close or by Start's context
	cancel    context.CancelFunc
	stopAfter func() bool // unregisters Start's context.AfterFunc
	wg        sync.WaitGroup
	kick      chan struct{} // RefreshUnknownKey -> refresh loop

	mu          sync.Mutex
	started     bool
	closed      bool
	refreshing  bool      // a fetch is running or claimed by RefreshUnknownKey
	deferred    bool      // a rate-limited refresh is scheduled (deferredRefresh)
	lastAttempt time.Time // start of the last fetch (for rate limiting)
	waiters     []func()  // called when the running or claimed fetch ends

	hits, misses          *metrics.Counter
	refreshOK, refreshErr *metrics.Counter
	staleGauge, keysGauge *metrics.Gauge
}

// NewJWT builds an authenticator from cfg, which config.Validate has
// accepted. It reads public_key_file but does not touch the network: call
// Start to load a JWK set.
func NewJWT(cfg *config.JWT, opts JWTOptions) (*JWT, error) {
	if cfg == nil {
		return nil, errorf("no jwt configuration")
	}
	a := &JWT{
		route:        opts.Route,
		log:          opts.Logger,
		now:          opts.Now,
		client:       opts.HTTPClient,
		algs:         slices.Clone(cfg.Algorithms),
		leeway:       cfg.Leeway,
		subjectClaim: cfg.SubjectClaim,
		issuer:       cfg.Issuer,
		jwksURL:      cfg.JWKSURL,
		ttl:          cfg.CacheTTL,
		minRefresh:   opts.MinRefreshInterval,
		cache:        newTokenCache(opts.CacheSize),
		kick:         make(chan struct{}, 1),
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	a.log = a.log.With("route", a.route)
	if a.now == nil {
		a.now = time.Now
	}
	if a.client == nil {
		a.client = &http.Client{Timeout: defaultHTTPTimeout}
	}
	if a.jwksURL != "" {
		if strings.HasPrefix(strings.ToLower(a.jwksURL), "http://") && !cfg.JWKSAllowHTTP {
			return nil, errorf("jwks_url %q is not https:// (set jwks_allow_http to accept it)", urlHost(a.jwksURL))
		}
		// A copy of the client that refuses redirects to http:// (always
		// from https://, and from http:// unless http is allowed).
		c := *a.client
		allowHTTP := cfg.JWKSAllowHTTP
		c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return errors.New("too many redirects")
			}
			if req.URL.Scheme != "https" && (!allowHTTP || via[0].URL.Scheme == "https") {
				return fmt.Errorf("refusing a redirect to %s:// for the JWK set", req.URL.Scheme)
			}
			return nil
		}
		a.client = &c
	}
	if a.subjectClaim == "" {
		a.subjectClaim = "sub"
	}
	if a.ttl <= 0 {
		a.ttl = defaultJWKSTTL
	}
	if a.minRefresh <= 0 {
		a.minRefresh = defaultMinRefresh
	}
	if a.leeway < 0 {
		return nil, errorf("negative leeway")
	}
	var err error
	if a.sources, err = compileSources(cfg.TokenSources); err != nil {
		return nil, err
	}
	if cfg.Secret != "" {
		a.secret = []byte(cfg.Secret)
	}
	pemData := []byte(cfg.PublicKey)
	if cfg.PublicKeyFile != "" {
		if pemData, err = os.ReadFile(cfg.PublicKeyFile); err != nil {
			return nil, errorf("cannot read public_key_file: %w", err)
		}
	}
	if len(pemData) > 0 {
		if a.static, err = parsePublicKeyPEM(pemData); err != nil {
			return nil, errorf("invalid public key: %w", err)
		}
	}
	if len(a.algs) == 0 {
		return nil, errorf("no algorithms configured")
	}
	staticUsed := false
	for _, alg := range a.algs {
		if jwt.GetSigningMethod(alg) == nil || alg == "none" {
			return nil, errorf("unsupported algorithm %q", alg)
		}
		switch {
		case isHMAC(alg):
			if a.secret == nil {
				return nil, errorf("algorithm %s needs a secret", alg)
			}
		case a.static == nil && a.jwksURL == "":
			return nil, errorf("algorithm %s needs public_key, public_key_file or jwks_url", alg)
		}
		staticUsed = staticUsed || (a.static != nil && keyFits(alg, a.static))
	}
	if a.static != nil && !staticUsed {
		return nil, errorf("the %T public key fits none of the algorithms %v", a.static, a.algs)
	}

	a.parserOpts = []jwt.ParserOption{
		jwt.WithValidMethods(a.algs),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(a.leeway),
	}
	if cfg.Issuer != "" {
		a.parserOpts = append(a.parserOpts, jwt.WithIssuer(cfg.Issuer))
	}
	if len(cfg.Audience) > 0 {
		a.parserOpts = append(a.parserOpts, jwt.WithAudience(cfg.Audience...))
	}

	a.ctx, a.cancel = context.WithCancel(context.Background())
	r := fmt.Sprintf("route=%q", a.route)
	a.hits = metrics.GetOrCreateCounter("mizuchi_jwt_cache_hits_total{" + r + "}")
	a.misses = metrics.GetOrCreateCounter("mizuchi_jwt_cache_misses_total{" + r + "}")
	if a.jwksURL != "" {
		a.refreshOK = metrics.GetOrCreateCounter("mizuchi_jwks_refresh_total{" + r + `,result="ok"}`)
		a.refreshErr = metrics.GetOrCreateCounter("mizuchi_jwks_refresh_total{" + r + `,result="error"}`)
		a.staleGauge = metrics.GetOrCreateGauge("mizuchi_jwks_stale{"+r+"}", nil)
		a.keysGauge = metrics.GetOrCreateGauge("mizuchi_jwks_keys{"+r+"}", nil)
		a.staleGauge.Set(0)
		a.keysGauge.Set(0)
	} else {
		a.ready.Store(true)
	}
	return a, nil
}

// Verify checks token at now and returns the Identity it carries.
//
// A token verified before is served from a bounded cache, without a
// signature check and without allocating, while it is still valid at now
// (exp, nbf and iat re-checked with leeway). Failures wrap ErrTokenTooLarge,
// ErrInvalidToken (the detail says which check failed) or ErrUnknownKey.
func (a *JWT) Verify(token []byte, now time.Time) (*Identity, error) {
	if len(token) > MaxTokenSize {
		return nil, errTooLarge
	}
	if len(token) == 0 {
		return nil, errEmptyToken
	}
	if id := a.cache.get(token, now.UnixNano()); id != nil {
		a.hits.Inc()
		return id, nil
	}
	a.misses.Inc()
	return a.verify(string(token), now)
}

// verify is the uncached path: parse, pick the key, check the signature and
// the claims, then cache the result.
func (a *JWT) verify(s string, now time.Time) (*Identity, error) {
	ks := a.keys.Load()
	opts := append(a.parserOpts[:len(a.parserOpts):len(a.parserOpts)], jwt.WithTimeFunc(func() time.Time { return now }))
	claims := jwt.MapClaims{}
	tok, err := jwt.NewParser(opts...).ParseWithClaims(s, claims, func(t *jwt.Token) (any, error) {
		return a.keyFor(ks, t)
	})
	if err != nil {
		return nil, a.tokenError(tok, claims, err)
	}
	sub, _ := claims[a.subjectClaim].(string)
	if sub == "" {
		return nil, fmt.Errorf("%w: no string %q claim", ErrInvalidToken, a.subjectClaim)
	}
	exp, _ := claims.GetExpirationTime() // present: WithExpirationRequired
	e := cacheEntry{
		id:        &Identity{Method: MethodJWT, Subject: sub, Claims: claims, Expires: exp.Time},
		notBefore: unixNano(time.Time{}),
		expires:   unixNano(exp.Add(a.leeway)),
	}
	for _, get := range []func() (*jwt.NumericDate, error){claims.GetNotBefore, claims.GetIssuedAt} {
		if t, _ := get(); t != nil {
			e.notBefore = max(e.notBefore, unixNano(t.Add(-a.leeway)))
		}
	}
	a.cache.put(s, e, now.UnixNano())
	return e.id, nil
}

// keyFor is the jwt.Keyfunc: it picks the key for the token's alg and kid
// from the key set ks (nil until loaded) or the static key.
func (a *JWT) keyFor(ks *keySet, t *jwt.Token) (any, error) {
	alg := t.Method.Alg()
	if isHMAC(alg) {
		// HS* only ever uses the configured secret, never a public key
		// (key confusion) nor a JWK: kid is ignored.
		if a.secret == nil {
			return nil, invalidf("no secret for %s", alg)
		}
		return a.secret, nil
	}
	if alg == "none" || !slices.Contains(a.algs, alg) { // unreachable: WithValidMethods
		return nil, invalidf("algorithm not allowed")
	}
	kidV, hasKid := t.Header["kid"]
	kid, ok := kidV.(string)
	if hasKid && !ok {
		return nil, invalidf("kid is not a string")
	}
	if a.jwksURL != "" {
		if hasKid {
			if ks == nil {
				return nil, &keyError{errNotLoaded}
			}
			if k, found := ks.byKid(kid, alg); k != nil {
				return k.key, nil
			} else if found {
				return nil, invalidf("key named by kid does not fit %s", alg)
			}
			return nil, &keyError{errUnknownKid}
		}
		if ks != nil {
			if k := ks.only(alg); k != nil {
				return k.key, nil
			}
		}
	}
	if a.static != nil && keyFits(alg, a.static) {
		return a.static, nil
	}
	if a.jwksURL != "" && ks == nil {
		return nil, &keyError{errNotLoaded}
	}
	return nil, invalidf("no key for %s (token has no kid)", alg)
}

// tokenError maps a jwt.Parser error to ours. The detail is one of a fixed
// set of phrases: the library's own messages may quote token bytes.
func (a *JWT) tokenError(tok *jwt.Token, claims jwt.MapClaims, err error) error {
	var ke *keyError
	if errors.As(err, &ke) {
		return ke.err
	}
	var d string
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		d = "token is malformed"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		d = "algorithm missing or unsupported"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		d = "signature is invalid"
		if tok != nil && tok.Method != nil && !slices.Contains(a.algs, tok.Method.Alg()) {
			d = "algorithm not allowed"
		}
	case errors.Is(err, jwt.ErrInvalidType):
		d = "a registered claim has the wrong type"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		d = "token has no aud claim"
		if _, ok := claims["exp"]; !ok {
			d = "token has no exp claim"
		} else if _, ok := claims["iss"]; !ok && a.issuer != "" {
			d = "token has no iss claim"
		}
	case errors.Is(err, jwt.ErrTokenExpired):
		return ErrTokenExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		d = "token is not valid yet"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		d = "token is issued in the future"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		d = "token has the wrong issuer"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		d = "token has the wrong audience"
	default:
		d = "token is invalid"
	}
	return fmt.Errorf("%w: %s", ErrInvalidToken, d)
}

func errorf(format string, args ...any) error {
	return fmt.Errorf("policy: "+format, args...)
}
