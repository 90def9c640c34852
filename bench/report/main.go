// Command report merges the per-run JSON files written by loadgen -json
// (tagged workload=, target=, round= by bench/run.sh) into one table: for each
// workload and target the median across rounds with the min–max spread, the
// proxy's CPU per GB and per request, its peak RSS, and the ratio of each
// target to the "direct" baseline of the same workload and round.
//
// Rows whose runs were authenticated (loadgen -auth sigv4 or jwt) also get
// the cost of authentication: their ratio to the unauthenticated "mizuchi"
// target of the same workload and round, for the rate (req/s for bodies
// under 1 MiB, MB/s from 1 MiB up) and for the proxy's CPU (µs per request,
// or s per GB). Both ratios are in the JSON for every workload.
//
// Rows whose runs authorized every request (tagged authz=ENGINE by
// bench/run.sh, e.g. authz=opa or authz=fga) likewise get the cost of
// authorization: their ratio to the -authz-baseline target (mizuchi-sigv4: the
// same SigV4 route without authorization) of the same workload and round, and
// the CPU per request of the authorization server when the run measured one
// (role "authz", e.g. the OpenFGA server).
//
// Targets given the same requests (-same-load, mizuchi-sigv4=haproxy-signed
// by default: HAProxy forwarding the generator's SigV4-signed requests
// unchecked) get a "same load" line each: target ÷ anchor per workload and
// round, for the rate and the proxy's CPU (sameload.go).
//
// Every row also gets its ratio to the best external proxy of the same
// workload and round (-best-proxies, nginx and HAProxy by default): the one
// with the highest median rate for the rate ratio and the one with the lowest
// median proxy CPU for the CPU ratio, so a row reads as "this much of the best
// proxy's rate, at this multiple of its CPU".
//
// HTTPS rows (runs with loadgen's "tls" object: an https:// -url) are a class
// of their own: they get their own table, and every ratio of an HTTPS row is
// to an HTTPS row (the best of nginx-tls and haproxy-tls; no direct ratio, as
// the sink speaks plain HTTP), and of a plain row to a plain row.
//
// A run may name several processes with the same role (nginx's master and its
// workers are all "proxy"): their CPU and peak RSS are summed.
//
//	report -out results.json run1.json run2.json ...
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"
)

var (
	out       = flag.String("out", "", "also write the merged runs and the summary as JSON to this file")
	baseline  = flag.String("baseline", "direct", "target the ratio column divides by")
	authBase  = flag.String("auth-baseline", "mizuchi", "unauthenticated target the auth cost columns divide by")
	sameLoadF = flag.String("same-load", "mizuchi-sigv4=haproxy-signed", "comma-separated target=anchor pairs given the same requests by run.sh: a \"same load\" section divides target by anchor per workload and round (see sameload.go)")
	authzBase = flag.String("authz-baseline", "mizuchi-sigv4", "target without authorization that the authz cost columns divide the rows tagged authz=ENGINE by")
	note      = flag.String("note", "", "free text stored in the JSON (e.g. why fewer rounds ran)")
	best      = flag.String("best-proxies", "nginx,nginx-buf1m,haproxy,nginx-tls,haproxy-tls", "comma-separated targets the \"x best proxy\" columns compare with: per workload and class (plain HTTP or HTTPS), the one with the highest median rate and the one with the lowest median proxy CPU; a candidate serves the rows of its own class only")
)

// run is the subset of loadgen's report that the table needs.
type run struct {
	Tags       map[string]string `json:"tags"`
	Size       int64             `json:"size_bytes"`
	Conns      int               `json:"conns"`
	Auth       string            `json:"auth"`
	ElapsedSec float64           `json:"elapsed_s"`
	Requests   int64             `json:"requests"`
	ErrorTotal int64             `json:"error_total"`
	ReqPerSec  float64           `json:"req_per_s"`
	MBPerSec   float64           `json:"mb_per_s"`
	Latency    struct {
		P50US float64 `json:"p50_us"`
		P99US float64 `json:"p99_us"`
	} `json:"latency"`
	Generator proc   `json:"generator"`
	Procs     []proc `json:"procs"`
	Host      *struct {
		BusyFraction float64 `json:"busy_fraction"`
		StealSec     float64 `json:"steal_s"`
		PSISomeFrac  float64 `json:"psi_cpu_some"`
	} `json:"host"`
	TLS *struct {
		Version         string `json:"version"`
		Cipher          string `json:"cipher"`
		Curve           string `json:"key_exchange"`
		HandshakesInRun int64  `json:"handshakes_in_run"`
	} `json:"tls"`
}

