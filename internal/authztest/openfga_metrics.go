package authztest

import "testing"

// StartOpenFGAMetrics is StartOpenFGA with its Prometheus metrics served on
// another free loopback port, so a test can count the checks the server
// answered. It returns the API URL and the metrics URL ("…/metrics").
func StartOpenFGAMetrics(t testing.TB) (apiURL, metricsURL string, stop func()) {
	t.Helper()
	addr := loopback(FreePort(t))
	apiURL, stop = startOpenFGA(t, []string{"--metrics-enabled=true", "--metrics-addr=" + addr})
	return apiURL, "http://" + addr + "/metrics", stop
}
