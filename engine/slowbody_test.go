package engine

import "testing"

// TestNextRequestForgetsBodyWait: the body deadline is set once per
// request (traffic.go); the next request on the connection gets its own.
func TestNextRequestForgetsBodyWait(t *testing.T) {
	st := &connState{headStarted: true, bodyWait: true, continued: true}
	st.nextRequest()
	if st.bodyWait || st.headStarted || st.continued {
		t.Fatalf("nextRequest kept per-request state: bodyWait=%v headStarted=%v continued=%v", st.bodyWait, st.headStarted, st.continued)
	}
}