// https reports whether r's client side was TLS.
func (r *run) https() bool { return r.TLS != nil }

// tlsParams is what r's handshakes negotiated, e.g. "TLS 1.3
// TLS_AES_128_GCM_SHA256 X25519", or "" for plain HTTP.
func (r *run) tlsParams() string {
	if r.TLS == nil {
		return ""
	}
	return strings.Join(strings.Fields(r.TLS.Version+" "+r.TLS.Cipher+" "+r.TLS.Curve), " ")
}

type proc struct {
	Role         string  `json:"role"`
	CPUSec       float64 `json:"cpu_s"`
	CPUSecPerGB  float64 `json:"cpu_s_per_gb"`
	USPerReq     float64 `json:"cpu_us_per_req"`
	PeakRSSBytes int64   `json:"peak_rss_bytes"`
	Error        string  `json:"error"`
}

// proc returns the figures of the processes with the given role, summed
// (CPU and peak RSS), or nil when there is none or one of them has an error.
func (r *run) proc(role string) *proc {
	var sum *proc
	for i := range r.Procs {
		p := &r.Procs[i]
		if p.Role != role {
			continue
		}
		if p.Error != "" {
			return nil
		}
		if sum == nil {
			c := *p
			sum = &c
			continue
		}
		sum.CPUSec += p.CPUSec
		sum.CPUSecPerGB += p.CPUSecPerGB
		sum.USPerReq += p.USPerReq
		sum.PeakRSSBytes += p.PeakRSSBytes
	}
	return sum
}

// rate is the figure the per-target ratios compare: req/s for bodies under
// largeBody, MB/s from there up.
func (r *run) rate() float64 {
	if r.Size >= largeBody {
		return r.MBPerSec
	}
	return r.ReqPerSec
}

// proxyCPU is the proxy's CPU figure matching rate: µs per request for small
// bodies, s per GB for large ones; ok is false without a proxy.
func (r *run) proxyCPU() (v float64, ok bool) {
	p := r.proc("proxy")
	if p == nil {
		return 0, false
	}
	if r.Size >= largeBody {
		return p.CPUSecPerGB, true
	}
	return p.USPerReq, true
}

// authenticated reports whether loadgen signed or sent a token for r.
func (r *run) authenticated() bool { return r.Auth != "" && r.Auth != "none" }

// authz is the authorization engine of r's target (its "authz" tag), or ""
// when the target does not authorize requests.
func (r *run) authz() string { return r.Tags["authz"] }

// authzRole is the -pid role of an authorization server measured apart from
// the proxy (the OpenFGA server of the authz=fga rows).
const authzRole = "authz"

// largeBody is the body size from which the auth cost is given per byte (MB/s,
// s/GB) rather than per request.
const largeBody = 1 << 20

// stat is a median with its min–max spread.
type stat struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	N      int     `json:"n"`
}

func newStat(v []float64) stat {
	if len(v) == 0 {
		return stat{}
	}
	s := slices.Clone(v)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return stat{Median: m, Min: s[0], Max: s[len(s)-1], N: len(s)}
}

