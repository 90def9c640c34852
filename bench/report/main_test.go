package main

import (
	"strings"
	"testing"
)

func TestNewStat(t *testing.T) {
	f := func(in []float64, want stat) {
		t.Helper()
		if got := newStat(in); got != want {
			t.Fatalf("unexpected stat of %v; got %+v; want %+v", in, got, want)
		}
	}
	f(nil, stat{})
	f([]float64{5}, stat{Median: 5, Min: 5, Max: 5, N: 1})
	f([]float64{3, 1, 2}, stat{Median: 2, Min: 1, Max: 3, N: 3})
	f([]float64{4, 1, 2, 3}, stat{Median: 2.5, Min: 1, Max: 4, N: 4})
}

func TestSummarizeRatio(t *testing.T) {
	mk := func(target, round string, rps float64) run {
		return run{Tags: map[string]string{"workload": "w", "target": target, "round": round}, ReqPerSec: rps, MBPerSec: rps}
	}
	rows := summarize([]run{
		mk("direct", "1", 100), mk("mizuchi", "1", 50),
		mk("direct", "2", 200), mk("mizuchi", "2", 180),
	}, "direct", "mizuchi", "mizuchi-sigv4", nil)
	if len(rows) != 2 {
		t.Fatalf("unexpected rows; got %d; want 2", len(rows))
	}
	if rows[0].RatioReqPerS != nil {
		t.Fatalf("baseline row must have no ratio")
	}
	r := rows[1].RatioReqPerS
	if r == nil || r.Min != 0.5 || r.Max != 0.9 || r.Median != 0.7 {
		t.Fatalf("unexpected ratio %+v; want median 0.7 min 0.5 max 0.9", r)
	}
}

