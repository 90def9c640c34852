package main

import (
	"fmt"
	"strings"
)

// Same-load comparisons (-same-load "a=b,..."): target a divided by target b
// of the same workload and round, where run.sh gives b the very requests a
// gets. mizuchi-sigv4=haproxy-signed is the one run.sh knows: the generator
// signs every request for both (its CPU shares the cores with the proxy), and
// HAProxy forwards them unchecked, so the ratio is what verifying and
// re-signing cost against an anchor under the same load. The best-proxy
// ratios cannot say that: the anchors there get unsigned requests, which
// leave the generator more of the cores.

// pair is one -same-load comparison: target ÷ anchor.
type pair struct{ target, anchor string }

// parsePairs reads "a=b,c=d"; a malformed entry is an error.
func parsePairs(s string) ([]pair, error) {
	var out []pair
	for _, f := range splitList(s) {
		a, b, ok := strings.Cut(f, "=")
		if !ok || a == "" || b == "" || a == b {
			return nil, fmt.Errorf("-same-load: want target=anchor, got %q", f)
		}
		out = append(out, pair{a, b})
	}
	return out, nil
}

// sameLoad returns one line per pair and workload that has both targets in
// at least one common round: the rate and proxy CPU ratios, median and
// min–max over those rounds (per request under 1 MiB, per byte from 1 MiB).
func sameLoad(runs []run, pairs []pair) []string {
	type wk struct{ workload, target, round string }
	byRound := map[wk]*run{}
	var workloads []string
	seen := map[string]bool{}
	for i := range runs {
		r := &runs[i]
		w := r.Tags["workload"]
		byRound[wk{w, r.Tags["target"], r.Tags["round"]}] = r
		if !seen[w] {
			seen[w] = true
			workloads = append(workloads, w)
		}
	}
	var out []string
	for _, p := range pairs {
		for _, w := range workloads {
			var c costRatios
			var size int64
			for i := range runs {
				r := &runs[i]
				if r.Tags["workload"] != w || r.Tags["target"] != p.target {
					continue
				}
				if b := byRound[wk{w, p.anchor, r.Tags["round"]}]; b != nil && b.https() == r.https() {
					c.add(r, b)
					size = r.Size
				}
			}
			if len(c.reqPerS) == 0 {
				continue
			}
			reqPerS, mbPerS, cpuPerReq, cpuPerGB := c.stats()
			rate, rs, cpu, cs := "req/s", reqPerS, "proxy CPU/req", cpuPerReq
			if size >= largeBody {
				rate, rs, cpu, cs = "MB/s", mbPerS, "proxy CPU/GB", cpuPerGB
			}
			out = append(out, fmt.Sprintf("%s %s ÷ %s: %s ×%s, %s ×%s",
				w, p.target, p.anchor, rate, optSpread(rs), cpu, optSpread(cs)))
		}
	}
	return out
}