// row is one workload × target line of the table.
type row struct {
	Workload      string `json:"workload"`
	Target        string `json:"target"`
	Rounds        int    `json:"rounds"`
	Errors        int64  `json:"errors"`
	ReqPerSec     stat   `json:"req_per_s"`
	MBPerSec      stat   `json:"mb_per_s"`
	P50US         stat   `json:"p50_us"`
	P99US         stat   `json:"p99_us"`
	ProxyCPUPerGB *stat  `json:"proxy_cpu_s_per_gb,omitempty"`
	ProxyUSPerReq *stat  `json:"proxy_cpu_us_per_req,omitempty"`
	ProxyPeakRSS  int64  `json:"proxy_peak_rss_bytes,omitempty"` // max over rounds
	SinkUSPerReq  *stat  `json:"sink_cpu_us_per_req,omitempty"`
	GenUSPerReq   stat   `json:"generator_cpu_us_per_req"`
	HostBusy      stat   `json:"host_busy_fraction"`
	CPUPressure   stat   `json:"psi_cpu_some"`
	RatioReqPerS  *stat  `json:"ratio_req_per_s,omitempty"` // per round: target / baseline
	RatioMBPerS   *stat  `json:"ratio_mb_per_s,omitempty"`

	// Authenticated rows only: per round, this row ÷ the unauthenticated
	// AuthBaseline row (same workload and round), then median and min–max.
	// Rate ratios below 1 and CPU ratios above 1 are the cost of auth.
	Auth               string `json:"auth,omitempty"`
	Size               int64  `json:"size_bytes"`
	AuthBaseline       string `json:"auth_baseline,omitempty"`
	AuthRatioReqPerS   *stat  `json:"auth_ratio_req_per_s,omitempty"`
	AuthRatioMBPerS    *stat  `json:"auth_ratio_mb_per_s,omitempty"`
	AuthRatioCPUPerReq *stat  `json:"auth_ratio_proxy_cpu_us_per_req,omitempty"`
	AuthRatioCPUPerGB  *stat  `json:"auth_ratio_proxy_cpu_s_per_gb,omitempty"`

	// Rows tagged authz=ENGINE only: per round, this row ÷ the AuthzBaseline
	// row without authorization (same workload and round), then median and
	// min–max, as for the auth ratios. AuthzServerUSPerReq is the CPU per
	// request of the authorization server (role "authz") when it was
	// measured; it is not in the proxy's figures.
	Authz               string `json:"authz,omitempty"`
	AuthzBaseline       string `json:"authz_baseline,omitempty"`
	AuthzRatioReqPerS   *stat  `json:"authz_ratio_req_per_s,omitempty"`
	AuthzRatioMBPerS    *stat  `json:"authz_ratio_mb_per_s,omitempty"`
	AuthzRatioCPUPerReq *stat  `json:"authz_ratio_proxy_cpu_us_per_req,omitempty"`
	AuthzRatioCPUPerGB  *stat  `json:"authz_ratio_proxy_cpu_s_per_gb,omitempty"`
	AuthzServerUSPerReq *stat  `json:"authz_server_cpu_us_per_req,omitempty"`

	// Per round: this row ÷ the best external proxy (same workload and
	// round), then median and min–max. The rate is req/s under 1 MiB bodies
	// and MB/s from 1 MiB up; the CPU is proxy µs/req or s/GB likewise.
	// BestRateTarget has the highest median rate among -best-proxies,
	// BestCPUTarget the lowest median proxy CPU; they may differ.
	BestRateTarget string `json:"best_proxy_rate_target,omitempty"`
	BestCPUTarget  string `json:"best_proxy_cpu_target,omitempty"`
	BestRatioRate  *stat  `json:"best_proxy_ratio_rate,omitempty"`
	BestRatioCPU   *stat  `json:"best_proxy_ratio_cpu,omitempty"`

	// HTTPS rows (the client side was TLS) are compared with HTTPS rows
	// only. TLSParams is what their handshakes negotiated;
	// TLSHandshakesInRun counts the handshakes inside the measured runs
	// (reconnects), summed over rounds: the first one of each connection is
	// before the clock.
	HTTPS              bool   `json:"https,omitempty"`
	TLSParams          string `json:"tls,omitempty"`
	TLSHandshakesInRun int64  `json:"tls_handshakes_in_run,omitempty"`
}

// rate and cpu are the row's medians of the figures that run.rate and
// run.proxyCPU give.
func (r *row) rate() stat {
	if r.Size >= largeBody {
		return r.MBPerSec
	}
	return r.ReqPerSec
}

func (r *row) cpu() *stat {
	if r.Size >= largeBody {
		return r.ProxyCPUPerGB
	}
	return r.ProxyUSPerReq
}

// authRate and authCPU are the auth cost figures the table shows: per request
// for small bodies, per byte for large ones.
func (r *row) authRate() *stat {
	if r.Size >= largeBody {
		return r.AuthRatioMBPerS
	}
	return r.AuthRatioReqPerS
}

