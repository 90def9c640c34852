package opa

import (
	"bytes"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/mizuchi-gw/mizuchi/internal/authztest"
	"github.com/mizuchi-gw/mizuchi/policy"
)

// The input value is the document AppendJSON encodes, key for key.
func TestInputValue(t *testing.T) {
	f := func(in *policy.Input) {
		t.Helper()
		want, err := ast.ValueFromReader(bytes.NewReader(in.AppendJSON(nil)))
		if err != nil {
			t.Fatalf("cannot parse AppendJSON: %s", err)
		}
		if got := inputValue(in); got.Compare(want) != 0 {
			t.Fatalf("unexpected input value;\ngot  %s\nwant %s", got, want)
		}
	}
	for _, c := range authztest.PolicyCases() {
		f(&c.In)
	}
	f(&policy.Input{})
	f(&policy.Input{Auth: policy.AuthJWT})
	f(&policy.Input{Auth: policy.AuthSTS})
	f(&policy.Input{Auth: policy.AuthSTS, Subject: "s", AccessKey: "ASIAX", Role: "arn:aws:iam::1:role/r", Claims: map[string]any{"g": []any{"x"}}})
	f(&policy.Input{Auth: policy.AuthJWT, Claims: map[string]any{"n": 1.5, "a": []any{true, nil}, "o": map[string]any{"k": "v"}}})
	f(&policy.Input{Subject: "bad\xffutf8\xfe\xfd", Key: "k\xc3", Headers: map[string]string{"x-amz-meta-\xff": "v\xff"}})
	f(&policy.Input{ContentLength: 1 << 62, PartNumber: 10000, UploadID: "u"})
}