func TestSummarizeAuthRatio(t *testing.T) {
	// rps, and the proxy's CPU: µs per request and s per GB.
	mk := func(workload string, size int64, target, auth, round string, rps, usPerReq float64) run {
		r := run{
			Tags:      map[string]string{"workload": workload, "target": target, "round": round},
			Size:      size,
			Auth:      auth,
			ReqPerSec: rps,
			MBPerSec:  rps * float64(size) / 1e6,
		}
		if target != "direct" {
			r.Procs = []proc{{Role: "proxy", USPerReq: usPerReq, CPUSecPerGB: usPerReq * 1e3 / float64(size)}, {Role: "sink"}}
		}
		return r
	}
	var runs []run
	for _, round := range []string{"1", "2", "3"} {
		k := float64(round[0] - '0') // drift the machine between rounds
		runs = append(runs,
			mk("small", 1<<10, "direct", "none", round, 1000*k, 0),
			mk("small", 1<<10, "mizuchi", "none", round, 400*k, 100),
			mk("small", 1<<10, "mizuchi-sigv4", "sigv4", round, 300*k, 100+10*k),
			mk("small", 1<<10, "mizuchi-jwt", "jwt", round, 360*k, 110),
			mk("large", 64<<20, "mizuchi", "none", round, 10, 1000),
			mk("large", 64<<20, "mizuchi-sigv4", "sigv4", round, 9, 1100),
		)
	}
	rows := summarize(runs, "direct", "mizuchi", "mizuchi-sigv4", nil)
	byTarget := map[string]*row{}
	for i := range rows {
		byTarget[rows[i].Workload+"/"+rows[i].Target] = &rows[i]
	}
	f := func(key string, rate, cpu stat) {
		t.Helper()
		r := byTarget[key]
		if r == nil {
			t.Fatalf("no row %s", key)
		}
		if r.authRate() == nil || r.authCPU() == nil {
			t.Fatalf("row %s has no auth ratios", key)
		}
		if got := *r.authRate(); !near(got, rate) {
			t.Fatalf("unexpected rate ratio of %s; got %+v; want %+v", key, got, rate)
		}
		if got := *r.authCPU(); !near(got, cpu) {
			t.Fatalf("unexpected cpu ratio of %s; got %+v; want %+v", key, got, cpu)
		}
	}
	f("small/mizuchi-sigv4", stat{Median: 0.75, Min: 0.75, Max: 0.75, N: 3}, stat{Median: 1.2, Min: 1.1, Max: 1.3, N: 3})
	f("small/mizuchi-jwt", stat{Median: 0.9, Min: 0.9, Max: 0.9, N: 3}, stat{Median: 1.1, Min: 1.1, Max: 1.1, N: 3})
	f("large/mizuchi-sigv4", stat{Median: 0.9, Min: 0.9, Max: 0.9, N: 3}, stat{Median: 1.1, Min: 1.1, Max: 1.1, N: 3})

	// The small workload gives req/s and CPU per request, the large one MB/s
	// and CPU per GB; the JSON has all four either way.
	if r := byTarget["large/mizuchi-sigv4"]; r.AuthRatioReqPerS == nil || r.AuthRatioCPUPerReq == nil || r.authRate() != r.AuthRatioMBPerS {
		t.Fatalf("unexpected large row %+v", r)
	}
	if r := byTarget["small/mizuchi-sigv4"]; r.authRate() != r.AuthRatioReqPerS || r.authCPU() != r.AuthRatioCPUPerReq {
		t.Fatalf("unexpected small row %+v", r)
	}
	for _, key := range []string{"small/direct", "small/mizuchi", "large/mizuchi"} {
		if r := byTarget[key]; r.AuthBaseline != "" || r.authRate() != nil || r.authCPU() != nil {
			t.Fatalf("unauthenticated row %s must have no auth ratio: %+v", key, r)
		}
	}
	// The direct ratio still applies to authenticated rows.
	if r := byTarget["small/mizuchi-sigv4"].RatioReqPerS; r == nil || !near(*r, stat{Median: 0.3, Min: 0.3, Max: 0.3, N: 3}) {
		t.Fatalf("unexpected direct ratio %+v", r)
	}

	cost := authCost(rows)
	if len(cost) != 3 {
		t.Fatalf("unexpected auth cost lines; got %q; want 3", cost)
	}
	if !strings.HasPrefix(cost[0], "small mizuchi-sigv4 (-auth sigv4): req/s ×0.75 (0.75–0.75), proxy CPU/req ×1.20 (1.10–1.30)") {
		t.Fatalf("unexpected auth cost line %q", cost[0])
	}
	if !strings.HasPrefix(cost[2], "large mizuchi-sigv4 (-auth sigv4): MB/s ×0.90") || !strings.Contains(cost[2], "proxy CPU/GB ×1.10") {
		t.Fatalf("unexpected auth cost line %q", cost[2])
	}

	var b strings.Builder
	writeTable(&b, rows)
	if !strings.Contains(b.String(), "auth x rate") || !strings.Contains(b.String(), "1.20 (1.10–1.30)") {
		t.Fatalf("table lacks the auth columns:\n%s", b.String())
	}
}

func TestSummarizeAuthRatio_NoBaseline(t *testing.T) {
	rows := summarize([]run{
		{Tags: map[string]string{"workload": "w", "target": "direct", "round": "1"}, ReqPerSec: 10},
		{Tags: map[string]string{"workload": "w", "target": "mizuchi-jwt", "round": "1"}, Auth: "jwt", ReqPerSec: 5},
	}, "direct", "mizuchi", "mizuchi-sigv4", nil)
	if r := rows[1]; r.Auth != "jwt" || r.AuthBaseline != "" || r.AuthRatioReqPerS != nil {
		t.Fatalf("unexpected row without an unauthenticated baseline: %+v", r)
	}
	if len(authCost(rows)) != 0 {
		t.Fatalf("unexpected auth cost without a baseline: %q", authCost(rows))
	}
}

func near(a, b stat) bool {
	eq := func(x, y float64) bool { return x-y < 1e-9 && y-x < 1e-9 }
	return a.N == b.N && eq(a.Median, b.Median) && eq(a.Min, b.Min) && eq(a.Max, b.Max)
}

