package opa

import (
	"bytes"
	"context"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/mizuchi-gw/mizuchi/config"
	"github.com/mizuchi-gw/mizuchi/internal/authztest"
	"github.com/mizuchi-gw/mizuchi/policy"
)

func benchInput() *policy.Input {
	return &authztest.PolicyCases()[0].In // allowed: every rule is evaluated
}

// BenchmarkDecide is the embedded decision for the shipped example policy,
// as the gateway calls it. The gateway evaluates on its event loop only if
// this stays well under 20µs.
func BenchmarkDecide(b *testing.B) {
	for _, c := range []struct {
		name string
		in   *policy.Input
	}{
		{"allow", benchInput()},
		{"deny", &authztest.PolicyCases()[10].In},
	} {
		b.Run(c.name, func(b *testing.B) {
			e := mustNew(b, &config.OPA{PolicyFile: authztest.ExamplePolicy()})
			inJSON := c.in.AppendJSON(nil)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := e.Decide(ctx, c.in, inJSON); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecideInput compares the ways to hand OPA the input: the AST
// value built from policy.Input (what Decide does), in.Map() through
// rego.EvalInput, and the JSON parsed by OPA.
func BenchmarkDecideInput(b *testing.B) {
	e := mustNew(b, &config.OPA{PolicyFile: authztest.ExamplePolicy()})
	in := benchInput()
	inJSON := in.AppendJSON(nil)
	ctx := context.Background()
	f := func(name string, opt func() rego.EvalOption) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rs, err := e.pq.Eval(ctx, opt())
				if err != nil {
					b.Fatal(err)
				}
				if d, err := decision(rs); err != nil || !d.Allow {
					b.Fatalf("unexpected decision %+v %v", d, err)
				}
			}
		})
	}
	f("ParsedInput", func() rego.EvalOption { return rego.EvalParsedInput(inputValue(in)) })
	f("EvalInputMap", func() rego.EvalOption { return rego.EvalInput(in.Map()) })
	f("ValueFromJSON", func() rego.EvalOption {
		v, err := ast.ValueFromReader(bytes.NewReader(inJSON))
		if err != nil {
			b.Fatal(err)
		}
		return rego.EvalParsedInput(v)
	})
}
