package main

import (
	"strings"
	"testing"
)

func TestParsePairs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []pair
		bad  bool
	}{
		{"", nil, false},
		{"mizuchi-sigv4=haproxy-signed", []pair{{"mizuchi-sigv4", "haproxy-signed"}}, false},
		{"a=b, c=d", []pair{{"a", "b"}, {"c", "d"}}, false},
		{"a", nil, true},
		{"a=", nil, true},
		{"a=a", nil, true},
	} {
		got, err := parsePairs(tc.in)
		if (err != nil) != tc.bad {
			t.Fatalf("parsePairs(%q) error %v, want error %v", tc.in, err, tc.bad)
		}
		if !tc.bad && len(got) != len(tc.want) {
			t.Fatalf("parsePairs(%q) = %v, want %v", tc.in, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Fatalf("parsePairs(%q) = %v, want %v", tc.in, got, tc.want)
			}
		}
	}
}

func TestSameLoad(t *testing.T) {
	mk := func(workload string, size int64, target, round string, rps, usPerReq float64) run {
		return run{
			Tags:      map[string]string{"workload": workload, "target": target, "round": round},
			Size:      size,
			ReqPerSec: rps,
			MBPerSec:  rps * float64(size) / 1e6,
			Procs:     []proc{{Role: "proxy", USPerReq: usPerReq, CPUSecPerGB: usPerReq * 1e3 / float64(size)}},
		}
	}
	var runs []run
	for _, round := range []string{"1", "2", "3"} {
		k := float64(round[0] - '0') // the machine drifts between rounds; ratios do not
		runs = append(runs,
			mk("small", 1<<10, "mizuchi-sigv4", round, 900*k, 30),
			mk("small", 1<<10, "haproxy-signed", round, 1000*k, 25),
			mk("large", 64<<20, "mizuchi-sigv4", round, 10, 1100),
			mk("large", 64<<20, "haproxy-signed", round, 10, 1000),
		)
	}
	// A round where the anchor did not run is left out, not divided by zero.
	runs = append(runs, mk("small", 1<<10, "mizuchi-sigv4", "4", 1, 1000))
	got := sameLoad(runs, []pair{{"mizuchi-sigv4", "haproxy-signed"}, {"mizuchi-jwt", "haproxy"}})
	want := []string{
		"small mizuchi-sigv4 ÷ haproxy-signed: req/s ×0.90 (0.90–0.90), proxy CPU/req ×1.20 (1.20–1.20)",
		"large mizuchi-sigv4 ÷ haproxy-signed: MB/s ×1.00 (1.00–1.00), proxy CPU/GB ×1.10 (1.10–1.10)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("sameLoad:\n got %q\nwant %q", got, want)
	}
}

// An anchor fed signed requests is authenticated load but no route of the
// gateway: it gets no auth cost ratio, while the gateway's SigV4 route does.
func TestSummarizeSignedAnchorNoAuthCost(t *testing.T) {
	mk := func(target, auth string, rps float64) run {
		return run{
			Tags: map[string]string{"workload": "small", "target": target, "round": "1"},
			Size: 1 << 10, Auth: auth, ReqPerSec: rps,
			Procs: []proc{{Role: "proxy", USPerReq: 25}},
		}
	}
	rows := summarize([]run{mk("mizuchi", "none", 1000), mk("mizuchi-sigv4", "sigv4", 900), mk("haproxy-signed", "sigv4", 950)},
		"direct", "mizuchi", "mizuchi-sigv4", nil)
	for _, r := range rows {
		switch r.Target {
		case "haproxy-signed":
			if r.AuthBaseline != "" || r.AuthRatioReqPerS != nil {
				t.Fatalf("haproxy-signed got an auth cost: baseline %q", r.AuthBaseline)
			}
		case "mizuchi-sigv4":
			if r.AuthBaseline != "mizuchi" || r.AuthRatioReqPerS == nil || r.AuthRatioReqPerS.Median != 0.9 {
				t.Fatalf("mizuchi-sigv4 auth cost: baseline %q, ratio %+v", r.AuthBaseline, r.AuthRatioReqPerS)
			}
		}
	}
}
