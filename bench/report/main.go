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
// Every row also gets its ratio to the best external proxy of the same
// workload and round (-best-proxies, nginx and HAProxy by default): the one
// with the highest median rate for the rate ratio and the one with the lowest
// median proxy CPU for the CPU ratio, so a row reads as "this much of the best
// proxy's rate, at this multiple of its CPU".
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
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

var (
	out      = flag.String("out", "", "also write the merged runs and the summary as JSON to this file")
	baseline = flag.String("baseline", "direct", "target the ratio column divides by")
	authBase = flag.String("auth-baseline", "mizuchi", "unauthenticated target the auth cost columns divide by")
	note     = flag.String("note", "", "free text stored in the JSON (e.g. why fewer rounds ran)")
	best     = flag.String("best-proxies", "nginx,nginx-buf1m,haproxy", "comma-separated targets the \"x best proxy\" columns compare with: per workload, the one with the highest median rate and the one with the lowest median proxy CPU")
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

	// Per round: this row ÷ the best external proxy (same workload and
	// round), then median and min–max. The rate is req/s under 1 MiB bodies
	// and MB/s from 1 MiB up; the CPU is proxy µs/req or s/GB likewise.
	// BestRateTarget has the highest median rate among -best-proxies,
	// BestCPUTarget the lowest median proxy CPU; they may differ.
	BestRateTarget string `json:"best_proxy_rate_target,omitempty"`
	BestCPUTarget  string `json:"best_proxy_cpu_target,omitempty"`
	BestRatioRate  *stat  `json:"best_proxy_ratio_rate,omitempty"`
	BestRatioCPU   *stat  `json:"best_proxy_ratio_cpu,omitempty"`
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
	rows := summarize(runs, *baseline, *authBase, splitList(*best))
	writeTable(os.Stdout, rows)
	bestLines := bestProxyLines(rows)
	if len(bestLines) > 0 {
		fmt.Println()
		fmt.Printf("best proxy (of %s; per workload, by median):\n", strings.Join(splitList(*best), ", "))
		for _, l := range bestLines {
			fmt.Println("  " + l)
		}
	}
	cost := authCost(rows)
	if len(cost) > 0 {
		fmt.Println()
		fmt.Printf("auth cost (÷ %s, same workload and round; median, min–max):\n", *authBase)
		for _, l := range cost {
			fmt.Println("  " + l)
		}
	}
	if *out != "" {
		doc := struct {
			CreatedAt time.Time         `json:"created_at"`
			Note      string            `json:"note,omitempty"`
			AuthCost  []string          `json:"auth_cost,omitempty"`
			BestProxy []string          `json:"best_proxy,omitempty"`
			Summary   []row             `json:"summary"`
			Runs      []json.RawMessage `json:"runs"`
		}{time.Now().UTC(), *note, cost, bestLines, rows, raw}
		b, _ := json.MarshalIndent(doc, "", "  ")
		if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
			log.Error("cannot write -out", "err", err)
			os.Exit(1)
		}
	}
}