func TestRunProcSumsRole(t *testing.T) {
	// nginx: the master and two workers are all "proxy".
	r := run{Procs: []proc{
		{Role: "proxy", CPUSec: 0.01, USPerReq: 1, CPUSecPerGB: 0.1, PeakRSSBytes: 10},
		{Role: "proxy", CPUSec: 1, USPerReq: 20, CPUSecPerGB: 2, PeakRSSBytes: 20},
		{Role: "sink", CPUSec: 5, USPerReq: 50},
		{Role: "proxy", CPUSec: 2, USPerReq: 30, CPUSecPerGB: 3, PeakRSSBytes: 30},
	}}
	p := r.proc("proxy")
	if p == nil || p.USPerReq != 51 || p.CPUSecPerGB != 5.1 || p.PeakRSSBytes != 60 {
		t.Fatalf("unexpected summed proxy %+v; want 51 µs/req, 5.1 s/GB, 60 bytes", p)
	}
	if p := r.proc("sink"); p == nil || p.USPerReq != 50 {
		t.Fatalf("unexpected sink %+v", p)
	}
	r.Procs[3].Error = "pid 3 ended during the run"
	if p := r.proc("proxy"); p != nil {
		t.Fatalf("a role with a failed process must have no figures; got %+v", p)
	}
}

func TestSummarizeBestProxy(t *testing.T) {
	// Per round: rate (req/s or MB/s by size) and the proxy's CPU per request.
	mk := func(workload string, size int64, target, round string, rate, usPerReq float64) run {
		r := run{
			Tags:      map[string]string{"workload": workload, "target": target, "round": round},
			Size:      size,
			ReqPerSec: rate,
			MBPerSec:  rate,
		}
		if target != "direct" {
			r.Procs = []proc{{Role: "proxy", USPerReq: usPerReq, CPUSecPerGB: usPerReq / 10}}
		}
		return r
	}
	var runs []run
	for _, round := range []string{"1", "2", "3"} {
		k := float64(round[0] - '0')
		runs = append(runs,
			mk("small", 1<<10, "direct", round, 2000*k, 0),
			mk("small", 1<<10, "mizuchi", round, 900*k, 30+k),
			mk("small", 1<<10, "nginx", round, 1000*k, 40),  // fastest proxy
			mk("small", 1<<10, "haproxy", round, 800*k, 20), // cheapest proxy
			mk("small", 1<<10, "relay", round, 5000*k, 5),   // not a candidate
			mk("large", 64<<20, "haproxy", round, 500, 30),
			mk("large", 64<<20, "mizuchi", round, 250*k, 15),
		)
	}
	rows := summarize(runs, "direct", "mizuchi", "mizuchi-sigv4", []string{"nginx", "nginx-buf1m", "haproxy"})
	byTarget := map[string]*row{}
	for i := range rows {
		byTarget[rows[i].Workload+"/"+rows[i].Target] = &rows[i]
	}
	f := func(key, rateTarget, cpuTarget string, rate, cpu *stat) {
		t.Helper()
		r := byTarget[key]
		if r == nil {
			t.Fatalf("no row %s", key)
		}
		if r.BestRateTarget != rateTarget || r.BestCPUTarget != cpuTarget {
			t.Fatalf("unexpected best proxies of %s; got rate %q cpu %q; want %q %q", key, r.BestRateTarget, r.BestCPUTarget, rateTarget, cpuTarget)
		}
		for _, c := range []struct {
			name      string
			got, want *stat
		}{{"rate", r.BestRatioRate, rate}, {"cpu", r.BestRatioCPU, cpu}} {
			if (c.got == nil) != (c.want == nil) || (c.got != nil && !near(*c.got, *c.want)) {
				t.Fatalf("unexpected best proxy %s ratio of %s; got %+v; want %+v", c.name, key, c.got, c.want)
			}
		}
	}
	f("small/mizuchi", "nginx", "haproxy", &stat{Median: 0.9, Min: 0.9, Max: 0.9, N: 3}, &stat{Median: 1.6, Min: 1.55, Max: 1.65, N: 3})
	f("small/nginx", "nginx", "haproxy", &stat{Median: 1, Min: 1, Max: 1, N: 3}, &stat{Median: 2, Min: 2, Max: 2, N: 3})
	f("small/relay", "nginx", "haproxy", &stat{Median: 5, Min: 5, Max: 5, N: 3}, &stat{Median: 0.25, Min: 0.25, Max: 0.25, N: 3})
	f("small/direct", "nginx", "haproxy", &stat{Median: 2, Min: 2, Max: 2, N: 3}, nil)
	f("large/mizuchi", "haproxy", "haproxy", &stat{Median: 1, Min: 0.5, Max: 1.5, N: 3}, &stat{Median: 0.5, Min: 0.5, Max: 0.5, N: 3})

	lines := bestProxyLines(rows)
	if len(lines) != 2 || lines[0] != "small: rate nginx 2000.0 req/s; cpu haproxy 20.0 µs/req" {
		t.Fatalf("unexpected best proxy lines %q", lines)
	}
	var b strings.Builder
	writeTable(&b, rows)
	if !strings.Contains(b.String(), "x best proxy rate") || !strings.Contains(b.String(), "1.60 (1.55–1.65)") {
		t.Fatalf("table lacks the best proxy columns:\n%s", b.String())
	}

	// Without candidates there are no best proxy figures.
	for _, r := range summarize(runs, "direct", "mizuchi", "mizuchi-sigv4", nil) {
		if r.BestRateTarget != "" || r.BestRatioRate != nil || r.BestRatioCPU != nil {
			t.Fatalf("unexpected best proxy figures without candidates: %+v", r)
		}
	}
}

