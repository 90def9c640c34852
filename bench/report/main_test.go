package main

import "testing"

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
	}, "direct")
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
