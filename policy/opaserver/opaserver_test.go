package opaserver

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mizuchi-gw/mizuchi/config"
	"github.com/mizuchi-gw/mizuchi/internal/authztest"
	"github.com/mizuchi-gw/mizuchi/policy"
)

func mustNew(t *testing.T, cfg *config.OPA) *Engine {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatalf("unexpected error: %s", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func decideCtx(e *Engine, in *policy.Input, d time.Duration) (policy.Decision, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return e.Decide(ctx, in, in.AppendJSON(nil))
}

// The example policy in a real OPA server gives the same answers as
// embedded OPA (policy/opa runs the same cases).
func TestDecide_ExamplePolicy(t *testing.T) {
	url, _ := authztest.StartOPA(t, authztest.ExamplePolicy())
	e := mustNew(t, &config.OPA{URL: url + "/", PolicyPath: "/v1/data/mizuchi/allow"})
	if e.Type() != "opa_server" || e.Local() || e.URL() != url+"/v1/data/mizuchi/allow" {
		t.Fatalf("unexpected engine: %s %v %s", e.Type(), e.Local(), e.URL())
	}
	for _, c := range authztest.PolicyCases() {
		d, err := decideCtx(e, &c.In, 5*time.Second)
		if err != nil {
			t.Fatalf("%s: unexpected error: %s", c.Name, err)
		}
		if d.Allow != c.Allow || d.Reason != c.Reason {
			t.Fatalf("%s: unexpected decision; got %+v; want allow=%v reason=%q", c.Name, d, c.Allow, c.Reason)
		}
	}
}

// shapes are results of every kind, one rule each.
const shapes = `package shapes

yes := true

no := false

obj := {"allow": true, "reason": "fine", "extra": [1]}

deny := {"allow": false, "reason": "no way"}

bare := {"allow": false}

num := 1

str := "true"

arr := [true]

noallow := {"reason": "x"}

strallow := {"allow": "true"}

numreason := {"allow": true, "reason": 7}
`

// broken fails to evaluate: its complete rule has two values.
const broken = `package broken

conflict := true if input.subject != ""

conflict := false if input.key != ""
`

func TestDecide_Results(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for name, src := range map[string]string{"shapes.rego": shapes, "broken.rego": broken} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	url, _ := authztest.StartOPA(t, files...)
	in := &policy.Input{Subject: "alice", Auth: policy.AuthNone, Key: "alice/x"}
	f := func(path string, want policy.Decision) {
		t.Helper()
		d, err := decideCtx(mustNew(t, &config.OPA{URL: url, PolicyPath: path}), in, 5*time.Second)
		if err != nil {
			t.Fatalf("%s: unexpected error: %s", path, err)
		}
		if d != want {
			t.Fatalf("%s: unexpected decision; got %+v; want %+v", path, d, want)
		}
	}
	f("shapes/yes", policy.Decision{Allow: true})
	f("shapes/no", policy.Decision{})
	f("shapes/obj", policy.Decision{Allow: true, Reason: "fine"})
	f("shapes/deny", policy.Decision{Reason: "no way"})
	f("shapes/bare", policy.Decision{})
	f("shapes/missing", policy.Decision{Reason: ReasonUndefined})
	f("nothing/here", policy.Decision{Reason: ReasonUndefined})

	fail := func(path string, want error, msg string) {
		t.Helper()
		d, err := decideCtx(mustNew(t, &config.OPA{URL: url, PolicyPath: path}), in, 5*time.Second)
		if err == nil {
			t.Fatalf("%s: expecting an error; got %+v", path, d)
		}
		if !errors.Is(err, want) || !strings.Contains(err.Error(), msg) {
			t.Fatalf("%s: unexpected error; got %q; want %v containing %q", path, err, want, msg)
		}
	}
	fail("shapes/num", ErrResult, "got 1")
	fail("shapes/str", ErrResult, `got "true"`)
	fail("shapes/arr", ErrResult, "got [true]")
	fail("shapes", ErrResult, `"allow" is null or missing`) // the whole package
	fail("shapes/noallow", ErrResult, `"allow" is null or missing`)
	fail("shapes/strallow", ErrResult, "cannot unmarshal string")
	fail("shapes/numreason", ErrResult, "cannot unmarshal number")
	fail("broken/conflict", ErrStatus, "500: internal_error: ")
}

func TestDecide_BearerToken(t *testing.T) {
	url, _ := authztest.StartOPAToken(t, "s3cret-token", authztest.ExamplePolicy())
	in := &authztest.PolicyCases()[0].In
	d, err := decideCtx(mustNew(t, &config.OPA{URL: url, BearerToken: "s3cret-token"}), in, 5*time.Second)
	if err != nil || !d.Allow {
		t.Fatalf("unexpected decision %+v, error %v", d, err)
	}
	for _, token := range []string{"", "wrong"} {
		_, err := decideCtx(mustNew(t, &config.OPA{URL: url, BearerToken: token}), in, 5*time.Second)
		if !errors.Is(err, ErrStatus) || !strings.Contains(err.Error(), "401") {
			t.Fatalf("unexpected error with token %q: %v", token, err)
		}
		if strings.Contains(err.Error(), "s3cret") || (token != "" && strings.Contains(err.Error(), token)) {
			t.Fatalf("the error shows a token: %s", err)
		}
	}
}

func TestDecide_ServerDown(t *testing.T) {
	url, stop := authztest.StartOPA(t, authztest.ExamplePolicy())
	e := mustNew(t, &config.OPA{URL: url})
	in := &authztest.PolicyCases()[0].In
	if d, err := decideCtx(e, in, 5*time.Second); err != nil || !d.Allow {
		t.Fatalf("unexpected decision %+v, error %v", d, err)
	}
	stop()
	start := time.Now()
	d, err := decideCtx(e, in, 5*time.Second)
	if err == nil {
		t.Fatalf("expecting an error with the server down; got %+v", d)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatalf("a refused connection took %s", time.Since(start))
	}
}

func TestDecide_Stalled(t *testing.T) {
	url := authztest.Stall(t)
	in := &authztest.PolicyCases()[0].In

	// By ctx's deadline.
	e := mustNew(t, &config.OPA{URL: url, Timeout: time.Hour})
	start := time.Now()
	_, err := decideCtx(e, in, 100*time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("unexpected error: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Decide returned after %s; want about 100ms", d)
	}

	// No deadline: by the configured timeout.
	e = mustNew(t, &config.OPA{URL: url, Timeout: 100 * time.Millisecond})
	start = time.Now()
	if _, err := e.Decide(context.Background(), in, in.AppendJSON(nil)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("unexpected error: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Decide returned after %s; want about 100ms", d)
	}
}

// The request on the wire, and the faults OPA itself does not produce
// (redirects, huge bodies), against a local HTTP server.
func TestDecide_Wire(t *testing.T) {
	var gotBody, gotAuth, gotType, gotPath string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotBody, gotAuth, gotType, gotPath = string(b), r.Header.Get("Authorization"), r.Header.Get("Content-Type"), r.URL.Path
		switch r.URL.Path {
		case "/v1/data/redirect":
			http.Redirect(w, r, "/v1/data/ok", http.StatusTemporaryRedirect)
		case "/v1/data/huge":
			w.Write([]byte(`{"result": true, "pad": "`))
			w.Write([]byte(strings.Repeat("x", maxResponse)))
			w.Write([]byte(`"}`))
		case "/v1/data/html":
			w.Write([]byte(`<html>`))
		default:
			w.Write([]byte(`{"result": true}`))
		}
	}))
	defer srv.Close()
	in := &authztest.PolicyCases()[0].In
	inJSON := in.AppendJSON(nil)
	e := mustNew(t, &config.OPA{URL: srv.URL, PolicyPath: "a/b", BearerToken: "tok"})
	if d, err := e.Decide(context.Background(), in, inJSON); err != nil || !d.Allow {
		t.Fatalf("unexpected decision %+v, error %v", d, err)
	}
	if gotBody != `{"input":`+string(inJSON)+`}` || gotAuth != "Bearer tok" || gotType != "application/json" || gotPath != "/v1/data/a/b" {
		t.Fatalf("unexpected request: %s %q %q %q", gotPath, gotAuth, gotType, gotBody)
	}
	e = mustNew(t, &config.OPA{URL: srv.URL})
	if _, err := e.Decide(context.Background(), in, inJSON); err != nil || gotAuth != "" {
		t.Fatalf("unexpected Authorization %q without a token (error %v)", gotAuth, err)
	}
	f := func(path string, want error, msg string) {
		t.Helper()
		e := mustNew(t, &config.OPA{URL: srv.URL, PolicyPath: path})
		d, err := e.Decide(context.Background(), in, inJSON)
		if !errors.Is(err, want) || !strings.Contains(err.Error(), msg) {
			t.Fatalf("%s: unexpected result %+v, error %v; want %v containing %q", path, d, err, want, msg)
		}
	}
	f("redirect", ErrStatus, "307")
	f("huge", ErrResult, "response over")
	f("html", ErrResult, "invalid character")
}

