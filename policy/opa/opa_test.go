package opa

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/bundle"

	"github.com/mizuchi-gw/mizuchi/config"
	"github.com/mizuchi-gw/mizuchi/internal/authztest"
	"github.com/mizuchi-gw/mizuchi/policy"
)

func mustNew(t testing.TB, cfg *config.OPA) *Engine {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatalf("unexpected error: %s", err)
	}
	return e
}

func decide(t testing.TB, e *Engine, in *policy.Input) policy.Decision {
	t.Helper()
	d, err := e.Decide(context.Background(), in, in.AppendJSON(nil))
	if err != nil {
		t.Fatalf("unexpected error: %s", err)
	}
	return d
}

func TestDecide_ExamplePolicy(t *testing.T) {
	e := mustNew(t, &config.OPA{PolicyFile: authztest.ExamplePolicy()})
	if e.Type() != "opa" || !e.Local() || e.Query() != DefaultQuery || e.Close() != nil {
		t.Fatalf("unexpected engine: %s %v %s", e.Type(), e.Local(), e.Query())
	}
	for _, c := range authztest.PolicyCases() {
		d := decide(t, e, &c.In)
		if d.Allow != c.Allow || d.Reason != c.Reason {
			t.Fatalf("%s: unexpected decision; got %+v; want allow=%v reason=%q", c.Name, d, c.Allow, c.Reason)
		}
	}
}

func TestDecide_Results(t *testing.T) {
	in := &policy.Input{Subject: "alice", Auth: policy.AuthNone, Action: "s3:PutObject", Key: "alice/x", ContentLength: 7}
	f := func(body string, want policy.Decision) {
		t.Helper()
		e := mustNew(t, &config.OPA{Policy: "package mizuchi\n\n" + body})
		if d := decide(t, e, in); d != want {
			t.Fatalf("unexpected decision for\n%s\ngot %+v; want %+v", body, d, want)
		}
	}
	f("allow := true", policy.Decision{Allow: true})
	f("allow := false", policy.Decision{})
	f("allow if input.content_length == 7", policy.Decision{Allow: true})
	f("default allow := false\nallow if input.content_length > 7", policy.Decision{})
	f("allow if input.content_length > 7", policy.Decision{Reason: ReasonUndefined})
	f("", policy.Decision{Reason: ReasonUndefined})
	f(`allow := {"allow": true}`, policy.Decision{Allow: true})
	f(`allow := {"allow": true, "reason": "ok", "ttl": 5}`, policy.Decision{Allow: true, Reason: "ok"})
	f(`allow := {"allow": false, "reason": sprintf("%s may not", [input.subject])}`, policy.Decision{Reason: "alice may not"})
	f(`allow := {"allow": input.key == "alice/x", "reason": ""}`, policy.Decision{Allow: true})

	// A custom query.
	e := mustNew(t, &config.OPA{Policy: "package uploads.authz\n\ndecision := {\"allow\": false, \"reason\": \"closed\"}", Query: "data.uploads.authz.decision"})
	if d := decide(t, e, in); d != (policy.Decision{Reason: "closed"}) {
		t.Fatalf("unexpected decision: %+v", d)
	}
}

func TestDecide_Failure(t *testing.T) {
	in := &policy.Input{Subject: "alice", Auth: policy.AuthNone, Key: "alice/x"}
	f := func(body, want string) {
		t.Helper()
		e := mustNew(t, &config.OPA{Policy: "package mizuchi\n\n" + body})
		d, err := e.Decide(context.Background(), in, nil)
		if err == nil {
			t.Fatalf("expecting an error for\n%s\ngot %+v", body, d)
		}
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("unexpected error; got %q; want substring %q", err, want)
		}
		if d != (policy.Decision{}) {
			t.Fatalf("unexpected decision with an error: %+v", d)
		}
	}
	f(`allow := 1`, "got a number")
	f(`allow := "yes"`, "got a string")
	f(`allow := ["yes"]`, "got an array")
	f(`allow := null`, "got null")
	f(`allow := {"reason": "x"}`, `"allow" is null or missing`)
	f(`allow := {"allow": "true"}`, `"allow" is a string`)
	f(`allow := {"allow": true, "reason": 3}`, `"reason" is a number`)
	f(`allow contains "x"`, "got an array") // a set
	// Conflicting complete rules: an evaluation error.
	f("allow := true if input.subject == \"alice\"\nallow := false if input.key == \"alice/x\"", "eval_conflict_error")
}