func (r *row) authCPU() *stat {
	if r.Size >= largeBody {
		return r.AuthRatioCPUPerGB
	}
	return r.AuthRatioCPUPerReq
}

// authzRate and authzCPU are the authz cost figures the table shows, chosen
// by body size as for authRate and authCPU.
func (r *row) authzRate() *stat {
	if r.Size >= largeBody {
		return r.AuthzRatioMBPerS
	}
	return r.AuthzRatioReqPerS
}

func (r *row) authzCPU() *stat {
	if r.Size >= largeBody {
		return r.AuthzRatioCPUPerGB
	}
	return r.AuthzRatioCPUPerReq
}

func main() {
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if flag.NArg() == 0 {
		log.Error("no input files; usage: report [-out FILE] run.json ...")
		os.Exit(2)
	}
	var runs []run
	var raw []json.RawMessage
	for _, name := range flag.Args() {
		b, err := os.ReadFile(name)
		if err != nil {
			log.Error("cannot read run", "file", name, "err", err)
			os.Exit(1)
		}
		var r run
		if err := json.Unmarshal(b, &r); err != nil {
			log.Error("cannot parse run", "file", name, "err", err)
			os.Exit(1)
		}
		runs = append(runs, r)
		raw = append(raw, b)
	}
	pairs, err := parsePairs(*sameLoadF)
	if err != nil {
		log.Error("bad flag", "err", err)
		os.Exit(2)
	}
	candidates := splitList(*best)
	rows := summarize(runs, *baseline, *authBase, *authzBase, candidates)
	plain, https := splitHTTPS(rows)
	var bestLines, bestTLSLines []string
	if len(plain) > 0 {
		writeTable(os.Stdout, plain)
		bestLines = bestProxyLines(plain)
		printLines(fmt.Sprintf("best proxy (of %s; per workload, by median):", classList(plain, candidates)), bestLines)
	}
	if len(https) > 0 {
		if len(plain) > 0 {
			fmt.Println()
		}
		fmt.Println(httpsHeading(https, candidates))
		fmt.Println()
		writeTable(os.Stdout, https)
		bestTLSLines = bestProxyLines(https)
		printLines(fmt.Sprintf("best HTTPS proxy (of %s; per workload, by median):", classList(https, candidates)), bestTLSLines)
	}
	cost := authCost(rows)
	if len(cost) > 0 {
		fmt.Println()
		fmt.Printf("auth cost (÷ %s, same workload and round; median, min–max):\n", *authBase)
		for _, l := range cost {
			fmt.Println("  " + l)
		}
	}
	same := sameLoad(runs, pairs)
	if len(same) > 0 {
		fmt.Println()
		fmt.Println("same load (÷ the anchor given the very same requests, same workload and round; median, min–max):")
		for _, l := range same {
			fmt.Println("  " + l)
		}
	}
	authzLines := authzCost(rows)
	if len(authzLines) > 0 {
		fmt.Println()
		fmt.Printf("authz cost (÷ %s, same workload and round; median, min–max):\n", *authzBase)
		for _, l := range authzLines {
			fmt.Println("  " + l)
		}
	}
	if *out != "" {
		doc := struct {
			CreatedAt time.Time         `json:"created_at"`
			Note      string            `json:"note,omitempty"`
			AuthCost  []string          `json:"auth_cost,omitempty"`
			AuthzCost []string          `json:"authz_cost,omitempty"`
			SameLoad  []string          `json:"same_load,omitempty"`
			BestProxy []string          `json:"best_proxy,omitempty"`
			BestHTTPS []string          `json:"best_https_proxy,omitempty"`
			Summary   []row             `json:"summary"`
			Runs      []json.RawMessage `json:"runs"`
		}{time.Now().UTC(), *note, cost, authzLines, same, bestLines, bestTLSLines, rows, raw}
		b, _ := json.MarshalIndent(doc, "", "  ")
		if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
			log.Error("cannot write -out", "err", err)
			os.Exit(1)
		}
	}
}

