package opa

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/mizuchi-gw/mizuchi/config"
	"github.com/mizuchi-gw/mizuchi/policy"
)

// Type is the engine's configuration type.
const Type = config.AuthzOPA

// ReasonUndefined is the reason of a denial by an undefined result.
const ReasonUndefined = "policy result undefined"

// DefaultQuery is evaluated when config.OPA.Query is empty.
const DefaultQuery = "data.mizuchi.allow"

var (
	// ErrResult: the policy's result is not a decision.
	ErrResult = errors.New(`opa: policy result is neither a boolean nor {"allow": bool, "reason": string}`)
	// ErrNoPolicy: the configuration names no policy.
	ErrNoPolicy = errors.New("opa: no policy: set policy, policy_file or bundle")
	// ErrPolicySources: more than one of policy, policy_file and bundle.
	ErrPolicySources = errors.New("opa: policy, policy_file and bundle are exclusive")
)

// noMetrics spares every evaluation its own metrics registry.
var noMetrics = metrics.NoOp()

// ioBuiltins are the builtins that wait for the network; embedded policies
// cannot call them (Local must stay true).
var ioBuiltins = []string{"http.send", "net.lookup_ip_addr"}

// Engine is a compiled policy. It implements policy.Engine.
type Engine struct {
	query string
	pq    rego.PreparedEvalQuery
}

var _ policy.Engine = (*Engine)(nil)

// New compiles cfg's policy (Policy, PolicyFile or Bundle, exactly one)
// for cfg.Query (DefaultQuery when empty). Other fields of cfg (URL,
// timeouts, caches) are not its concern. It returns an error, and no
// Engine, when the policy cannot be read, parsed or compiled.
func New(cfg *config.OPA) (*Engine, error) {
	if cfg == nil {
		return nil, ErrNoPolicy
	}
	query := cfg.Query
	if query == "" {
		query = DefaultQuery
	}
	opts := []func(*rego.Rego){
		rego.Query(query),
		rego.Capabilities(capabilities()),
	}
	n := 0
	for _, s := range []string{cfg.Policy, cfg.PolicyFile, cfg.Bundle} {
		if s != "" {
			n++
		}
	}
	switch {
	case n == 0:
		return nil, ErrNoPolicy
	case n > 1:
		return nil, ErrPolicySources
	case cfg.Bundle != "":
		if _, err := os.Stat(cfg.Bundle); err != nil {
			return nil, fmt.Errorf("opa: cannot load bundle: %w", err)
		}
		opts = append(opts, rego.LoadBundle(cfg.Bundle))
	case cfg.PolicyFile != "":
		src, err := os.ReadFile(cfg.PolicyFile)
		if err != nil {
			return nil, fmt.Errorf("opa: cannot read policy: %w", err)
		}
		opts = append(opts, rego.Module(cfg.PolicyFile, string(src)))
	default:
		opts = append(opts, rego.Module("policy.rego", cfg.Policy))
	}
	pq, err := rego.New(opts...).PrepareForEval(context.Background())
	if err != nil {
		return nil, fmt.Errorf("opa: cannot compile policy for %s: %w", query, err)
	}
	return &Engine{query: query, pq: pq}, nil
}

// capabilities are this OPA's, without ioBuiltins.
func capabilities() *ast.Capabilities {
	c := ast.CapabilitiesForThisVersion()
	c.Builtins = slices.DeleteFunc(c.Builtins, func(b *ast.Builtin) bool {
		return slices.Contains(ioBuiltins, b.Name)
	})
	return c
}

// Type returns "opa".
func (e *Engine) Type() string { return Type }

// Local reports true: evaluation never waits for I/O.
func (e *Engine) Local() bool { return true }

// Close does nothing; an Engine holds no connections.
func (e *Engine) Close() error { return nil }

// Query returns the query the engine evaluates.
func (e *Engine) Query() string { return e.query }

// Decide evaluates the policy for in; inJSON is not used. Evaluation stops
// with an error when ctx is done.
func (e *Engine) Decide(ctx context.Context, in *policy.Input, _ []byte) (policy.Decision, error) {
	rs, err := e.pq.Eval(ctx, rego.EvalParsedInput(inputValue(in)), rego.EvalMetrics(noMetrics))
	if err != nil {
		return policy.Decision{}, fmt.Errorf("opa: %s: %w", e.query, err)
	}
	return decision(rs)
}

// decision reads a result set: no result is undefined (a denial); one
// expression value is a boolean or an {"allow", "reason"} object.
func decision(rs rego.ResultSet) (policy.Decision, error) {
	switch {
	case len(rs) == 0:
		return policy.Decision{Reason: ReasonUndefined}, nil
	case len(rs) > 1 || len(rs[0].Expressions) != 1:
		return policy.Decision{}, fmt.Errorf("%w: %d results", ErrResult, len(rs))
	}
	switch v := rs[0].Expressions[0].Value.(type) {
	case bool:
		return policy.Decision{Allow: v}, nil
	case map[string]any:
		allow, ok := v["allow"].(bool)
		if !ok {
			return policy.Decision{}, fmt.Errorf("%w: \"allow\" is %s", ErrResult, typeName(v["allow"]))
		}
		d := policy.Decision{Allow: allow}
		if r, found := v["reason"]; found {
			if d.Reason, ok = r.(string); !ok {
				return policy.Decision{}, fmt.Errorf("%w: \"reason\" is %s", ErrResult, typeName(r))
			}
		}
		return d, nil
	default:
		return policy.Decision{}, fmt.Errorf("%w: got %s", ErrResult, typeName(v))
	}
}

// typeName names a JSON value's type for error messages.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null or missing"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return "a number"
}