// authzRuns are three rounds of the small workload with the SigV4 baseline,
// two authorization rows (OPA embedded; OpenFGA with its server measured as
// role "authz") and one authz row in the large workload, the machine drifting
// between rounds.
func authzRuns() []run {
	mk := func(workload string, size int64, target, authz, round string, rps, usPerReq, serverUS float64) run {
		r := run{
			Tags:      map[string]string{"workload": workload, "target": target, "round": round},
			Size:      size,
			Auth:      "sigv4",
			ReqPerSec: rps,
			MBPerSec:  rps * float64(size) / 1e6,
			Procs:     []proc{{Role: "proxy", USPerReq: usPerReq, CPUSecPerGB: usPerReq * 1e3 / float64(size)}, {Role: "sink", USPerReq: 7}},
		}
		if authz != "" {
			r.Tags["authz"] = authz
		}
		if serverUS > 0 {
			r.Procs = append(r.Procs, proc{Role: "authz", USPerReq: serverUS})
		}
		return r
	}
	var runs []run
	for _, round := range []string{"1", "2", "3"} {
		k := float64(round[0] - '0')
		runs = append(runs,
			mk("small", 1<<10, "mizuchi-sigv4", "", round, 1000*k, 100, 0),
			mk("small", 1<<10, "mizuchi-opa", "opa", round, 800*k, 130+10*k, 0),   // CPU ×1.4, 1.5, 1.6
			mk("small", 1<<10, "mizuchi-fga", "fga", round, 250*k, 300, 200+10*k), // rate ×0.25, CPU ×3
			mk("large", 64<<20, "mizuchi-sigv4", "", round, 10, 1000, 0),          // MB/s and s/GB
			mk("large", 64<<20, "mizuchi-opa", "opa", round, 10-k, 1000+100*k, 0), // ×0.9, 0.8, 0.7; ×1.1, 1.2, 1.3
		)
	}
	return runs
}

