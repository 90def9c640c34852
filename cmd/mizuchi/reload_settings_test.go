package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/mizuchi-gw/mizuchi/config"
)

// TestReloadKeysClassified: every configuration key is either applied by
// a reload, named as needing a restart, or inert; a new key must be put
// in one of the lists (reload_settings.go).
func TestReloadKeysClassified(t *testing.T) {
	restart := make([]string, 0, len(restartKeys))
	for _, k := range restartKeys {
		restart = append(restart, k.key, k.key+".")
	}
	var missing []string
	for _, k := range config.Keys() {
		if !keyIn(k, reloadedKeys) && !keyIn(k, restart) && !keyIn(k, inertKeys) {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("configuration keys neither reloaded, restart-only nor inert (add them to reload_settings.go): %q", missing)
	}
}

// TestRestartNeeded: each row of restartKeys is noticed alone, in table
// order; reloadable settings are not named.
func TestRestartNeeded(t *testing.T) {
	base := func() *config.Config {
		c := config.Dev(t.TempDir(), "http://127.0.0.1:1", "ak", "secretsecret")
		return c
	}
	f := func(change func(c *config.Config), want ...string) {
		t.Helper()
		next := base()
		change(next)
		got := restartNeeded(base(), next)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("unexpected restart keys; got %q; want %q", got, want)
		}
	}
	f(func(c *config.Config) {})
	f(func(c *config.Config) { c.Server.Address = "127.0.0.1:1" }, "server.address")
	f(func(c *config.Config) { c.Server.AdminAddress = "127.0.0.1:2" }, "server.admin_address")
	f(func(c *config.Config) { c.Server.Loops = 7; c.Server.PipePool = 3 }, "server.loops", "server.pipe_pool")
	f(func(c *config.Config) { c.Server.ZeroCopy.Enabled = !c.Server.ZeroCopy.Enabled }, "server.zero_copy.enabled")
	f(func(c *config.Config) { c.Server.ZeroCopy.PipeBufferSize *= 2 }, "server.zero_copy.pipe_buffer_size")
	f(func(c *config.Config) { c.Server.TLS.CertFile, c.Server.TLS.KeyFile = "c", "k" }, "server.tls")
	f(func(c *config.Config) { c.Metrics.Enabled = !c.Metrics.Enabled; c.Metrics.Port++ }, "metrics.enabled", "metrics.port")
	f(func(c *config.Config) { c.Tracing.OTLP.Headers = map[string]string{"k": "v"} }, "tracing")
	f(func(c *config.Config) { c.Server.ProxyProtocol.Trusted = []string{"10.0.0.0/8"} }, "server.proxy_protocol.trusted")
	f(func(c *config.Config) { c.Server.TrustedProxies = []string{"10.0.0.1"} }, "server.trusted_proxies")
	f(func(c *config.Config) {
		c.Server.MaxHeaderBytes, c.Server.MaxConnections, c.Server.IdleTimeout = 1024, 5, time.Second
		c.Server.HeaderTimeout, c.Server.BodyTimeout, c.Server.SpliceThreshold = time.Second, time.Second, 1
	})
}

// rsCfgWith inserts lines under server: in a gatewayConfigTLS file.
func rsCfgWith(cfg, serverLines string) string {
	return strings.Replace(cfg, "server:\n", "server:\n"+serverLines, 1)
}

