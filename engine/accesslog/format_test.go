package accesslog

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"
)

var testTime = time.Date(2026, 12, 3, 12, 30, 45, 123456789, time.UTC)

func fullRecord() *Record {
	return &Record{
		Time: testTime, ID: []byte("18C0FFEE00000001"), Client: netip.MustParseAddr("192.0.2.7"), Method: []byte("PUT"),
		Path: []byte("/uploads/a b/x.bin"), Route: "uploads", Op: "PutObject", Status: 200,
		BytesIn: 1024, Duration: 1234567 * time.Nanosecond, Body: BodySplice, Upstream: 200,
		Auth: "sigv4", Subject: "alice", AccessKey: []byte("AKIDEXAMPLE"), Authz: "allow",
	}
}

func TestAppendLogfmt_Success(t *testing.T) {
	f := func(r *Record, want string) {
		t.Helper()
		got := string(AppendLogfmt(nil, r))
		if got != want {
			t.Fatalf("unexpected line;\ngot  %q\nwant %q", got, want)
		}
	}
	f(fullRecord(), `time=2026-12-03T12:30:45.123Z level=INFO msg=request id=18C0FFEE00000001 client=192.0.2.7 method=PUT path="/uploads/a b/x.bin" route=uploads op=PutObject status=200 bytes_in=1024 dur_ms=1.234 body=splice upstream=200 auth=sigv4 subject=alice access_key=AKIDEXAMPLE authz=allow`+"\n")
	// An unparsable head: no method, route or identity.
	f(&Record{Time: testTime, ID: []byte("X1"), Client: netip.IPv6Loopback(), Op: "Unknown", Status: 400, Code: "BadRequest", Body: BodyNone},
		`time=2026-12-03T12:30:45.123Z level=INFO msg=request id=X1 client=::1 op=Unknown status=400 code=BadRequest bytes_in=0 dur_ms=0.000 body=none upstream=0`+"\n")
	// Quoting: '=', quotes, control bytes, invalid UTF-8.
	f(&Record{Time: testTime, Reason: "a=b \"c\"\n\xff", Subject: "日本"},
		`time=2026-12-03T12:30:45.123Z level=INFO msg=request status=0 bytes_in=0 dur_ms=0.000 upstream=0 subject=日本 reason="a=b \"c\"\n\ufffd"`+"\n")
	// The run a grep relies on.
	r := fullRecord()
	r.Auth, r.Role = "sts", "arn:aws:iam::123456789012:role/up"
	if got := string(AppendLogfmt(nil, r)); !strings.Contains(got, " op=PutObject status=200 ") ||
		!strings.Contains(got, " auth=sts subject=alice role=arn:aws:iam::123456789012:role/up ") {
		t.Fatalf("unexpected order of keys: %s", got)
	}
}

func TestAppendJSON_Success(t *testing.T) {
	got := string(AppendJSON(nil, fullRecord()))
	want := `{"time":"2026-12-03T12:30:45.123Z","id":"18C0FFEE00000001","client":"192.0.2.7","method":"PUT","path":"/uploads/a b/x.bin",` +
		`"route":"uploads","op":"PutObject","status":200,"code":"","bytes_in":1024,"dur_ms":1.234,"body":"splice","upstream":200,` +
		`"auth":"sigv4","subject":"alice","role":"","access_key":"AKIDEXAMPLE","authz":"allow","reason":""}` + "\n"
	if got != want {
		t.Fatalf("unexpected line;\ngot  %s\nwant %s", got, want)
	}
	// Hostile bytes still make valid JSON that round-trips.
	r := &Record{Time: testTime, Path: []byte("/b/\x00\"\\\xc3\x28\u2028"), Reason: "ctl\x1f\x7f", BytesIn: -1, Duration: -time.Second}
	var m map[string]any
	line := AppendJSON(nil, r)
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatalf("invalid JSON %q: %v", line, err)
	}
	if m["path"] != "/b/\x00\"\\\ufffd(\u2028" || m["reason"] != "ctl\x1f\x7f" || m["bytes_in"] != -1.0 || m["dur_ms"] != 0.0 {
		t.Fatalf("unexpected fields: %v", m)
	}
}

// A request with a presigned query and a signed head: nothing of the query
// reaches the line, whatever the format (the Record has no field for it and
// callers pass Path without the query).
func TestNoSecrets(t *testing.T) {
	const sig = "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"
	uri := []byte("/uploads/k?X-Amz-Credential=AKIDEXAMPLE%2F20261203&X-Amz-Signature=" + sig + "&X-Amz-Security-Token=SECRETTOKEN")
	path := uri[:len("/uploads/k")]
	r := fullRecord()
	r.Path = path
	for _, line := range [][]byte{AppendJSON(nil, r), AppendLogfmt(nil, r)} {
		for _, bad := range []string{sig, "SECRETTOKEN", "X-Amz-", "?"} {
			if strings.Contains(string(line), bad) {
				t.Fatalf("%q appears in %s", bad, line)
			}
		}
	}
}

func TestAppendDurationMS(t *testing.T) {
	f := func(d time.Duration, want string) {
		t.Helper()
		if got := string(appendDurationMS(nil, d)); got != want {
			t.Fatalf("unexpected duration; got %s; want %s", got, want)
		}
	}
	f(0, "0.000")
	f(999*time.Nanosecond, "0.000")
	f(1500*time.Microsecond, "1.500")
	f(61*time.Second+7*time.Microsecond, "61000.007")
}
