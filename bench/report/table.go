package main

// The table and the summary lines below it.

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// splitHTTPS splits rows into the plain HTTP ones and the HTTPS ones, each
// in their order.
func splitHTTPS(rows []row) (plain, https []row) {
	for _, r := range rows {
		if r.HTTPS {
			https = append(https, r)
		} else {
			plain = append(plain, r)
		}
	}
	return plain, https
}

// classList names the candidates that are rows of this class, or all of
// them when none is.
func classList(rows []row, candidates []string) string {
	var in []string
	for _, c := range candidates {
		for i := range rows {
			if rows[i].Target == c {
				in = append(in, c)
				break
			}
		}
	}
	if len(in) == 0 {
		in = candidates
	}
	return strings.Join(in, ", ")
}

// httpsHeading introduces the HTTPS table: what was negotiated, and what
// its ratios divide by.
func httpsHeading(rows []row, candidates []string) string {
	var params []string
	var inRun int64
	for i := range rows {
		for _, p := range strings.Split(rows[i].TLSParams, "; ") {
			if p != "" && !slices.Contains(params, p) {
				params = append(params, p)
			}
		}
		inRun += rows[i].TLSHandshakesInRun
	}
	h := fmt.Sprintf("HTTPS (client side %s, one handshake per connection before the clock; backend side plain HTTP).\n"+
		"Ratios are to HTTPS rows only: x best proxy to the best of %s; no x req/s, x MB/s (the sink speaks plain HTTP).",
		cond(len(params) > 0, strings.Join(params, " / "), "TLS"), classList(rows, candidates))
	if inRun > 0 {
		h += fmt.Sprintf("\nnote: %d handshakes happened inside the measured runs (reconnects); see tls_handshakes_in_run in the JSON.", inRun)
	}
	return h
}

// printLines prints a heading and its indented lines, after a blank line;
// nothing when there are no lines.
func printLines(heading string, lines []string) {
	if len(lines) == 0 {
		return
	}
	fmt.Println()
	fmt.Println(heading)
	for _, l := range lines {
		fmt.Println("  " + l)
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
		what := "-auth " + r.Auth
		if r.Authz != "" {
			what += ", authz " + r.Authz // authentication and authorization
		}
		out = append(out, fmt.Sprintf("%s %s (%s): %s ×%s, %s ×%s",
			r.Workload, r.Target, what, rate, optSpread(r.authRate()), cpu, optSpread(r.authCPU())))
	}
	return out
}

// authzCost says, for each row tagged authz with a baseline, what
// authorization costs relative to the same route without it, and what the
// authorization server spent per request when it was measured.
func authzCost(rows []row) []string {
	var out []string
	for i := range rows {
		r := &rows[i]
		if r.AuthzBaseline == "" {
			continue
		}
		rate, cpu := "req/s", "proxy CPU/req"
		if r.Size >= largeBody {
			rate, cpu = "MB/s", "proxy CPU/GB"
		}
		l := fmt.Sprintf("%s %s (authz %s): %s ×%s, %s ×%s",
			r.Workload, r.Target, r.Authz, rate, optSpread(r.authzRate()), cpu, optSpread(r.authzCPU()))
		if s := r.AuthzServerUSPerReq; s != nil {
			l += ", authz server " + spread(*s, "%.1f") + " µs/req"
		}
		out = append(out, l)
	}
	return out
}

func writeTable(w io.Writer, rows []row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\ttarget\tn\treq/s (min–max)\tMB/s (min–max)\tp50\tp99\tproxy s/GB\tproxy µs/req\tproxy RSS\tsink µs/req\tgen µs/req\thost busy\tcpu psi\tx req/s (min–max)\tx MB/s (min–max)\tx best proxy rate\tx best proxy cpu\tauth x rate\tauth x cpu\tauthz x rate\tauthz x cpu\terrors\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.1f\t%.0f%%\t%.0f%%\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t\n",
			r.Workload, r.Target, r.Rounds,
			spread(r.ReqPerSec, "%.0f"), spread(r.MBPerSec, "%.1f"),
			dur(r.P50US.Median), dur(r.P99US.Median),
			opt(r.ProxyCPUPerGB, "%.3f"), opt(r.ProxyUSPerReq, "%.1f"), rss(r.ProxyPeakRSS),
			opt(r.SinkUSPerReq, "%.1f"), r.GenUSPerReq.Median, 100*r.HostBusy.Median, 100*r.CPUPressure.Median,
			optSpread(r.RatioReqPerS), optSpread(r.RatioMBPerS), optSpread(r.BestRatioRate), optSpread(r.BestRatioCPU),
			optSpread(r.authRate()), optSpread(r.authCPU()), optSpread(r.authzRate()), optSpread(r.authzCPU()), r.Errors)
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
