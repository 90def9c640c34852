package config

import (
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mizuchi-gw/mizuchi/policy/keytemplate"
)

// All defaults live in this file: setDefaults methods fill a fresh value
// before the file is decoded over it (so an absent key keeps its default, and
// booleans can default to true), and finish derives the values that depend on
// other keys once decoding is done.

// defaulter is implemented by types with non-zero defaults. The decoder calls
// it on every struct it allocates (list elements, optional sections).
type defaulter interface{ setDefaults() }

func newConfig() *Config {
	c := &Config{}
	c.setDefaults()
	return c
}

func (c *Config) setDefaults() {
	c.Server.setDefaults()
	c.Metrics = Metrics{Enabled: true, Port: 9090}
	c.Tracing.setDefaults()
}

func (s *Server) setDefaults() {
	*s = Server{
		Address:         "0.0.0.0:8080",
		ZeroCopy:        ZeroCopy{Enabled: true, PipeBufferSize: 1 << 20},
		PipePool:        256,
		SpliceThreshold: 256 << 10,
		MaxHeaderBytes:  64 << 10,
		HeaderTimeout:   10 * time.Second,
		IdleTimeout:     60 * time.Second,
		BodyTimeout:     60 * time.Second,
		UpstreamTimeout: 5 * time.Minute,
		MaxConnections:  10000,
		Limits:          Limits{MinBodyRateWindow: 10 * time.Second},
		Spool:           Spool{MaxBytes: defaultSpoolMaxBytes},
	}
	s.Memory.BufferBudget = 256 << 20
}

func (b *Bucket) setDefaults() {
	b.Upload = Upload{MultipartThreshold: 5 << 30, PartSize: 16 << 20, ConcurrentParts: 4,
		KeyTemplate: keytemplate.Default, MaxUploadAge: 7 * 24 * time.Hour}
	b.Authz.FailMode = FailClosed
}

func (j *JWT) setDefaults() {
	j.CacheTTL = time.Hour
	j.MinRefresh = 10 * time.Second
	j.Leeway = 60 * time.Second
	j.SubjectClaim = "sub"
	j.TokenSources = []TokenSource{{Type: "bearer"}}
}

// setDefaults: an sts section starts with the JWT defaults (its jwt is a
// struct, not a pointer, so the decoder does not default it on its own).
func (s *STS) setDefaults() {
	s.JWT.setDefaults()
}

func (r *STSRole) setDefaults() {
	r.MaxDuration = time.Hour
}

func (s *SigV4) setDefaults() {
	s.Service = "s3"
	s.MaxClockSkew = 5 * time.Minute
}

func (o *OPA) setDefaults() {
	o.Query = "data.mizuchi.allow"
	o.Timeout = 100 * time.Millisecond
	o.CacheTTL = 60 * time.Second
	o.CacheDenyTTL = 5 * time.Second
	o.CacheMaxEntries = 1000
}

func (o *OpenFGA) setDefaults() {
	o.Relation = "writer"
	o.ObjectType = "bucket"
	o.UserType = "user"
	o.Timeout = 100 * time.Millisecond
	o.CacheTTL = 60 * time.Second
	o.CacheDenyTTL = 5 * time.Second
	o.CacheMaxEntries = 1000
}

func (t *Tracing) setDefaults() {
	*t = Tracing{
		ServiceName: "mizuchi",
		OTLP:        OTLP{Protocol: "grpc", Timeout: 10 * time.Second},
		Sampling:    Sampling{Strategy: "always", Ratio: 1},
		Batch:       Batch{MaxQueueSize: 2048, ScheduledDelay: 5 * time.Second, MaxExportBatchSize: 512},
	}
}

// finish applies the derived defaults. It is idempotent.
func (c *Config) finish() {
	s := &c.Server
	if s.AdminAddress == "" && c.Metrics.Enabled && c.Metrics.Port > 0 {
		// Loopback: the admin listener reveals internals; binding it
		// elsewhere is an explicit server.admin_address or -admin-listen.
		s.AdminAddress = net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Metrics.Port))
	}
	for i, d := range s.VirtualHostDomains {
		s.VirtualHostDomains[i] = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
	}
	if k := s.UploadIDSecret; k != "" && (len(s.UploadIDSecrets) == 0 || s.UploadIDSecrets[0] != k) {
		// upload_id_secret seals: first, and only once.
		s.UploadIDSecrets = append([]string{k}, slices.DeleteFunc(slices.Clone(s.UploadIDSecrets), func(x string) bool { return x == k })...)
	}
	for i := range c.Buckets {
		b := &c.Buckets[i]
		if b.PathPrefix == "" && b.Name != "" {
			b.PathPrefix = "/" + b.Name
		}
		if j := b.Auth.JWT; j != nil {
			j.finish()
		}
		if c := b.CORS; c != nil && len(c.AllowedHeaders) == 0 {
			c.AllowedHeaders = []string{"*"}
		}
		if v := b.Auth.SigV4; v != nil && v.Region == "" {
			v.Region = b.S3.Region
		}
		b.Authz.finish()
	}
	if s := c.STS; s != nil {
		s.JWT.finish()
	}
}

// finish merges the original single algorithm into Algorithms and defaults
// them: HS256 with a secret, else RS256.
func (j *JWT) finish() {
	if j.Algorithm != "" && !slices.Contains(j.Algorithms, j.Algorithm) {
		j.Algorithms = append([]string{j.Algorithm}, j.Algorithms...)
	}
	if len(j.Algorithms) == 0 {
		if j.Secret != "" {
			j.Algorithms = []string{"HS256"}
		} else {
			j.Algorithms = []string{"RS256"}
		}
	}
}

// finish infers engine types, normalizes the engine sections and makes
// Engines the complete list: the top-level engine becomes Engines[0] when
// engines is not given. Validate reports a top-level engine given together
// with engines (see topLevelEngine).
func (a *Authz) finish() {
	if a.FailMode == "" {
		a.FailMode = FailClosed
	}
	if a.Type == "" {
		a.Type = inferAuthzType(a.OPA, a.OpenFGA)
	}
	if len(a.Engines) == 0 && a.hasTopLevel() {
		a.Engines = []AuthzEngine{{Type: a.Type, OPA: a.OPA, OpenFGA: a.OpenFGA}}
	}
	for i := range a.Engines {
		e := &a.Engines[i]
		if e.Type == "" {
			e.Type = inferAuthzType(e.OPA, e.OpenFGA)
		}
		e.OPA.finish()
		e.OpenFGA.finish()
	}
	a.OPA.finish() // the top-level sections, when engines is given too
	a.OpenFGA.finish()
}

// hasTopLevel reports whether the original single-engine keys are used.
func (a *Authz) hasTopLevel() bool { return a.Type != "" || a.OPA != nil || a.OpenFGA != nil }

// inferAuthzType: opa with url -> opa_server, opa without url -> opa,
// openfga -> openfga, nothing -> "".
func inferAuthzType(o *OPA, f *OpenFGA) string {
	switch {
	case o != nil && o.URL != "":
		return AuthzOPAServer
	case o != nil:
		return AuthzOPA
	case f != nil:
		return AuthzOpenFGA
	}
	return ""
}

func (o *OPA) finish() {
	if o == nil {
		return
	}
	p := strings.Trim(o.PolicyPath, "/")
	p = strings.TrimPrefix(p, "v1/data/")
	if p == "" {
		p = "mizuchi/allow"
	}
	o.PolicyPath = p
}

func (f *OpenFGA) finish() {
	if f != nil && f.Object == "" && f.ObjectType != "" {
		f.Object = f.ObjectType + ":{bucket}"
	}
}