func TestDecision(t *testing.T) {
	f := func(body string, want policy.Decision) {
		t.Helper()
		d, err := decision([]byte(body))
		if err != nil || d != want {
			t.Fatalf("%s: unexpected decision %+v, error %v; want %+v", body, d, err, want)
		}
	}
	f(`{"result": true}`, policy.Decision{Allow: true})
	f(`{"result":false}`, policy.Decision{})
	f(`{}`, policy.Decision{Reason: ReasonUndefined})
	f(`{"decision_id": "x"}`, policy.Decision{Reason: ReasonUndefined})
	f(`{"result": {"allow": true, "reason": null}}`, policy.Decision{Allow: true})
	f(`{"result": {"allow": false, "reason": "r\u00e9"}}`, policy.Decision{Reason: "ré"})

	fail := func(body string) {
		t.Helper()
		if d, err := decision([]byte(body)); !errors.Is(err, ErrResult) {
			t.Fatalf("%s: expecting ErrResult; got %+v, %v", body, d, err)
		}
	}
	fail(``)
	fail(`[]`)
	fail(`{"result": null}`)
	fail(`{"result": "true"}`)
	fail(`{"result": 1}`)
	fail(`{"result": {}}`)
	fail(`{"result": {"allow": null}}`)
	fail(`{"result": {"allow": 1}}`)
	fail(`{"result": {"allow": true, "reason": ["x"]}}`)
}

func TestNew_Failure(t *testing.T) {
	f := func(cfg *config.OPA) {
		t.Helper()
		if e, err := New(cfg); !errors.Is(err, ErrConfig) || e != nil {
			t.Fatalf("expecting ErrConfig for %+v; got %v", cfg, err)
		}
	}
	f(nil)
	f(&config.OPA{})
	f(&config.OPA{URL: "opa:8181"})
	f(&config.OPA{URL: "ftp://opa"})
	f(&config.OPA{URL: "http://opa", PolicyPath: "a?b"})
	f(&config.OPA{URL: "http://opa", BearerToken: "a\nb"})
}
