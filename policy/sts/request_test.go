package sts

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestParseRequest_Success(t *testing.T) {
	f := func(method, query, body string, want Request) {
		t.Helper()
		got, err := ParseRequest(method, []byte(query), []byte(body))
		if err != nil {
			t.Fatalf("unexpected error: %s", err)
		}
		if string(got.WebIdentityToken) != string(want.WebIdentityToken) || got.RoleARN != want.RoleARN ||
			got.RoleSessionName != want.RoleSessionName || got.Duration != want.Duration {
			t.Fatalf("unexpected request; got %+v; want %+v", got, want)
		}
	}
	base := Request{WebIdentityToken: []byte("eyJ.a.b"), RoleARN: roleARN, RoleSessionName: "app1"}
	form := "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&WebIdentityToken=eyJ.a.b&RoleArn=" +
		url.QueryEscape(roleARN) + "&RoleSessionName=app1"

	// POST form, as the SDKs send it; GET query; both; no Version.
	f("POST", "", form, base)
	f("GET", form, "", base)
	f("POST", "Action=AssumeRoleWithWebIdentity&Version=2011-06-15", form, base)
	f("GET", strings.Replace(form, "&Version=2011-06-15", "", 1), "", base)
	// The same value twice is fine.
	f("POST", "RoleSessionName=app1", form, base)

	d := base
	d.Duration = 900 * time.Second
	f("POST", "", form+"&DurationSeconds=900", d)
	d.Duration = 12 * time.Hour
	f("POST", "", form+"&DurationSeconds=43200", d)

	// Every character of [\w+=,.@-], at both lengths.
	n := base
	n.RoleSessionName = "aZ09_+=,.@-"
	f("POST", "", strings.Replace(form, "app1", url.QueryEscape(n.RoleSessionName), 1), n)
	n.RoleSessionName = "ab"
	f("POST", "", strings.Replace(form, "app1", "ab", 1), n)
	n.RoleSessionName = strings.Repeat("x", 64)
	f("POST", "", strings.Replace(form, "app1", n.RoleSessionName, 1), n)
	// Unknown parameters are ignored.
	f("POST", "", form+"&Tags.member.1.Key=x", base)
}

func TestParseRequest_Failure(t *testing.T) {
	f := func(method, query, body, code, msg string) {
		t.Helper()
		_, err := ParseRequest(method, []byte(query), []byte(body))
		e, ok := err.(*Error)
		if !ok {
			t.Fatalf("unexpected error type %T (%v); want *Error", err, err)
		}
		if e.Code != code || e.Status != 400 || !strings.Contains(e.Message, msg) {
			t.Fatalf("unexpected error; got %s %d %q; want %s 400 containing %q", e.Code, e.Status, e.Message, code, msg)
		}
	}
	form := "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&WebIdentityToken=eyJ.a.b&RoleArn=" +
		url.QueryEscape(roleARN) + "&RoleSessionName=app1"
	without := func(param string) string {
		vs, _ := url.ParseQuery(form)
		vs.Del(param)
		return vs.Encode()
	}
	with := func(param, value string) string {
		vs, _ := url.ParseQuery(form)
		vs.Set(param, value)
		return vs.Encode()
	}

	f("PUT", "", form, CodeInvalidAction, `not "PUT"`)
	f("POST", "", strings.Repeat("x", MaxRequestSize+1), CodeInvalidParameterValue, "exceed 64 KiB")
	f("POST", "", form+"&x=%zz", CodeInvalidParameterValue, "not valid application/x-www-form-urlencoded")
	f("POST", "", form+";x=1", CodeInvalidParameterValue, "not valid")
	f("POST", "RoleSessionName=app2", form, CodeInvalidParameterValue, "RoleSessionName is given more than once with different values")

	// Action and Version.
	f("POST", "", without("Action"), CodeMissingAction, "Missing Action")
	f("POST", "", with("Action", "AssumeRole"), CodeInvalidAction, "Could not find operation AssumeRole for version 2011-06-15")
	f("POST", "", with("Version", "2010-01-01"), CodeInvalidAction, "Could not find operation AssumeRoleWithWebIdentity for version 2010-01-01")

	// Refused on purpose.
	f("POST", "", form+"&ProviderId=www.amazon.com", CodeInvalidParameterValue, "omit ProviderId")
	f("POST", "", form+"&Policy=%7B%7D", CodeValidation, "Session policies (Policy, PolicyArns) are not supported")
	f("POST", "", form+"&PolicyArns.member.1.arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2Fx", CodeValidation, "Session policies")

	// Missing and malformed parameters, with AWS's messages.
	f("POST", "", without("RoleArn"), CodeValidation, "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null")
	f("POST", "", without("RoleSessionName"), CodeValidation, "Value null at 'roleSessionName'")
	f("POST", "", without("WebIdentityToken"), CodeValidation, "Value null at 'webIdentityToken'")
	f("POST", "", with("RoleArn", "arn:short"), CodeValidation, "Value 'arn:short' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20")
	f("POST", "", with("RoleArn", "arn:"+strings.Repeat("x", 2045)), CodeValidation, "Member must have length less than or equal to 2048")
	f("POST", "", with("RoleSessionName", "a"), CodeValidation, "Member must have length greater than or equal to 2")
	f("POST", "", with("RoleSessionName", strings.Repeat("x", 65)), CodeValidation, "Member must have length less than or equal to 64")
	for _, bad := range []string{"app 1", "app/1", "app:1", "ä1", "app\n"} {
		f("POST", "", with("RoleSessionName", bad), CodeValidation, `at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*`)
	}
	f("POST", "", with("WebIdentityToken", "abc"), CodeValidation, "Value at 'webIdentityToken' failed to satisfy constraint: Member must have length greater than or equal to 4")
	f("POST", "", with("WebIdentityToken", strings.Repeat("x", 20001)), CodeValidation, "less than or equal to 20000")
	f("POST", "", with("DurationSeconds", "899"), CodeValidation, "Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900")
	f("POST", "", with("DurationSeconds", "-1"), CodeValidation, "greater than or equal to 900")
	f("POST", "", with("DurationSeconds", "43201"), CodeValidation, "Member must have value less than or equal to 43200")
	f("POST", "", with("DurationSeconds", "99999999999999999999"), CodeValidation, "Member must be an integer")
	f("POST", "", with("DurationSeconds", "1h"), CodeValidation, "Value '1h' at 'durationSeconds' failed to satisfy constraint: Member must be an integer")
}
