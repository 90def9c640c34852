package sts

import (
	"encoding/xml"
	"testing"
	"time"
)

func TestAppendResponseXML(t *testing.T) {
	c := &Credentials{
		AccessKeyID: "ASIAABCDEFGHIJ234567", SecretAccessKey: "s/k+", SessionToken: "tok-_",
		Expiration: time.Date(2026, 3, 7, 10, 5, 1, 0, time.FixedZone("X", 3600)),
		Subject:    "a<b>&'\"", AssumedRoleID: "AROAX:app1", AssumedRoleARN: "arn:aws:sts::1:assumed-role/r/app1",
		Provider: "https://idp.example.com", Audience: "mizuchi",
	}
	got := string(AppendResponseXML([]byte("x"), c, []byte("req-1")))
	want := `x<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>` +
		`<Credentials><AccessKeyId>ASIAABCDEFGHIJ234567</AccessKeyId><SecretAccessKey>s/k+</SecretAccessKey>` +
		`<SessionToken>tok-_</SessionToken><Expiration>2026-03-07T09:05:01Z</Expiration></Credentials>` +
		`<SubjectFromWebIdentityToken>a&lt;b&gt;&amp;&apos;&quot;</SubjectFromWebIdentityToken>` +
		`<AssumedRoleUser><AssumedRoleId>AROAX:app1</AssumedRoleId><Arn>arn:aws:sts::1:assumed-role/r/app1</Arn></AssumedRoleUser>` +
		`<Provider>https://idp.example.com</Provider><Audience>mizuchi</Audience>` +
		`</AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>` +
		`</AssumeRoleWithWebIdentityResponse>`
	if got != want {
		t.Fatalf("unexpected XML;\ngot  %s\nwant %s", got, want)
	}
	// Without provider and audience the elements are left out.
	c.Provider, c.Audience = "", ""
	var r struct {
		Result struct {
			Provider *string `xml:"Provider"`
			Subject  string  `xml:"SubjectFromWebIdentityToken"`
		} `xml:"AssumeRoleWithWebIdentityResult"`
	}
	if err := xml.Unmarshal(AppendResponseXML(nil, c, nil), &r); err != nil || r.Result.Provider != nil || r.Result.Subject != c.Subject {
		t.Fatalf("unexpected parse: %v %+v", err, r)
	}
}

func TestAppendErrorXML(t *testing.T) {
	f := func(e *Error, want string) {
		t.Helper()
		got := string(AppendErrorXML(nil, e, []byte("r&1")))
		want = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + want
		if got != want {
			t.Fatalf("unexpected XML;\ngot  %s\nwant %s", got, want)
		}
	}
	f(accessDenied("secret reason"), `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>`+
		`<Code>AccessDenied</Code><Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message></Error>`+
		`<RequestId>r&amp;1</RequestId></ErrorResponse>`)
	f(&Error{Code: "InternalFailure", Message: "x<y", Status: 500}, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Receiver</Type>`+
		`<Code>InternalFailure</Code><Message>x&lt;y</Message></Error><RequestId>r&amp;1</RequestId></ErrorResponse>`)
}

// TestAppendEscaped: the output is always well-formed XML that reads back
// as the input, with characters XML cannot carry replaced by U+FFFD.
func TestAppendEscaped(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		got := string(appendEscaped(nil, in))
		if got != want {
			t.Fatalf("unexpected escape of %q; got %q; want %q", in, got, want)
		}
		var v struct {
			S string `xml:",chardata"`
		}
		if err := xml.Unmarshal([]byte("<a>"+got+"</a>"), &v); err != nil {
			t.Fatalf("escaped %q does not parse: %s", in, err)
		}
	}
	f("", "")
	f("plain ascii 09", "plain ascii 09")
	f("<&>\"'", "&lt;&amp;&gt;&quot;&apos;")
	f("tab\tlf\ncr\r", "tab\tlf\ncr&#13;")
	f("nul\x00 bel\x07 esc\x1b", "nul\uFFFD bel\uFFFD esc\uFFFD")
	f("日本語 ✓ \U0001F600", "日本語 ✓ \U0001F600")
	f("bad\xff\xfe utf8 \xe3\x81", "bad\uFFFD\uFFFD utf8 \uFFFD\uFFFD")
	f("\uFFFE\uFFFF\uFFFD", "\uFFFD\uFFFD\uFFFD")
	f("\u0085\u00a0", "\u0085\u00a0")
}
