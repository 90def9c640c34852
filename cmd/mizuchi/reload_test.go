package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	rlOldAK = "AKRELOADOLD00000001"
	rlOldSK = "reload-old-secret-0123456789"
	rlNewAK = "AKRELOADNEW00000001"
	rlNewSK = "reload-new-secret-0123456789"
	// rlLeakSK is a secret in the broken file: the 400 must not echo it.
	rlLeakSK = "reload-broken-secret-must-not-leak"
)

// rlRoute is the reload tests' route, accepting one SigV4 credential.
func rlRoute(ak, sk string) route {
	return route{name: "rl", pathPrefix: "/rl", bucket: mainBucket, keyPrefix: "reload/", extra: "    auth:\n      enabled: true\n      sigv4:\n" +
		"        credentials:\n          - {access_key: " + ak + ", secret_key: " + sk + "}\n"}
}

// TestE2EReloadHTTP: POST /-/reload does what SIGHUP does and answers with
// the outcome; the reload metrics move by exactly one per reload, the
// config_info series follows the file's hash and build_info is present.
func TestE2EReloadHTTP(t *testing.T) {
	b := startBackend(t, mainBucket)
	g := startGateway(t, b, rlRoute(rlOldAK, rlOldSK))
	writeCfg := func(cfg string) string {
		t.Helper()
		if err := os.WriteFile(g.cfg, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(cfg))
		return hex.EncodeToString(sum[:6])
	}
	status := func(ak, sk, key string) int {
		t.Helper()
		return g.signedPut(t, "/rl/"+key, []byte("x"), ak, sk, nil).status
	}
	checkCreds := func(what string, wantOld, wantNew int) {
		t.Helper()
		if s1, s2 := status(rlOldAK, rlOldSK, "old"), status(rlNewAK, rlNewSK, "new"); s1 != wantOld || s2 != wantNew {
			t.Fatalf("%s: old and new credential got %d and %d; want %d and %d", what, s1, s2, wantOld, wantNew)
		}
	}
	good := func(ak, sk string) string {
		return gatewayConfigTLS(b, g.addr, g.admin, nil, nil, rlRoute(ak, sk))
	}
	// state is what the reload metrics say.
	type state struct {
		success, failure, ts float64
		hashes               []string // hash labels of mizuchi_config_info series at 1
	}
	read := func() state {
		t.Helper()
		var s state
		for _, l := range metricLines(t, g, "mizuchi_config_") {
			name, v := splitMetricLine(t, l)
			switch {
			case name == `mizuchi_config_reloads_total{result="success"}`:
				s.success = v
			case name == `mizuchi_config_reloads_total{result="failure"}`:
				s.failure = v
			case name == `mizuchi_config_last_reload_success_timestamp_seconds`:
				s.ts = v
			case strings.HasPrefix(name, `mizuchi_config_info{hash="`) && v == 1:
				s.hashes = append(s.hashes, strings.TrimSuffix(strings.TrimPrefix(name, `mizuchi_config_info{hash="`), `"}`))
			}
		}
		return s
	}
	check := func(what string, got state, success, failure float64, hash string) {
		t.Helper()
		if got.success != success || got.failure != failure {
			t.Fatalf("%s: unexpected reload counters; got success=%v failure=%v; want %v and %v", what, got.success, got.failure, success, failure)
		}
		if len(got.hashes) != 1 || got.hashes[0] != hash {
			t.Fatalf("%s: unexpected mizuchi_config_info hashes; got %q; want only %q", what, got.hashes, hash)
		}
	}
	post := func(method string, wantStatus int) string {
		t.Helper()
		req, err := http.NewRequest(method, "http://"+g.admin+"/-/reload", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := g.client.Do(req)
		if err != nil {
			t.Fatalf("%s /-/reload: %v", method, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != wantStatus {
			t.Fatalf("%s /-/reload: unexpected status; got %d; want %d; body %q", method, resp.StatusCode, wantStatus, body)
		}
		return string(body)
	}

	started, err := os.ReadFile(g.cfg)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(started)
	hash0 := hex.EncodeToString(sum[:6])
	s0 := read()
	check("at start", s0, 0, 0, hash0)
	if s0.ts <= 0 {
		t.Fatalf("mizuchi_config_last_reload_success_timestamp_seconds is not set at start; got %v", s0.ts)
	}
	checkCreds("at start", 200, 403)

	// Other methods do nothing.
	post(http.MethodGet, http.StatusMethodNotAllowed)
	post(http.MethodPut, http.StatusMethodNotAllowed)
	check("after GET and PUT", read(), 0, 0, hash0)

	// A broken file: 400 with the reason, the old configuration keeps
	// serving and only the failure counter moves.
	broken := strings.Replace(good(rlOldAK, rlOldSK), "secret_key: "+rlOldSK, "secret_kye: "+rlLeakSK, 1)
	writeCfg(broken)
	body := post(http.MethodPost, http.StatusBadRequest)
	if !strings.Contains(body, "buckets[0].auth.sigv4.credentials[0]") || !strings.Contains(body, "reload refused") {
		t.Fatalf("400 does not give the reason; got %q", body)
	}
	if strings.Contains(body, rlLeakSK) {
		t.Fatalf("400 echoes a secret: %q", body)
	}
	t.Logf("400 body: %s", body)
	s1 := read()
	check("after a broken file", s1, 0, 1, hash0)
	if s1.ts != s0.ts {
		t.Fatalf("a failed reload moved the success timestamp; got %v; want %v", s1.ts, s0.ts)
	}
	checkCreds("after a broken file", 200, 403)

	// A good file: 200, the new credential works and the old one is refused.
	hash1 := writeCfg(good(rlNewAK, rlNewSK))
	if hash1 == hash0 {
		t.Fatal("test bug: the two configurations hash alike")
	}
	if body := post(http.MethodPost, http.StatusOK); body != "configuration reloaded: 1 routes\n" {
		t.Fatalf("unexpected 200 body; got %q", body)
	}
	s2 := read()
	check("after a good reload", s2, 1, 1, hash1)
	if s2.ts <= s1.ts {
		t.Fatalf("the success timestamp did not move; got %v; was %v", s2.ts, s1.ts)
	}
	checkCreds("after a good reload", 403, 200)

	// SIGHUP shares the path and the counters.
	hup := func(logLine string) { t.Helper(); g.sighup(t, logLine) }
	writeCfg(broken)
	hup("reload refused")
	check("after a broken SIGHUP", read(), 1, 2, hash1)
	hash2 := writeCfg(good(rlOldAK, rlOldSK))
	hup("configuration reloaded")
	check("after a good SIGHUP", read(), 2, 2, hash2)
	checkCreds("after a good SIGHUP", 200, 403)
	// Concurrent reloads are serialized: each answers 200 and counts once.
	const n = 4
	codes := make(chan int, n)
	for range n {
		go func() {
			resp, err := http.Post("http://"+g.admin+"/-/reload", "", nil)
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	for range n {
		if c := <-codes; c != http.StatusOK {
			t.Fatalf("concurrent POST /-/reload: unexpected status; got %d; want 200", c)
		}
	}
	check("after concurrent reloads", read(), 2+n, 2, hash2)
	checkCreds("after concurrent reloads", 200, 403)

	if log := g.proc.stderr.String(); strings.Contains(log, rlLeakSK) {
		t.Fatalf("the log echoes a secret:\n%s", log)
	}

	// build_info carries the toolchain's version.
	var info []string
	for _, l := range metricLines(t, g, "mizuchi_build_info{") {
		if name, v := splitMetricLine(t, l); v == 1 && strings.Contains(name, `goversion="`+runtime.Version()+`"`) &&
			strings.Contains(name, `version="`) && strings.Contains(name, `revision="`) {
			info = append(info, name)
		}
	}
	t.Logf("build info: %q", info)
	if len(info) != 1 {
		t.Fatalf("unexpected mizuchi_build_info; got %q; want one series with goversion=%q", info, runtime.Version())
	}
}

// TestE2EReloadDevMode: without a configuration file, /-/reload answers 400
// and says there is nothing to reload.
func TestE2EReloadDevMode(t *testing.T) {
	vgw := versitygwPath(t)
	bin := mizuchiBinary(t)
	g := &gateway{addr: freeAddr(t), admin: freeAddr(t)}
	g.proc = startProc(t, "mizuchi-dev", bin, "-dev-versitygw", vgw, "-dev-dir", t.TempDir(),
		"-listen", g.addr, "-admin-listen", g.admin)
	if err := g.waitReady(t); err != nil {
		t.Fatalf("dev mode did not become ready: %v", err)
	}
	resp, err := newHTTPClient().Post("http://"+g.admin+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "nothing to reload") {
		t.Fatalf("unexpected answer; got %d %q; want 400 and \"nothing to reload\"", resp.StatusCode, body)
	}
}

// metricLines returns the /metrics lines that start with prefix.
func metricLines(t testing.TB, g *gateway, prefix string) []string {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + g.admin + "/metrics")
	if err != nil {
		t.Fatalf("cannot read /metrics: %v", err)
	}
	defer resp.Body.Close()
	var lines []string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), prefix) {
			lines = append(lines, sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("cannot read /metrics: %v", err)
	}
	return lines
}

// splitMetricLine splits `name{labels} value` at the last space.
func splitMetricLine(t testing.TB, line string) (string, float64) {
	t.Helper()
	i := strings.LastIndexByte(line, ' ')
	if i < 0 {
		t.Fatalf("cannot parse metric line %q", line)
	}
	v, err := strconv.ParseFloat(line[i+1:], 64)
	if err != nil {
		t.Fatalf("cannot parse metric line %q: %v", line, err)
	}
	return line[:i], v
}
