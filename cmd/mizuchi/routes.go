package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/mizuchi-gw/mizuchi/config"
	"github.com/mizuchi-gw/mizuchi/engine"
	"github.com/mizuchi-gw/mizuchi/policy"
	"github.com/mizuchi-gw/mizuchi/policy/authz"
	"github.com/mizuchi-gw/mizuchi/policy/keytemplate"
	"github.com/mizuchi-gw/mizuchi/policy/seal"
	"github.com/mizuchi-gw/mizuchi/policy/sts"
	"github.com/mizuchi-gw/mizuchi/sigv4"
	"github.com/mizuchi-gw/mizuchi/upstream"
)

// routeSet is a built router and what must be stopped when it is replaced
// (background JWKS refreshers, the STS endpoint's included, authorization
// engines' connections). The STS issuer hangs off the router (Router.STS,
// and the session resolvers of the routes its roles name), so a reload
// swaps routes, roles, secrets and verifier together.
type routeSet struct {
	router *engine.Router
	jwts   []*policy.JWT
	authzs []*authz.Authorizer
}

// close stops the set's background work; requests already routed to it
// keep their (still valid) keys. Remote authorization engines only close
// idle connections: a decision in flight finishes.
func (rs *routeSet) close() {
	for _, j := range rs.jwts {
		j.Close()
	}
	for _, a := range rs.authzs {
		a.Close()
	}
}

// ready reports whether every route, and the STS endpoint, can
// authenticate (JWKS loaded).
func (rs *routeSet) ready() bool {
	for _, j := range rs.jwts {
		if !j.Ready() {
			return false
		}
	}
	return true
}

// buildRouter resolves each route's backend (address, credentials) and
// builds the router. Credential providers may do I/O: this runs at startup
// and on reload, never on an event loop.
func buildRouter(ctx context.Context, log *slog.Logger, cfg *config.Config) (_ *routeSet, err error) {
	// Every return of an error is "return nil, err": close what was built
	// through this variable, not the (nil) result.
	rs := &routeSet{}
	defer func() {
		if err != nil {
			rs.close()
		}
	}()
	// One sealer for every route: an upload id names its route itself
	// (policy/uploadid), and the keys are derived once.
	var sealer *seal.Sealer
	if secrets := cfg.Server.UploadIDSecrets; len(secrets) > 0 {
		bs := make([][]byte, len(secrets))
		for i, k := range secrets {
			bs[i] = []byte(k)
		}
		if sealer, err = seal.New(bs); err != nil {
			return nil, fmt.Errorf("server.upload_id_secrets: %w", err)
		}
	}
	iss, stsRoutes, err := buildSTS(log, cfg, rs)
	if err != nil {
		return nil, err
	}
	routes := make([]*engine.Route, 0, len(cfg.Buckets))
	for i := range cfg.Buckets {
		b := &cfg.Buckets[i]
		scheme, hostport, host, err := b.S3.Endpoint()
		if err != nil {
			return nil, fmt.Errorf("buckets[%d].s3.endpoint: %w", i, err)
		}
		creds, err := b.S3.Credentials(ctx)
		if err != nil {
			return nil, fmt.Errorf("buckets[%d].s3: cannot load credentials: %w", i, err)
		}
		ep := upstream.NewEndpoint(scheme, hostport, host, b.S3.Region, b.S3.Bucket, b.S3.KeyPrefix,
			b.S3.UsePathStyle(), creds, upstream.PoolConfig{})
		up, err := uploadConfig(&b.Upload, sealer)
		if err != nil {
			return nil, fmt.Errorf("buckets[%d].upload: %w", i, err)
		}
		rt := &engine.Route{Name: b.Name, Prefix: b.PathPrefix, Endpoint: ep, AllowHead: b.AllowHead, Upload: up}
		if c := b.CORS; c != nil {
			rt.CORS = engine.NewCORS(c.AllowedOrigins, c.AllowedHeaders, c.ExposeHeaders, c.MaxAge)
		}
		if b.Auth.Enabled {
			if rt.Auth, err = buildAuth(log, b, rs); err != nil {
				return nil, fmt.Errorf("buckets[%d].auth: %w", i, err)
			}
		}
		if stsRoutes[b.Name] {
			if err := acceptSessions(rt, b, iss); err != nil {
				return nil, fmt.Errorf("buckets[%d]: %w", i, err)
			}
		}
		if b.Authz.Enabled {
			if rt.Authz, err = authz.FromConfig(b.Name, &b.Authz); err != nil {
				return nil, fmt.Errorf("buckets[%d].authz: %w", i, err)
			}
			rs.authzs = append(rs.authzs, rt.Authz)
		}
		routes = append(routes, rt)
	}
	rs.router = engine.NewRouter(routes, cfg.Server.VirtualHostDomains)
	if iss != nil {
		rs.router.STS = &engine.STS{Issuer: iss, CORS: stsCORS(cfg, stsRoutes)}
	}
	for _, j := range rs.jwts {
		j.Start(context.Background())
	}
	return rs, nil
}