func TestSummarizeAuthzRatio_Success(t *testing.T) {
	rows := summarize(authzRuns(), "direct", "mizuchi", "mizuchi-sigv4", nil)
	byTarget := map[string]*row{}
	for i := range rows {
		byTarget[rows[i].Workload+"/"+rows[i].Target] = &rows[i]
	}
	f := func(key, authz string, rate, cpu stat, server *stat) {
		t.Helper()
		r := byTarget[key]
		if r == nil {
			t.Fatalf("no row %s", key)
		}
		if r.Authz != authz || r.AuthzBaseline != "mizuchi-sigv4" {
			t.Fatalf("unexpected authz of %s; got %q baseline %q; want %q baseline mizuchi-sigv4", key, r.Authz, r.AuthzBaseline, authz)
		}
		if r.authzRate() == nil || r.authzCPU() == nil {
			t.Fatalf("row %s has no authz ratios", key)
		}
		if got := *r.authzRate(); !near(got, rate) {
			t.Fatalf("unexpected authz rate ratio of %s; got %+v; want %+v", key, got, rate)
		}
		if got := *r.authzCPU(); !near(got, cpu) {
			t.Fatalf("unexpected authz cpu ratio of %s; got %+v; want %+v", key, got, cpu)
		}
		if got := r.AuthzServerUSPerReq; (got == nil) != (server == nil) || (got != nil && !near(*got, *server)) {
			t.Fatalf("unexpected authz server µs/req of %s; got %+v; want %+v", key, got, server)
		}
	}
	f("small/mizuchi-opa", "opa", stat{Median: 0.8, Min: 0.8, Max: 0.8, N: 3}, stat{Median: 1.5, Min: 1.4, Max: 1.6, N: 3}, nil)
	f("small/mizuchi-fga", "fga", stat{Median: 0.25, Min: 0.25, Max: 0.25, N: 3}, stat{Median: 3, Min: 3, Max: 3, N: 3}, &stat{Median: 220, Min: 210, Max: 230, N: 3})
	// The large workload gives MB/s and s/GB; the JSON has all four.
	f("large/mizuchi-opa", "opa", stat{Median: 0.8, Min: 0.7, Max: 0.9, N: 3}, stat{Median: 1.2, Min: 1.1, Max: 1.3, N: 3}, nil)
	if r := byTarget["large/mizuchi-opa"]; r.authzRate() != r.AuthzRatioMBPerS || r.authzCPU() != r.AuthzRatioCPUPerGB || r.AuthzRatioReqPerS == nil || r.AuthzRatioCPUPerReq == nil {
		t.Fatalf("unexpected large authz row %+v", r)
	}
	if r := byTarget["small/mizuchi-opa"]; r.authzRate() != r.AuthzRatioReqPerS || r.authzCPU() != r.AuthzRatioCPUPerReq || r.AuthzRatioMBPerS == nil || r.AuthzRatioCPUPerGB == nil {
		t.Fatalf("unexpected small authz row %+v", r)
	}

	lines := authzCost(rows)
	want := []string{
		"small mizuchi-opa (authz opa): req/s ×0.80 (0.80–0.80), proxy CPU/req ×1.50 (1.40–1.60)",
		"small mizuchi-fga (authz fga): req/s ×0.25 (0.25–0.25), proxy CPU/req ×3.00 (3.00–3.00), authz server 220.0 (210.0–230.0) µs/req",
		"large mizuchi-opa (authz opa): MB/s ×0.80 (0.70–0.90), proxy CPU/GB ×1.20 (1.10–1.30)",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("unexpected authz cost lines;\ngot  %q\nwant %q", lines, want)
	}

	var b strings.Builder
	writeTable(&b, rows)
	if !strings.Contains(b.String(), "authz x rate") || !strings.Contains(b.String(), "authz x cpu") || !strings.Contains(b.String(), "1.50 (1.40–1.60)") {
		t.Fatalf("table lacks the authz columns:\n%s", b.String())
	}
}

