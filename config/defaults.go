package config

import (
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
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
		MaxConnections:  10000,
	}
}

func (b *Bucket) setDefaults() {
	b.Upload = Upload{MultipartThreshold: 5 << 30, PartSize: 16 << 20, ConcurrentParts: 4}
}

func (j *JWT) setDefaults() {
	j.CacheTTL = time.Hour
	j.MinRefresh = 10 * time.Second
	j.Leeway = 60 * time.Second
	j.SubjectClaim = "sub"
	j.TokenSources = []TokenSource{{Type: "bearer"}}
}

func (s *SigV4) setDefaults() {
	s.Service = "s3"
	s.MaxClockSkew = 5 * time.Minute
}

func (o *OPA) setDefaults() {
	o.Query = "data.mizuchi.allow"
	o.Timeout = 5 * time.Second
	o.CacheTTL = 60 * time.Second
	o.CacheMaxEntries = 1000
}

func (o *OpenFGA) setDefaults() {
	o.Relation = "writer"
	o.ObjectType = "bucket"
	o.UserType = "user"
	o.Timeout = 5 * time.Second
	o.CacheTTL = 60 * time.Second
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
		s.AdminAddress = net.JoinHostPort("0.0.0.0", strconv.Itoa(c.Metrics.Port))
	}
	for i, d := range s.VirtualHostDomains {
		s.VirtualHostDomains[i] = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
	}
	for i := range c.Buckets {
		b := &c.Buckets[i]
		if b.PathPrefix == "" && b.Name != "" {
			b.PathPrefix = "/" + b.Name
		}
		if j := b.Auth.JWT; j != nil {
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
		if c := b.CORS; c != nil && len(c.AllowedHeaders) == 0 {
			c.AllowedHeaders = []string{"*"}
		}
		if v := b.Auth.SigV4; v != nil && v.Region == "" {
			v.Region = b.S3.Region
		}
		a := &b.Authz
		if a.Type == "" {
			switch {
			case a.OPA != nil && a.OPA.URL != "":
				a.Type = AuthzOPAServer
			case a.OPA != nil:
				a.Type = AuthzOPA
			case a.OpenFGA != nil:
				a.Type = AuthzOpenFGA
			}
		}
		if o := a.OPA; o != nil {
			p := strings.Trim(o.PolicyPath, "/")
			p = strings.TrimPrefix(p, "v1/data/")
			if p == "" {
				p = "mizuchi/allow"
			}
			o.PolicyPath = p
		}
	}
}