func summarize(runs []run, baseline, authBaseline, authzBaseline string, bestProxies []string) []row {
	type key struct{ workload, target string }
	groups := map[key][]*run{}
	var order []key
	byRound := map[[3]string]*run{} // workload, target, round
	for i := range runs {
		r := &runs[i]
		k := key{r.Tags["workload"], r.Tags["target"]}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
		byRound[[3]string{k.workload, k.target, r.Tags["round"]}] = r
	}
	var rows []row
	for _, k := range order {
		g := groups[k]
		rw := row{Workload: k.workload, Target: k.target, Rounds: len(g)}
		var rps, mbs, p50, p99, gen, busy, psi, pGB, pReq, sReq, rr, rm []float64
		var auth, authz costRatios
		var zsrv []float64
		for _, r := range g {
			rw.Errors += r.ErrorTotal
			rw.Size = r.Size
			if r.https() {
				rw.HTTPS = true
				rw.TLSHandshakesInRun += r.TLS.HandshakesInRun
				if p := r.tlsParams(); !strings.Contains(rw.TLSParams, p) {
					rw.TLSParams += cond(rw.TLSParams != "", "; ", "") + p
				}
			}
			// Every baseline must be of r's class: HTTPS rows are divided by
			// HTTPS rows only, plain by plain.
			sameClass := func(b *run) *run {
				if b == nil || b.https() != r.https() {
					return nil
				}
				return b
			}
			if r.authenticated() {
				rw.Auth = r.Auth
				// Only the baseline's own routes (mizuchi-*) get an auth cost:
				// an anchor fed signed requests (haproxy-signed) is no route.
				own := strings.HasPrefix(k.target, authBaseline+"-")
				if b := sameClass(byRound[[3]string{k.workload, authBaseline, r.Tags["round"]}]); own && b != nil && !b.authenticated() {
					rw.AuthBaseline = authBaseline
					auth.add(r, b)
				}
			}
			if e := r.authz(); e != "" {
				rw.Authz = e
				if b := sameClass(byRound[[3]string{k.workload, authzBaseline, r.Tags["round"]}]); b != nil && b.authz() == "" {
					rw.AuthzBaseline = authzBaseline
					authz.add(r, b)
				}
				if p := r.proc(authzRole); p != nil {
					zsrv = append(zsrv, p.USPerReq)
				}
			}
			rps = append(rps, r.ReqPerSec)
			mbs = append(mbs, r.MBPerSec)
			p50 = append(p50, r.Latency.P50US)
			p99 = append(p99, r.Latency.P99US)
			gen = append(gen, r.Generator.USPerReq)
			if r.Host != nil {
				busy = append(busy, r.Host.BusyFraction)
				psi = append(psi, r.Host.PSISomeFrac)
			}
			if p := r.proc("proxy"); p != nil {
				pGB = append(pGB, p.CPUSecPerGB)
				pReq = append(pReq, p.USPerReq)
				rw.ProxyPeakRSS = max(rw.ProxyPeakRSS, p.PeakRSSBytes)
			}
			if p := r.proc("sink"); p != nil {
				sReq = append(sReq, p.USPerReq)
			}
			if b := sameClass(byRound[[3]string{k.workload, baseline, r.Tags["round"]}]); b != nil && k.target != baseline {
				if b.ReqPerSec > 0 {
					rr = append(rr, r.ReqPerSec/b.ReqPerSec)
				}
				if b.MBPerSec > 0 {
					rm = append(rm, r.MBPerSec/b.MBPerSec)
				}
			}
		}
		rw.ReqPerSec, rw.MBPerSec = newStat(rps), newStat(mbs)
		rw.P50US, rw.P99US = newStat(p50), newStat(p99)
		rw.GenUSPerReq, rw.HostBusy, rw.CPUPressure = newStat(gen), newStat(busy), newStat(psi)
		rw.ProxyCPUPerGB, rw.ProxyUSPerReq = optStat(pGB), optStat(pReq)
		rw.SinkUSPerReq = optStat(sReq)
		rw.RatioReqPerS, rw.RatioMBPerS = optStat(rr), optStat(rm)
		rw.AuthRatioReqPerS, rw.AuthRatioMBPerS, rw.AuthRatioCPUPerReq, rw.AuthRatioCPUPerGB = auth.stats()
		rw.AuthzRatioReqPerS, rw.AuthzRatioMBPerS, rw.AuthzRatioCPUPerReq, rw.AuthzRatioCPUPerGB = authz.stats()
		rw.AuthzServerUSPerReq = optStat(zsrv)
		rows = append(rows, rw)
	}
	runsOf := make([][]*run, len(order)) // runs of each row, in row order
	for i, k := range order {
		runsOf[i] = groups[k]
	}
	setBestProxy(rows, runsOf, byRound, bestProxies)
	return rows
}