func TestSummarizeAuthzRatio_Failure(t *testing.T) {
	// f: no row of rows may carry authz ratios.
	f := func(name string, rows []row) {
		t.Helper()
		for _, r := range rows {
			if r.AuthzBaseline != "" || r.authzRate() != nil || r.authzCPU() != nil {
				t.Fatalf("%s: unexpected authz ratios of %s/%s: %+v", name, r.Workload, r.Target, r)
			}
		}
		if lines := authzCost(rows); len(lines) != 0 {
			t.Fatalf("%s: unexpected authz cost lines %q", name, lines)
		}
	}
	runs := authzRuns()
	// No baseline target in the runs.
	f("missing baseline", summarize(runs, "direct", "mizuchi", "mizuchi-jwt", nil))
	// A baseline that authorizes itself is no baseline.
	f("authorized baseline", summarize(runs, "direct", "mizuchi", "mizuchi-opa", nil))
	// Ratios are per round: a baseline measured in other rounds gives none.
	var shifted []run
	for _, r := range runs {
		if r.Tags["target"] == "mizuchi-sigv4" {
			r.Tags = map[string]string{"workload": r.Tags["workload"], "target": r.Tags["target"], "round": r.Tags["round"] + "0"}
		}
		shifted = append(shifted, r)
	}
	f("baseline in other rounds", summarize(shifted, "direct", "mizuchi", "mizuchi-sigv4", nil))

	// Rows without the tag never get authz ratios, but keep their auth ones.
	rows := summarize(runs, "direct", "mizuchi", "mizuchi-sigv4", nil)
	for _, r := range rows {
		if r.Target == "mizuchi-sigv4" && (r.Authz != "" || r.AuthzBaseline != "" || r.AuthzRatioReqPerS != nil || r.AuthzServerUSPerReq != nil) {
			t.Fatalf("unexpected authz figures of the baseline row %+v", r)
		}
	}
}

