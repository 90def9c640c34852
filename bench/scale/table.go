package main

import (
	"fmt"
	"io"
	"text/tabwriter"
)

func writeTable(w io.Writer, r *result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\tconns\tok\terrors\ttime\tRSS before\tRSS after / peak\tper conn\t")
	if i := r.Idle; i != nil {
		fmt.Fprintf(tw, "idle keep-alive (1 PUT of %dB each, then %gs idle)\t%d\t%d\t%d\t%.1fs\t%s\t%s\t%s\t\n",
			i.BodyBytes, i.HoldSec, i.Asked, i.Opened, i.Failed, i.OpenSec, mib(i.RSSBefore), mib(i.RSSAfter), kib(i.RSSPerConn))
	}
	if u := r.Uploads; u != nil {
		fmt.Fprintf(tw, "concurrent uploads of %s\t%d\t%d\t%d\t%.1fs\t%s\t%s\t-\t\n",
			u.Size, u.Conns, u.Requests, u.ErrorTotal, u.ElapsedSec, mib(u.RSSBefore), mib(u.RSSPeak))
	}
	tw.Flush()
	if i := r.Idle; i != nil {
		fmt.Fprintf(w, "idle: %d of %d still open after the hold; Mizuchi fds %d -> %d", i.Alive, i.Opened, i.FDsBefore, i.FDsAfter)
		if v, ok := i.Gauges["mizuchi_connections_active"]; ok {
			fmt.Fprintf(w, "; connections_active %.0f", v)
		}
		if v, ok := i.Gauges["mizuchi_fds_accounted"]; ok {
			fmt.Fprintf(w, "; fds_accounted %.0f", v)
		}
		fmt.Fprintf(w, "; RSS after closing them %s\n", mib(i.RSSClosed))
		for k, v := range i.Errors {
			fmt.Fprintf(w, "  e.g. %s: %s\n", k, v)
		}
	}
	if u := r.Uploads; u != nil {
		fmt.Fprintf(w, "uploads: %d of %d finished", u.Requests, u.Conns)
		if u.BodyBytes > 0 {
			fmt.Fprintf(w, "; %.1f of %.1f GB went through Mizuchi", u.BodyBytes/1e9, float64(u.Conns)*float64(u.SizeBytes)/1e9)
		}
		fmt.Fprintf(w, "; peak RSS at %.1fs (%d samples over %.1fs)", u.RSSPeakAtSec, u.RSSSamples, u.ElapsedSec)
		if u.RSSPeakAllInFlight > 0 {
			fmt.Fprintf(w, ", %s while all %d were in flight", mib(u.RSSPeakAllInFlight), u.Conns)
		}
		fmt.Fprintf(w, "; proxy CPU %.1fs", u.ProxyCPUSec)
		if len(u.GaugesMax) > 0 {
			fmt.Fprintf(w, "; max pipes_in_use %.0f, pipes_free %.0f, requests_inflight %.0f, fds_accounted %.0f",
				u.GaugesMax["mizuchi_pipes_in_use"], u.GaugesMax["mizuchi_pipes_free"], u.GaugesMax["mizuchi_requests_inflight"], u.GaugesMax["mizuchi_fds_accounted"])
		}
		fmt.Fprintln(w)
		for k, v := range u.Errors {
			fmt.Fprintf(w, "  errors %s: %d\n", k, v)
		}
	}
}

func mib(b int64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fMiB", float64(b)/(1<<20))
}

func kib(b float64) string {
	return fmt.Sprintf("%.1fKiB", b/(1<<10))
}
