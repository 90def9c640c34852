package main

import (
	"net/http"
	"testing"
)

// TestE2EAdminPprof: /debug/pprof/ is served only with -pprof.
func TestE2EAdminPprof(t *testing.T) {
	b := startBackend(t, mainBucket)
	rt := route{name: "uploads", pathPrefix: "/uploads", bucket: mainBucket}
	f := func(args []string, want int) {
		t.Helper()
		g := startGatewayWith(t, b, gwOptions{args: args}, rt)
		resp, err := http.Get("http://" + g.admin + "/debug/pprof/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("%v: /debug/pprof/ answered %d; want %d", args, resp.StatusCode, want)
		}
	}
	f(nil, http.StatusNotFound)
	f([]string{"-pprof"}, http.StatusOK)
}