// TestSummarizeHTTPS: HTTPS rows are compared with the best HTTPS proxy only,
// never with the plain anchors (which here are faster and cheaper, so a mix-up
// shows), and get no ratio to the plain direct run; plain rows ignore the
// HTTPS candidates.
func TestSummarizeHTTPS(t *testing.T) {
	mk := func(target, round string, rate, usPerReq float64, https bool) run {
		r := run{
			Tags:      map[string]string{"workload": "small", "target": target, "round": round},
			Size:      1 << 10,
			ReqPerSec: rate,
			MBPerSec:  rate / 1000,
		}
		if target != "direct" {
			r.Procs = []proc{{Role: "proxy", USPerReq: usPerReq}}
		}
		if https {
			r.TLS = &struct {
				Version         string `json:"version"`
				Cipher          string `json:"cipher"`
				Curve           string `json:"key_exchange"`
				HandshakesInRun int64  `json:"handshakes_in_run"`
			}{"TLS 1.3", "TLS_AES_128_GCM_SHA256", "X25519", 0}
		}
		return r
	}
	var runs []run
	for _, round := range []string{"1", "2", "3"} {
		k := float64(round[0] - '0')
		runs = append(runs,
			mk("direct", round, 5000*k, 0, false),
			mk("mizuchi", round, 2000*k, 30, false),
			mk("nginx", round, 2000*k, 40, false),
			mk("haproxy", round, 1800*k, 20, false),
			mk("mizuchi-tls", round, 900*k, 60+k, true),
			mk("nginx-tls", round, 1000*k, 80, true),  // fastest HTTPS proxy
			mk("haproxy-tls", round, 800*k, 50, true), // cheapest HTTPS proxy
		)
	}
	runs[len(runs)-1].TLS.HandshakesInRun = 2
	rows := summarize(runs, "direct", "mizuchi", "mizuchi-sigv4", []string{"nginx", "nginx-buf1m", "haproxy", "nginx-tls", "haproxy-tls"})
	byTarget := map[string]*row{}
	for i := range rows {
		byTarget[rows[i].Target] = &rows[i]
	}
	f := func(target string, https bool, rateTarget, cpuTarget string, rate, cpu stat) {
		t.Helper()
		r := byTarget[target]
		if r == nil {
			t.Fatalf("no row %s", target)
		}
		if r.HTTPS != https || r.BestRateTarget != rateTarget || r.BestCPUTarget != cpuTarget {
			t.Fatalf("unexpected row %s: https %v, best rate %q, best cpu %q; want %v %q %q", target, r.HTTPS, r.BestRateTarget, r.BestCPUTarget, https, rateTarget, cpuTarget)
		}
		if r.BestRatioRate == nil || !near(*r.BestRatioRate, rate) || r.BestRatioCPU == nil || !near(*r.BestRatioCPU, cpu) {
			t.Fatalf("unexpected best proxy ratios of %s; got %+v %+v; want %+v %+v", target, r.BestRatioRate, r.BestRatioCPU, rate, cpu)
		}
		if https && (r.RatioReqPerS != nil || r.RatioMBPerS != nil) {
			t.Fatalf("HTTPS row %s must have no ratio to the plain direct run", target)
		}
		if !https && target != "direct" && r.RatioReqPerS == nil {
			t.Fatalf("plain row %s has no ratio to direct", target)
		}
	}
	f("mizuchi-tls", true, "nginx-tls", "haproxy-tls", stat{Median: 0.9, Min: 0.9, Max: 0.9, N: 3}, stat{Median: 1.24, Min: 1.22, Max: 1.26, N: 3})
	f("nginx-tls", true, "nginx-tls", "haproxy-tls", stat{Median: 1, Min: 1, Max: 1, N: 3}, stat{Median: 1.6, Min: 1.6, Max: 1.6, N: 3})
	f("mizuchi", false, "nginx", "haproxy", stat{Median: 1, Min: 1, Max: 1, N: 3}, stat{Median: 1.5, Min: 1.5, Max: 1.5, N: 3})
	if r := byTarget["mizuchi-tls"]; r.TLSParams != "TLS 1.3 TLS_AES_128_GCM_SHA256 X25519" {
		t.Fatalf("unexpected TLS parameters %q", r.TLSParams)
	}
	if n := byTarget["haproxy-tls"].TLSHandshakesInRun; n != 2 {
		t.Fatalf("unexpected handshakes in run; got %d; want 2", n)
	}

	plain, https := splitHTTPS(rows)
	if len(plain) != 4 || len(https) != 3 || https[0].Target != "mizuchi-tls" {
		t.Fatalf("unexpected split: %d plain, %d https", len(plain), len(https))
	}
	candidates := []string{"nginx", "nginx-buf1m", "haproxy", "nginx-tls", "haproxy-tls"}
	if got := classList(https, candidates); got != "nginx-tls, haproxy-tls" {
		t.Fatalf("unexpected HTTPS candidates %q", got)
	}
	if got := classList(plain, candidates); got != "nginx, haproxy" {
		t.Fatalf("unexpected plain candidates %q", got)
	}
	h := httpsHeading(https, candidates)
	for _, want := range []string{"TLS 1.3 TLS_AES_128_GCM_SHA256 X25519", "best of nginx-tls, haproxy-tls", "2 handshakes happened inside"} {
		if !strings.Contains(h, want) {
			t.Fatalf("heading %q lacks %q", h, want)
		}
	}
	if lines := bestProxyLines(https); len(lines) != 1 || lines[0] != "small: rate nginx-tls 2000.0 req/s; cpu haproxy-tls 50.0 µs/req" {
		t.Fatalf("unexpected HTTPS best proxy lines %q", lines)
	}

	// A TLS auth row is not divided by the plain unauthenticated row.
	runs = append(runs, mk("mizuchi-tls-sigv4", "1", 500, 90, true))
	runs[len(runs)-1].Auth = "sigv4"
	for _, r := range summarize(runs, "direct", "mizuchi", "mizuchi-sigv4", candidates) {
		if r.Target == "mizuchi-tls-sigv4" && (r.AuthBaseline != "" || r.AuthRatioReqPerS != nil) {
			t.Fatalf("HTTPS auth row divided by the plain baseline: %+v", r)
		}
	}
}