// postReload sends POST /-/reload and returns the status and body.
func postReload(t *testing.T, admin string) (int, string) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: time.Minute}
	resp, err := c.Post("http://"+admin+"/-/reload", "", nil)
	if err != nil {
		t.Fatalf("POST /-/reload: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestE2EReloadMaxHeaderBytes: a reload that lowers max_header_bytes
// refuses a head it accepted before with 431, without a restart.
func TestE2EReloadMaxHeaderBytes(t *testing.T) {
	b := startBackend(t, mainBucket)
	rt := route{name: "rs", pathPrefix: "/rs", bucket: mainBucket, keyPrefix: "rs/"}
	g := startGateway(t, b, rt)
	pad := http.Header{"X-Pad": {strings.Repeat("p", 12<<10)}}
	if r := g.do(t, http.MethodPut, "/rs/before", []byte("x"), pad); r.status != http.StatusOK {
		t.Fatalf("a 12KiB head before the reload: %s", r)
	}
	cfg := rsCfgWith(gatewayConfigTLS(b, g.addr, g.admin, nil, nil, rt), "  max_header_bytes: 8KiB\n")
	if err := os.WriteFile(g.cfg, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, body := postReload(t, g.admin); code != http.StatusOK || body != "configuration reloaded: 1 routes\n" {
		t.Fatalf("unexpected reload answer; got %d %q; want 200 and no restart needed", code, body)
	}
	r := g.do(t, http.MethodPut, "/rs/after", []byte("x"), pad)
	if r.status != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("a 12KiB head after lowering max_header_bytes to 8KiB: unexpected status; got %s; want 431", r)
	}
	b.checkAbsent(t, mainBucket, "rs/after")
	if r := g.do(t, http.MethodPut, "/rs/small", []byte("x"), nil); r.status != http.StatusOK {
		t.Fatalf("a small head after the reload: %s", r)
	}
}

// TestE2EReloadRestartNeeded: a reload that changes server.address
// succeeds, names the key in the reply and the log (again on the next
// reload, since the process still listens on the old address), and the old
// address keeps serving.
func TestE2EReloadRestartNeeded(t *testing.T) {
	b := startBackend(t, mainBucket)
	rt := route{name: "rs", pathPrefix: "/rs", bucket: mainBucket, keyPrefix: "rs/"}
	bin := mizuchiBinary(t)
	dir := t.TempDir()
	g := &gateway{scheme: "http", cfg: filepath.Join(dir, "mizuchi.yaml")}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		// No -listen and -admin-listen: the file decides (flags would
		// override it on reload too).
		g.addr, g.admin = freeAddr(t), freeAddr(t)
		if err := os.WriteFile(g.cfg, []byte(gatewayConfigTLS(b, g.addr, g.admin, nil, nil, rt)), 0o600); err != nil {
			t.Fatal(err)
		}
		g.proc = startProc(t, "mizuchi", bin, "-config", g.cfg)
		if err = g.waitReady(t); err == nil || !strings.Contains(g.proc.stderr.String(), "address already in use") {
			break
		}
		g.proc.stop()
	}
	if err != nil {
		t.Fatalf("mizuchi did not become ready: %v\n%s", err, g.proc.stderr.String())
	}
	g.client = newHTTPClient()
	moved := freeAddr(t)
	if err := os.WriteFile(g.cfg, []byte(gatewayConfigTLS(b, moved, g.admin, nil, nil, rt)), 0o600); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		code, body := postReload(t, g.admin)
		if code != http.StatusOK || body != "configuration reloaded: 1 routes; restart needed: server.address\n" {
			t.Fatalf("reload %d: unexpected answer; got %d %q; want 200 naming server.address", i, code, body)
		}
	}
	// The log reaches the test through a pipe: wait for it.
	for deadline := time.Now().Add(10 * time.Second); strings.Count(g.proc.stderr.String(), "restart_needed=server.address") < 2; {
		if time.Now().After(deadline) {
			t.Fatalf("the log does not name server.address twice:\n%s", g.proc.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	key := fmt.Sprintf("moved-%d", time.Now().UnixNano())
	if r := g.do(t, http.MethodPut, "/rs/"+key, []byte("still here"), nil); r.status != http.StatusOK {
		t.Fatalf("the old address after the reload: %s", r)
	}
	if !b.exists(t, mainBucket, "rs/"+key) {
		t.Fatal("the upload to the old address is not in the backend")
	}
	if c, err := net.DialTimeout("tcp", moved, time.Second); err == nil {
		c.Close()
		t.Fatalf("something listens on the new address %s before a restart", moved)
	}
}

// loadCred is the SigV4 credential the load goroutines sign with.
type loadCred struct{ ak, sk string }

// loadResult is one upload of the load loop.
type loadResult struct {
	cred       *loadCred
	status     int
	code       string // S3 error code; "" on success
	err        error
	start, end time.Time
}

// TestE2EReloadUnderLoad: POST /-/reload while 4 goroutines upload small
// objects. A good reload swaps the SigV4 credentials: afterwards the new
// ones are accepted and the old refused; a broken file is refused with 400
// and the reason and changes nothing. No request with valid credentials
// fails: the only failures allowed are InvalidAccessKeyId for the old
// credentials on requests that ended after the good reload began.
func TestE2EReloadUnderLoad(t *testing.T) {
	b := startBackend(t, mainBucket)
	g := startGateway(t, b, rlRoute(rlOldAK, rlOldSK))
	oldCred, newCred := &loadCred{rlOldAK, rlOldSK}, &loadCred{rlNewAK, rlNewSK}
	var cur atomic.Pointer[loadCred]
	cur.Store(oldCred)

	client := newHTTPClient()
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	put := func(c *loadCred, key string) loadResult {
		body := []byte("reload under load " + key)
		r := loadResult{cred: c, start: time.Now()}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, "http://"+g.addr+"/rl/"+key, bytes.NewReader(body))
		if err != nil {
			r.err = err
			return r
		}
		sum := sha256Hex(body)
		req.Header.Set("X-Amz-Content-Sha256", sum)
		if r.err = signer.SignHTTP(ctx, aws.Credentials{AccessKeyID: c.ak, SecretAccessKey: c.sk}, req, sum, "s3", backendRegion, time.Now()); r.err != nil {
			return r
		}
		resp, err := client.Do(req)
		if err != nil {
			r.err = err
			r.end = time.Now()
			return r
		}
		rb, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		r.status, r.end = resp.StatusCode, time.Now()
		if r.status != http.StatusOK {
			r.code = "?"
			if i := bytes.Index(rb, []byte("<Code>")); i >= 0 {
				if j := bytes.Index(rb[i:], []byte("</Code>")); j > 0 {
					r.code = string(rb[i+6 : i+j])
				}
			}
		}
		return r
	}

	var (
		mu      sync.Mutex
		results []loadResult
		ok      atomic.Int64 // successes so far
		stop    = make(chan struct{})
		wg      sync.WaitGroup
	)
	loadEnd := time.Now().Add(2 * time.Minute) // the loop is bounded even if the test stalls
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if time.Now().After(loadEnd) {
					return
				}
				r := put(cur.Load(), fmt.Sprintf("load/w%d-%d", w, i))
				if r.status == http.StatusOK {
					ok.Add(1)
				}
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
			}
		}()
	}
	stopLoad := func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		wg.Wait()
	}
	defer stopLoad()
	// waitOK waits until n more uploads succeed.
	waitOK := func(what string, n int64) {
		t.Helper()
		want := ok.Load() + n
		deadline := time.Now().Add(time.Minute)
		for ok.Load() < want {
			if time.Now().After(deadline) {
				t.Fatalf("%s: fewer than %d uploads succeeded within a minute", what, n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitOK("before the reloads", 20)

	// A good reload that swaps the credentials.
	good := gatewayConfigTLS(b, g.addr, g.admin, nil, nil, rlRoute(rlNewAK, rlNewSK))
	if err := os.WriteFile(g.cfg, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	swapStart := time.Now()
	if code, body := postReload(t, g.admin); code != http.StatusOK || body != "configuration reloaded: 1 routes\n" {
		t.Fatalf("good reload: unexpected answer; got %d %q", code, body)
	}
	cur.Store(newCred)
	waitOK("after the good reload", 20)

	// A broken file: 400 with the reason; the new credentials keep working.
	broken := strings.Replace(good, "secret_key: "+rlNewSK, "secret_kye: "+rlLeakSK, 1)
	if err := os.WriteFile(g.cfg, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	code, body := postReload(t, g.admin)
	if code != http.StatusBadRequest || !strings.Contains(body, "reload refused") || !strings.Contains(body, "buckets[0].auth.sigv4.credentials[0]") {
		t.Fatalf("broken file: unexpected answer; got %d %q; want 400 with the reason", code, body)
	}
	if strings.Contains(body, rlLeakSK) {
		t.Fatalf("the 400 echoes a secret: %q", body)
	}
	waitOK("after the broken file", 20)
	stopLoad()

	var newOK, oldOK, oldRefused int
	var bad []string
	for _, r := range results {
		switch {
		case r.status == http.StatusOK && r.cred == newCred:
			newOK++
		case r.status == http.StatusOK:
			oldOK++
		case r.cred == oldCred && r.code == "InvalidAccessKeyId" && r.end.After(swapStart):
			oldRefused++ // in flight during the swap, or sent just after it
		default:
			bad = append(bad, fmt.Sprintf("%s: status %d code %q err %v (started %v after the swap began)",
				r.cred.ak, r.status, r.code, r.err, r.start.Sub(swapStart).Round(time.Millisecond)))
		}
	}
	t.Logf("uploads: %d with the old credentials, %d with the new, %d old refused during the swap", oldOK, newOK, oldRefused)
	if len(bad) > 0 {
		t.Fatalf("%d of %d uploads failed other than by InvalidAccessKeyId for the old credentials during the swap; the first:\n%s",
			len(bad), len(results), strings.Join(bad[:min(len(bad), 20)], "\n"))
	}
	// Afterwards: new accepted, old refused, and what succeeded is stored.
	if r := put(oldCred, "after/old"); r.status != http.StatusForbidden || r.code != "InvalidAccessKeyId" {
		t.Fatalf("old credentials after the reloads: got %d %q; want 403 InvalidAccessKeyId", r.status, r.code)
	}
	if r := put(newCred, "after/new"); r.status != http.StatusOK {
		t.Fatalf("new credentials after the reloads: got %d %q err %v; want 200", r.status, r.code, r.err)
	}
	if !b.exists(t, mainBucket, "reload/after/new") || b.exists(t, mainBucket, "reload/after/old") {
		t.Fatal("the backend does not hold exactly the accepted upload")
	}
}
