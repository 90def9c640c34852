package main

import (
	"context"
	"fmt"

	"github.com/mizuchi-gw/mizuchi/config"
	"github.com/mizuchi-gw/mizuchi/engine"
	"github.com/mizuchi-gw/mizuchi/upstream"
)

// buildRouter resolves each route's backend (address, credentials) and
// builds the router. Credential providers may do I/O: this runs at startup
// and on reload, never on an event loop.
func buildRouter(ctx context.Context, cfg *config.Config) (*engine.Router, error) {
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
		routes = append(routes, &engine.Route{Name: b.Name, Prefix: b.PathPrefix, Endpoint: ep})
	}
	return engine.NewRouter(routes, cfg.Server.VirtualHostDomains), nil
}
