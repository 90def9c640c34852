package policy

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestInputJSON: AppendJSON is valid JSON with exactly the documented
// names, and agrees with Map.
func TestInputJSON(t *testing.T) {
	f := func(name string, in Input, wantKeys []string) {
		t.Helper()
		b := in.AppendJSON(nil)
		var got map[string]any
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%s: invalid JSON %s: %v", name, b, err)
		}
		var keys []string
		for k := range got {
			keys = append(keys, k)
		}
		if !sameSet(keys, wantKeys) {
			t.Fatalf("%s: unexpected fields %v; want %v", name, keys, wantKeys)
		}
		// Map encodes to the same document.
		mb, _ := json.Marshal(in.Map())
		var viaMap map[string]any
		_ = json.Unmarshal(mb, &viaMap)
		if !reflect.DeepEqual(got, viaMap) {
			t.Fatalf("%s: AppendJSON %s; Map %s", name, b, mb)
		}
	}
	common := []string{"subject", "auth", "action", "bucket", "key", "content_length", "content_type", "source_ip", "method", "path", "headers"}
	f("sigv4-put", Input{Subject: "alice", Auth: AuthSigV4, AccessKey: "AKALICE", Action: "s3:PutObject", Bucket: "uploads",
		Key: "alice/r\u00e9port \"1\".pdf", ContentLength: 1048576, ContentType: "application/pdf", SourceIP: "127.0.0.1",
		Method: "PUT", Path: "/uploads/alice/r%C3%A9port%20%221%22.pdf", Headers: map[string]string{"x-amz-meta-owner": "al\x01ice"}},
		append([]string{"access_key"}, common...))
	f("jwt-part", Input{Subject: "bob", Auth: AuthJWT, Claims: map[string]any{"tenant": "t1", "n": 3.0}, Action: "s3:UploadPart",
		Bucket: "b", Key: "k", ContentLength: -1, PartNumber: 3, UploadID: "abc", Method: "PUT", Path: "/b/k"},
		append([]string{"claims", "part_number", "upload_id"}, common...))
	f("sts-put", Input{Subject: "carol", Auth: AuthSTS, AccessKey: "ASIAABCDEFGHIJ234567", Role: "arn:aws:iam::123456789012:role/uploader",
		Claims: map[string]any{"sub": "carol", "groups": []any{"a"}}, Action: "s3:PutObject", Bucket: "b", Key: "carol/k", Method: "PUT", Path: "/b/carol/k"},
		append([]string{"access_key", "role", "claims"}, common...))
	f("none", Input{Auth: AuthNone, Action: "s3:ListParts", Bucket: "b", Key: "k", UploadID: "u", Method: "GET", Path: "/b/k"},
		append([]string{"upload_id"}, common...))
}

// TestInputJSON_Canonical: equal inputs give equal bytes whatever the map
// order, so caches can key on them.
func TestInputJSON_Canonical(t *testing.T) {
	mk := func() Input {
		return Input{Auth: AuthJWT, Claims: map[string]any{"a": 1.0, "b": "x", "c": []any{"y"}, "d": map[string]any{"z": true, "e": 2.0}},
			Headers: map[string]string{"x-amz-meta-a": "1", "x-amz-meta-b": "2", "content-type": "t", "x-amz-tagging": "k=v"}}
	}
	a, b := mk(), mk()
	first := string(a.AppendJSON(nil))
	for i := 0; i < 50; i++ {
		if got := string(b.AppendJSON(nil)); got != first {
			t.Fatalf("unequal encodings of equal inputs:\n%s\n%s", first, got)
		}
	}
}

func TestInputHeader(t *testing.T) {
	f := func(name string, want bool) {
		t.Helper()
		if got := InputHeader([]byte(name)); got != want {
			t.Fatalf("InputHeader(%q) = %v; want %v", name, got, want)
		}
	}
	for _, n := range []string{"x-amz-meta-owner", "x-amz-tagging", "x-amz-acl", "x-amz-storage-class", "content-type", "content-md5", "content-encoding", "content-disposition"} {
		f(n, true)
	}
	for _, n := range []string{"authorization", "cookie", "x-amz-security-token", "x-amz-date", "x-amz-content-sha256", "content-length", "host", "x-api-token", "x-amz-meta"} {
		f(n, false)
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
	}
	for _, v := range m {
		if v != 0 {
			return false
		}
	}
	return true
}

// TestAppendJSONString agrees with encoding/json byte for byte.
func TestAppendJSONString(t *testing.T) {
	f := func(s string) {
		t.Helper()
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Fatalf("appendJSONString(%q) = %s; want %s", s, got, want)
		}
	}
	for _, s := range []string{"", "plain", "a\"b\\c", "tab\tnl\nr\r", "\x00\x01\x1f\x7f", "<a>&b", "r\u00e9sum\u00e9 \u65e5\u672c",
		"bad \xff utf8 \xc0\xaf", "\u2028\u2029", "\U0001F600", "trailing \xe2\x82"} {
		f(s)
	}
}