func summarize(runs []run, baseline, authBaseline string, bestProxies []string) []row {
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
		var arr, arm, acr, acg []float64
		for _, r := range g {
			rw.Errors += r.ErrorTotal
			rw.Size = r.Size
			if r.authenticated() {
				rw.Auth = r.Auth
				if b := byRound[[3]string{k.workload, authBaseline, r.Tags["round"]}]; b != nil && !b.authenticated() {
					rw.AuthBaseline = authBaseline
					arr = appendRatio(arr, r.ReqPerSec, b.ReqPerSec)
					arm = appendRatio(arm, r.MBPerSec, b.MBPerSec)
					if p, bp := r.proc("proxy"), b.proc("proxy"); p != nil && bp != nil {
						acr = appendRatio(acr, p.USPerReq, bp.USPerReq)
						acg = appendRatio(acg, p.CPUSecPerGB, bp.CPUSecPerGB)
					}
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
			if b := byRound[[3]string{k.workload, baseline, r.Tags["round"]}]; b != nil && k.target != baseline {
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
		rw.AuthRatioReqPerS, rw.AuthRatioMBPerS = optStat(arr), optStat(arm)
		rw.AuthRatioCPUPerReq, rw.AuthRatioCPUPerGB = optStat(acr), optStat(acg)
		rows = append(rows, rw)
	}
	runsOf := make([][]*run, len(order)) // runs of each row, in row order
	for i, k := range order {
		runsOf[i] = groups[k]
	}
	setBestProxy(rows, runsOf, byRound, bestProxies)
	return rows
}

// setBestProxy picks, per workload, the best of the candidate targets (highest
// median rate; lowest median proxy CPU) and gives every row of that workload
// its per-round ratios to them. runsOf[i] are the runs of rows[i].
func setBestProxy(rows []row, runsOf [][]*run, byRound map[[3]string]*run, candidates []string) {
	bestRate := map[string]*row{} // workload -> row
	bestCPU := map[string]*row{}
	for i := range rows {
		r := &rows[i]
		if !slices.Contains(candidates, r.Target) {
			continue
		}
		if b := bestRate[r.Workload]; r.rate().Median > 0 && (b == nil || r.rate().Median > b.rate().Median) {
			bestRate[r.Workload] = r
		}
		if c := r.cpu(); c != nil && c.Median > 0 {
			if b := bestCPU[r.Workload]; b == nil || c.Median < b.cpu().Median {
				bestCPU[r.Workload] = r
			}
		}
	}
	for i := range rows {
		r := &rows[i]
		br, bc := bestRate[r.Workload], bestCPU[r.Workload]
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

// bestProxyLines names, per workload, the best proxies the "x best proxy"
// columns divide by, with their medians.
func bestProxyLines(rows []row) []string {
	var out []string
	seen := map[string]bool{}
	for i := range rows {
		r := &rows[i]
		if seen[r.Workload] || (r.BestRateTarget == "" && r.BestCPUTarget == "") {
			continue
		}
		seen[r.Workload] = true
		rateUnit, cpuUnit, cpuFmt := "req/s", "µs/req", "%.1f"
		if r.Size >= largeBody {
			rateUnit, cpuUnit, cpuFmt = "MB/s", "s/GB", "%.3f"
		}
		l := r.Workload + ":"
		for j := range rows {
			b := &rows[j]
			if b.Workload != r.Workload {
				continue
			}
			if b.Target == r.BestRateTarget {
				l += fmt.Sprintf(" rate %s %.1f %s;", b.Target, b.rate().Median, rateUnit)
			}
		}
		for j := range rows {
			b := &rows[j]
			if b.Workload == r.Workload && b.Target == r.BestCPUTarget {
				l += fmt.Sprintf(" cpu %s "+cpuFmt+" %s;", b.Target, b.cpu().Median, cpuUnit)
			}
		}
		out = append(out, strings.TrimSuffix(l, ";"))
	}
	return out
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

// appendRatio appends v/base when base is positive.
func appendRatio(dst []float64, v, base float64) []float64 {
	if base > 0 {
		return append(dst, v/base)
	}
	return dst
}

// authCost says, for each authenticated row with a baseline, what
// authentication costs relative to the unauthenticated run.
func authCost(rows []row) []string {
	var out []string
	for i := range rows {
		r := &rows[i]
		if r.AuthBaseline == "" {
			continue
		}
		rate, cpu := "req/s", "proxy CPU/req"
		if r.Size >= largeBody {
			rate, cpu = "MB/s", "proxy CPU/GB"
		}
		out = append(out, fmt.Sprintf("%s %s (-auth %s): %s ×%s, %s ×%s",
			r.Workload, r.Target, r.Auth, rate, optSpread(r.authRate()), cpu, optSpread(r.authCPU())))
	}
	return out
}

func optStat(v []float64) *stat {
	if len(v) == 0 {
		return nil
	}
	s := newStat(v)
	return &s
}

func writeTable(w io.Writer, rows []row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\ttarget\tn\treq/s (min–max)\tMB/s (min–max)\tp50\tp99\tproxy s/GB\tproxy µs/req\tproxy RSS\tsink µs/req\tgen µs/req\thost busy\tcpu psi\tx req/s (min–max)\tx MB/s (min–max)\tx best proxy rate\tx best proxy cpu\tauth x rate\tauth x cpu\terrors\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.1f\t%.0f%%\t%.0f%%\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t\n",
			r.Workload, r.Target, r.Rounds,
			spread(r.ReqPerSec, "%.0f"), spread(r.MBPerSec, "%.1f"),
			dur(r.P50US.Median), dur(r.P99US.Median),
			opt(r.ProxyCPUPerGB, "%.3f"), opt(r.ProxyUSPerReq, "%.1f"), rss(r.ProxyPeakRSS),
			opt(r.SinkUSPerReq, "%.1f"), r.GenUSPerReq.Median, 100*r.HostBusy.Median, 100*r.CPUPressure.Median,
			optSpread(r.RatioReqPerS), optSpread(r.RatioMBPerS), optSpread(r.BestRatioRate), optSpread(r.BestRatioCPU),
			optSpread(r.authRate()), optSpread(r.authCPU()), r.Errors)
	}
	tw.Flush()
}

func spread(s stat, f string) string {
	if s.N <= 1 {
		return fmt.Sprintf(f, s.Median)
	}
	return fmt.Sprintf(f+" ("+f+"–"+f+")", s.Median, s.Min, s.Max)
}

func optSpread(s *stat) string {
	if s == nil {
		return "-"
	}
	return spread(*s, "%.2f")
}

func opt(s *stat, f string) string {
	if s == nil {
		return "-"
	}
	return fmt.Sprintf(f, s.Median)
}

func dur(us float64) string {
	switch {
	case us >= 1e6:
		return fmt.Sprintf("%.2fs", us/1e6)
	case us >= 1e3:
		return fmt.Sprintf("%.1fms", us/1e3)
	}
	return fmt.Sprintf("%.0fµs", us)
}

func rss(b int64) string {
	if b == 0 {
		return "-"
	}
	return strings.TrimSuffix(fmt.Sprintf("%.0fMiB", float64(b)/(1<<20)), ".0")
}