// setBestProxy picks, per workload and class (plain or HTTPS), the best of
// the candidate targets of that class (highest median rate; lowest median
// proxy CPU) and gives every row of that workload and class its per-round
// ratios to them. runsOf[i] are the runs of rows[i].
func setBestProxy(rows []row, runsOf [][]*run, byRound map[[3]string]*run, candidates []string) {
	type class struct {
		workload string
		https    bool
	}
	bestRate := map[class]*row{}
	bestCPU := map[class]*row{}
	for i := range rows {
		r := &rows[i]
		if !slices.Contains(candidates, r.Target) {
			continue
		}
		k := class{r.Workload, r.HTTPS}
		if b := bestRate[k]; r.rate().Median > 0 && (b == nil || r.rate().Median > b.rate().Median) {
			bestRate[k] = r
		}
		if c := r.cpu(); c != nil && c.Median > 0 {
			if b := bestCPU[k]; b == nil || c.Median < b.cpu().Median {
				bestCPU[k] = r
			}
		}
	}
	for i := range rows {
		r := &rows[i]
		k := class{r.Workload, r.HTTPS}
		br, bc := bestRate[k], bestCPU[k]
		var rr, rc []float64
		for _, x := range runsOf[i] {
			round := x.Tags["round"]
			if br != nil {
				if b := byRound[[3]string{r.Workload, br.Target, round}]; b != nil {
					rr = appendRatio(rr, x.rate(), b.rate())
				}
			}
			if bc != nil {
				b := byRound[[3]string{r.Workload, bc.Target, round}]
				v, ok := x.proxyCPU()
				if b != nil && ok {
					if bv, bok := b.proxyCPU(); bok {
						rc = appendRatio(rc, v, bv)
					}
				}
			}
		}
		if br != nil {
			r.BestRateTarget = br.Target
		}
		if bc != nil {
			r.BestCPUTarget = bc.Target
		}
		r.BestRatioRate, r.BestRatioCPU = optStat(rr), optStat(rc)
	}
}

// cond is a ? b : c.
func cond(ok bool, a, b string) string {
	if ok {
		return a
	}
	return b
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// costRatios collects, round by round, a row's ratios to a baseline row
// without the feature whose cost it measures (auth, authz).
type costRatios struct{ reqPerS, mbPerS, cpuPerReq, cpuPerGB []float64 }

// add appends the ratios of run r to its baseline b of the same round.
func (c *costRatios) add(r, b *run) {
	c.reqPerS = appendRatio(c.reqPerS, r.ReqPerSec, b.ReqPerSec)
	c.mbPerS = appendRatio(c.mbPerS, r.MBPerSec, b.MBPerSec)
	if p, bp := r.proc("proxy"), b.proc("proxy"); p != nil && bp != nil {
		c.cpuPerReq = appendRatio(c.cpuPerReq, p.USPerReq, bp.USPerReq)
		c.cpuPerGB = appendRatio(c.cpuPerGB, p.CPUSecPerGB, bp.CPUSecPerGB)
	}
}

// stats returns the median and spread of each ratio, nil where none.
func (c *costRatios) stats() (reqPerS, mbPerS, cpuPerReq, cpuPerGB *stat) {
	return optStat(c.reqPerS), optStat(c.mbPerS), optStat(c.cpuPerReq), optStat(c.cpuPerGB)
}

// appendRatio appends v/base when base is positive.
func appendRatio(dst []float64, v, base float64) []float64 {
	if base > 0 {
		return append(dst, v/base)
	}
	return dst
}

func optStat(v []float64) *stat {
	if len(v) == 0 {
		return nil
	}
	s := newStat(v)
	return &s
}