// uploadConfig turns a route's upload section into the engine's: the
// auto-multipart tuning, the key template, the upload id sealer (shared,
// nil without secrets) and lifetime, and the limits.
func uploadConfig(u *config.Upload, sealer *seal.Sealer) (engine.UploadConfig, error) {
	src := u.KeyTemplate
	if src == "" {
		src = keytemplate.Default
	}
	tmpl, err := keytemplate.Compile(src)
	if err != nil {
		return engine.UploadConfig{}, fmt.Errorf("key_template: %w", err)
	}
	return engine.UploadConfig{
		Threshold:           int64(u.MultipartThreshold),
		PartSize:            int64(u.PartSize),
		Concurrent:          u.ConcurrentParts,
		Sealer:              sealer,
		MaxUploadAge:        u.MaxUploadAge,
		KeyTemplate:         tmpl,
		MaxObjectSize:       int64(u.MaxObjectSize),
		MaxPartSize:         int64(u.MaxPartSize),
		AllowedContentTypes: u.AllowedContentTypes,
	}, nil
}

// buildAuth turns a route's auth section into the engine's authenticators.
func buildAuth(log *slog.Logger, b *config.Bucket, rs *routeSet) (*engine.Auth, error) {
	a := &engine.Auth{}
	if s := b.Auth.SigV4; s != nil {
		keys := sigv4.Keys{}
		if s.AccessKey != "" {
			keys[s.AccessKey] = &sigv4.Key{AccessKey: s.AccessKey, Secret: s.SecretKey, Subject: s.AccessKey}
		}
		for _, c := range s.Credentials {
			subject := c.Subject
			if subject == "" {
				subject = c.AccessKey
			}
			keys[c.AccessKey] = &sigv4.Key{AccessKey: c.AccessKey, Secret: c.SecretKey, Subject: subject}
		}
		region := s.Region
		if region == "" {
			region = b.S3.Region
		}
		a.SigV4 = &sigv4.VerifyConfig{Region: region, Service: s.Service, MaxSkew: s.MaxClockSkew, Keys: keys}
	}
	if j := b.Auth.JWT; j != nil {
		jw, err := policy.NewJWT(j, policy.JWTOptions{Route: b.Name, Logger: log, MinRefreshInterval: j.MinRefresh})
		if err != nil {
			return nil, fmt.Errorf("jwt: %w", err)
		}
		rs.jwts = append(rs.jwts, jw)
		a.JWT = jw
		for _, ts := range j.TokenSources {
			if ts.Type == "query" {
				a.QueryParams = append(a.QueryParams, ts.Name)
			}
		}
	}
	return a, nil
}

// buildSTS builds the AssumeRoleWithWebIdentity issuer when sts is enabled
// (nil otherwise), its web identity verifier added to rs (started, waited
// for by readiness and closed with the set), and the names of the routes
// its roles name.
func buildSTS(log *slog.Logger, cfg *config.Config, rs *routeSet) (*sts.Issuer, map[string]bool, error) {
	c := cfg.STS
	if c == nil || !c.Enabled {
		return nil, nil, nil
	}
	jw, err := policy.NewJWT(&c.JWT, policy.JWTOptions{Route: "sts", Logger: log, MinRefreshInterval: c.JWT.MinRefresh})
	if err != nil {
		return nil, nil, fmt.Errorf("sts.jwt: %w", err)
	}
	rs.jwts = append(rs.jwts, jw)
	iss, err := sts.New(c, jw)
	if err != nil {
		return nil, nil, err
	}
	names := map[string]bool{}
	for _, r := range c.Roles {
		for _, n := range r.Routes {
			names[n] = true
		}
	}
	return iss, names, nil
}

// acceptSessions lets a route named by an STS role verify session
// credentials: its SigV4 configuration gets the session resolver; a route
// with JWT authentication only gets one (region auth.sigv4.region or
// s3.region, service s3, no long-term keys). A route without
// authentication is refused (config.Unsupported says so first).
func acceptSessions(rt *engine.Route, b *config.Bucket, iss *sts.Issuer) error {
	if rt.Auth == nil {
		return fmt.Errorf("an sts role names bucket %q, which has no authentication: enable auth on it", b.Name)
	}
	if rt.Auth.SigV4 == nil {
		rt.Auth.SigV4 = &sigv4.VerifyConfig{Region: b.S3.Region, Service: "s3"}
	}
	rt.Auth.SigV4.Resolve = engine.SessionResolver(iss)
	return nil
}

// stsCORS is the STS endpoint's CORS policy: the union of the CORS
// policies of the routes the roles name (a browser app allowed to upload
// to a route may fetch credentials for it); nil when none has one.
func stsCORS(cfg *config.Config, names map[string]bool) *engine.CORS {
	var origins, headers, expose []string
	var maxAge time.Duration
	found := false
	for i := range cfg.Buckets {
		b := &cfg.Buckets[i]
		if !names[b.Name] || b.CORS == nil {
			continue
		}
		found = true
		origins = append(origins, b.CORS.AllowedOrigins...)
		headers = append(headers, b.CORS.AllowedHeaders...)
		expose = append(expose, b.CORS.ExposeHeaders...)
		maxAge = max(maxAge, b.CORS.MaxAge)
	}
	if !found {
		return nil
	}
	if len(headers) == 0 {
		headers = []string{"*"}
	}
	return engine.NewCORS(origins, headers, append(expose, "x-amzn-RequestId"), maxAge)
}
