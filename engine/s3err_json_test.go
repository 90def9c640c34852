package engine

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"testing"

	"github.com/mizuchi-gw/mizuchi/httpparse"
)

func TestPrefersJSON(t *testing.T) {
	f := func(accept string, want bool) {
		t.Helper()
		if got := prefersJSON([]byte(accept)); got != want {
			t.Fatalf("unexpected preference for Accept %q; got JSON=%v; want %v", accept, got, want)
		}
	}
	f("", false)
	f("*/*", false)
	f("application/*", false)
	f("application/xml", false)
	f("text/html", false)
	f("application/json", true)
	f("Application/JSON", true)
	f(" application/json ; charset=utf-8", true)
	f("application/json, */*;q=0.1", true)
	f("text/html, application/json;q=0.9, */*;q=0.8", true)
	f("application/xml, application/json", false)       // a tie keeps XML
	f("application/json;q=0.5, application/xml", false) // XML ranked higher
	f("application/json;q=0.9, text/xml;q=0.8", true)
	f("application/json;q=0", false)
	f("application/json;q=0.000", false)
	f("application/json;q=bogus", false)
	f("application/json;q=1.5", false)
	f("application/json;q=0.001", true)
	f("application/jsonx", false)
}

// The JSON error carries the XML error's fields, extra elements included,
// under the same head (status, request id, CORS lines, Connection).
func TestAppendErrorJSON(t *testing.T) {
	id := []byte("0123456789ABCDEF")
	extra := []byte("<AWSAccessKeyId>AKID</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256\n&lt;x&gt; &amp; &quot;q&quot;</StringToSign>")
	cors := []byte("Access-Control-Allow-Origin: http://app.test\r\n")
	res := []byte("/uploads/a\"b<c>.bin")
	for _, asJSON := range []bool{false, true} {
		out := appendErrorResponseAs(nil, asJSON, "SignatureDoesNotMatch", 403, "The signature \"x\" <does> not match.", id, res, true, cors, extra)
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(out)), nil)
		if err != nil {
			t.Fatalf("json=%v: cannot read the response: %v\n%s", asJSON, err, out)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 403 || resp.Header.Get("x-amz-request-id") != string(id) || !resp.Close ||
			resp.Header.Get("Access-Control-Allow-Origin") != "http://app.test" {
			t.Fatalf("json=%v: unexpected head: %d %v", asJSON, resp.StatusCode, resp.Header)
		}
		var e struct {
			Code, Message, Resource, RequestId, AWSAccessKeyId, StringToSign string
		}
		wantCT := "application/xml"
		if asJSON {
			wantCT = "application/json"
			err = json.Unmarshal(body, &e)
		} else {
			err = xml.Unmarshal(body, &e)
		}
		if err != nil || resp.Header.Get("Content-Type") != wantCT {
			t.Fatalf("json=%v: unexpected body (%s) %s: %v", asJSON, resp.Header.Get("Content-Type"), body, err)
		}
		if e.Code != "SignatureDoesNotMatch" || e.Message != "The signature \"x\" <does> not match." || e.Resource != string(res) ||
			e.RequestId != string(id) || e.AWSAccessKeyId != "AKID" || e.StringToSign != "AWS4-HMAC-SHA256\n<x> & \"q\"" {
			t.Fatalf("json=%v: unexpected fields: %+v", asJSON, e)
		}
	}
	// HEAD answers carry no body, JSON or not.
	out := withoutBody(appendErrorResponseAs(nil, true, "AccessDenied", 403, "no", id, nil, false, nil, nil))
	if !bytes.HasSuffix(out, []byte("\r\n\r\n")) || bytes.Contains(out, []byte(`"Code"`)) {
		t.Fatalf("unexpected HEAD answer %q", out)
	}
}

func TestCredentialKey(t *testing.T) {
	f := func(head, want string) {
		t.Helper()
		var req httpparse.Request
		if _, err := req.Parse([]byte(head)); err != nil {
			t.Fatal(err)
		}
		if got := string(credentialKey(&req)); got != want {
			t.Fatalf("unexpected key id; got %q; want %q", got, want)
		}
	}
	f("PUT /b/k HTTP/1.1\r\nHost: h\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKID1/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=abc\r\n\r\n", "AKID1")
	f("PUT /b/k?X-Amz-Credential=AKID2%2F20260101%2Fus-east-1&X-Amz-Signature=abc HTTP/1.1\r\nHost: h\r\n\r\n", "AKID2")
	f("PUT /b/k?X-Amz-Credential=AKID3/20260101 HTTP/1.1\r\nHost: h\r\n\r\n", "AKID3")
	f("PUT /b/k HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer eyJhbGciOi.x.y\r\n\r\n", "")
	f("PUT /b/k HTTP/1.1\r\nHost: h\r\n\r\n", "")
}
