package fuzz

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/mizuchi-gw/mizuchi/policy"
)

// FuzzAuthzInput builds decision inputs from arbitrary strings and checks
// AppendJSON against encoding/json: the output parses, and it decodes to
// the same document as json.Marshal(in.Map()).
func FuzzAuthzInput(f *testing.F) {
	f.Add("alice", "alice/report.pdf", "application/pdf", "x-amz-meta-owner", "al\"ice", int64(1024), 3)
	f.Add("", "\xff\xfe", "<script>", "content-disposition", "\u2028\x00", int64(-1), 0)
	f.Add("日本", "a//b", "", "x-amz-tagging", "k=v&k2=v2", int64(0), 10000)
	f.Fuzz(func(t *testing.T, subject, key, ctype, hname, hval string, n int64, part int) {
		if len(subject)+len(key)+len(ctype)+len(hname)+len(hval) > 4096 {
			return
		}
		in := policy.Input{Subject: subject, Auth: policy.AuthJWT, Claims: map[string]any{"sub": subject, "k": key},
			Action: "s3:UploadPart", Bucket: "b", Key: key, ContentLength: n, ContentType: ctype, PartNumber: part,
			UploadID: hval, SourceIP: "127.0.0.1", Method: "PUT", Path: "/b/" + key, Headers: map[string]string{hname: hval}}
		got := in.AppendJSON(nil)
		var a, b any
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatalf("AppendJSON is not JSON: %v\n%q", err, got)
		}
		want, err := json.Marshal(in.Map())
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(want, &b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("AppendJSON and encoding/json disagree:\n%s\n%s", got, want)
		}
	})
}
