package authz

import (
	"fmt"

	"github.com/mizuchi-gw/mizuchi/config"
	"github.com/mizuchi-gw/mizuchi/policy"
	"github.com/mizuchi-gw/mizuchi/policy/fga"
	"github.com/mizuchi-gw/mizuchi/policy/opa"
	"github.com/mizuchi-gw/mizuchi/policy/opaserver"
)

// FromConfig builds a route's Authorizer from its authz section (after
// config defaults: cfg.Engines holds every engine). It compiles embedded
// policies, so a policy that does not compile is an error here, and a
// reload that carries one is refused. It does no network I/O.
func FromConfig(route string, cfg *config.Authz) (*Authorizer, error) {
	var ecs []EngineConfig
	closeAll := func() {
		for _, ec := range ecs {
			_ = ec.Engine.Close()
		}
	}
	for i := range cfg.Engines {
		ec, err := engineFromConfig(&cfg.Engines[i])
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("engines[%d] (%s): %w", i, cfg.Engines[i].Type, err)
		}
		ecs = append(ecs, ec)
	}
	a, err := New(route, cfg.FailMode == config.FailOpen, ecs)
	if err != nil {
		closeAll()
		return nil, err
	}
	return a, nil
}

func engineFromConfig(e *config.AuthzEngine) (EngineConfig, error) {
	var (
		eng policy.Engine
		err error
		ec  EngineConfig
	)
	switch e.Type {
	case config.AuthzOPA:
		eng, err = opa.New(e.OPA)
	case config.AuthzOPAServer:
		eng, err = opaserver.New(e.OPA)
	case config.AuthzOpenFGA:
		eng, err = fga.New(e.OpenFGA)
	default:
		return ec, fmt.Errorf("authz: unknown engine type %q", e.Type)
	}
	if err != nil {
		return ec, err
	}
	ec.Engine = eng
	if o := e.OPA; o != nil && e.Type != config.AuthzOpenFGA {
		ec.Timeout, ec.TTL, ec.DenyTTL, ec.MaxEntries = o.Timeout, o.CacheTTL, o.CacheDenyTTL, o.CacheMaxEntries
	}
	if f := e.OpenFGA; f != nil && e.Type == config.AuthzOpenFGA {
		ec.Timeout, ec.TTL, ec.DenyTTL, ec.MaxEntries = f.Timeout, f.CacheTTL, f.CacheDenyTTL, f.CacheMaxEntries
	}
	return ec, nil
}
