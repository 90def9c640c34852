package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/mizuchi-gw/mizuchi/config"
	"github.com/mizuchi-gw/mizuchi/engine"
	"github.com/mizuchi-gw/mizuchi/policy"
	"github.com/mizuchi-gw/mizuchi/policy/authz"
	"github.com/mizuchi-gw/mizuchi/policy/keytemplate"
	"github.com/mizuchi-gw/mizuchi/policy/seal"
	"github.com/mizuchi-gw/mizuchi/sigv4"
	"github.com/mizuchi-gw/mizuchi/upstream"
)

// routeSet is a built router and what must be stopped when it is replaced
// (background JWKS refreshers, authorization engines' connections).
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

// ready reports whether every route can authenticate (JWKS loaded).
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
		if b.Authz.Enabled {
			if rt.Authz, err = authz.FromConfig(b.Name, &b.Authz); err != nil {
				return nil, fmt.Errorf("buckets[%d].authz: %w", i, err)
			}
			rs.authzs = append(rs.authzs, rt.Authz)
		}
		routes = append(routes, rt)
	}
	rs.router = engine.NewRouter(routes, cfg.Server.VirtualHostDomains)
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