func TestDecide_Deadline(t *testing.T) {
	// An evaluation far longer than the deadline stops with an error.
	e := mustNew(t, &config.OPA{Policy: "package mizuchi\n\nallow if count([x | some x in numbers.range(1, 100000000); x % 7 == 0]) > 0"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := e.Decide(ctx, &policy.Input{}, nil)
	if err == nil {
		t.Fatalf("expecting an error")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Decide returned %s after the deadline", d)
	}
}

func TestNew_Failure(t *testing.T) {
	dir := t.TempDir()
	f := func(cfg *config.OPA, want string) {
		t.Helper()
		e, err := New(cfg)
		if err == nil {
			t.Fatalf("expecting an error for %+v", cfg)
		}
		if e != nil {
			t.Fatalf("unexpected engine with an error")
		}
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("unexpected error; got %q; want substring %q", err, want)
		}
	}
	f(nil, ErrNoPolicy.Error())
	f(&config.OPA{}, ErrNoPolicy.Error())
	f(&config.OPA{Policy: "package x", PolicyFile: "/x"}, ErrPolicySources.Error())
	f(&config.OPA{Policy: "package x", Bundle: dir}, ErrPolicySources.Error())
	f(&config.OPA{PolicyFile: filepath.Join(dir, "missing.rego")}, "opa: cannot read policy")
	f(&config.OPA{Bundle: filepath.Join(dir, "missing")}, "opa: cannot load bundle")
	f(&config.OPA{Policy: "package mizuchi\n\nallow if {"}, "opa: cannot compile policy for data.mizuchi.allow")
	f(&config.OPA{Policy: "package mizuchi\n\nallow if undefined_function(input.key)"}, "undefined function undefined_function")
	f(&config.OPA{Policy: "package mizuchi\n\nallow if input.key == x"}, "var x is unsafe")
	// Rego v0 syntax is refused (v1 is the default).
	f(&config.OPA{Policy: "package mizuchi\n\nallow { true }"}, "rego_parse_error")
	// I/O builtins would make Decide wait for the network.
	f(&config.OPA{Policy: "package mizuchi\n\nallow if http.send({\"method\": \"GET\", \"url\": \"http://127.0.0.1:1\"}).status_code == 200"},
		"undefined function http.send")
	f(&config.OPA{Policy: "package mizuchi\n\nallow if count(net.lookup_ip_addr(\"example.com\")) > 0"}, "undefined function net.lookup_ip_addr")
	f(&config.OPA{Policy: "package mizuchi\n\nallow := true", Query: "data.mizuchi.allow ==="}, "opa: cannot compile policy")
	if err := os.WriteFile(filepath.Join(dir, "bad.rego"), []byte("package mizuchi\n\nallow if {"), 0o600); err != nil {
		t.Fatal(err)
	}
	f(&config.OPA{Bundle: dir}, "opa: cannot compile policy")
}

// bundlePolicy reads its data from the bundle: data.json at the root and
// limits/data.yaml under data.limits.
const bundlePolicy = `package mizuchi

default allow := false

allow if {
	input.subject in data.subjects
	input.content_length <= data.limits.max_size
}
`

func TestNew_Bundle(t *testing.T) {
	check := func(e *Engine) {
		t.Helper()
		f := func(subject string, n int64, allow bool) {
			t.Helper()
			in := &policy.Input{Subject: subject, Auth: policy.AuthNone, ContentLength: n}
			if d := decide(t, e, in); d.Allow != allow {
				t.Fatalf("unexpected decision for %s %d; got %+v; want allow=%v", subject, n, d, allow)
			}
		}
		f("alice", 100, true)
		f("alice", 101, false)
		f("bob", 1, true)
		f("mallory", 1, false)
	}

	// A directory.
	dir := t.TempDir()
	for name, data := range map[string]string{
		"policy.rego":       bundlePolicy,
		"data.json":         `{"subjects": ["alice", "bob"]}`,
		"limits/data.yaml":  "max_size: 100\n",
		"README.md":         "not loaded\n",
		"other/unused.rego": "package other\n\nx := 1\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	check(mustNew(t, &config.OPA{Bundle: dir}))

	// A .tar.gz bundle, written by OPA's bundle writer.
	tgz := filepath.Join(t.TempDir(), "bundle.tar.gz")
	out, err := os.Create(tgz)
	if err != nil {
		t.Fatal(err)
	}
	b := bundle.Bundle{
		Data:    map[string]any{"subjects": []any{"alice", "bob"}, "limits": map[string]any{"max_size": 100}},
		Modules: []bundle.ModuleFile{{Path: "/policy.rego", URL: "/policy.rego", Raw: []byte(bundlePolicy)}},
	}
	if err := bundle.NewWriter(out).DisableFormat(true).Write(b); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	check(mustNew(t, &config.OPA{Bundle: tgz}))
}
