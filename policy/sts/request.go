package sts

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// STS query API constants.
const (
	// Action is the one action served.
	Action = "AssumeRoleWithWebIdentity"
	// Version is the STS API version SDKs send.
	Version = "2011-06-15"
	// MaxRequestSize bounds query plus body of one STS request; the
	// gateway should buffer no more (a WebIdentityToken is at most 20000
	// bytes).
	MaxRequestSize = 64 << 10

	minDuration         = 900 * time.Second   // AWS: DurationSeconds >= 900
	maxDuration         = 43200 * time.Second // AWS: DurationSeconds <= 43200
	defaultDuration     = time.Hour           // AWS: DurationSeconds default 3600
	minTokenLen         = 4                   // AWS WebIdentityToken length 4..20000
	maxTokenLen         = 20000
	minRoleARNLen       = 20 // AWS RoleArn length 20..2048
	maxRoleARNLen       = 2048
	minSessionNameLen   = 2 // AWS RoleSessionName [\w+=,.@-]{2,64}
	maxSessionNameLen   = 64
	sessionNamePattern  = `[\w+=,.@-]*`
	sessionPolicyRefuse = "Session policies (Policy, PolicyArns) are not supported: Mizuchi cannot apply IAM policies; " +
		"scope credentials with the role's routes and key_template instead."
)

// Request is a parsed AssumeRoleWithWebIdentity call.
type Request struct {
	WebIdentityToken []byte
	RoleARN          string
	RoleSessionName  string
	// Duration is DurationSeconds, 900s to 12h; 0 when not given (Assume
	// then uses 1h, capped by the role's max_duration_seconds).
	Duration time.Duration
}

// ParseRequest reads an STS query call: a GET with its parameters in the
// query, or a POST with an application/x-www-form-urlencoded body (the
// caller checks the Content-Type; query parameters are read too). A
// parameter given twice with different values is refused. Errors are
// always *Error (AWS's codes: MissingAction, InvalidAction,
// ValidationError, InvalidParameterValue).
//
// Refused on purpose: ProviderId (OAuth 2.0 access tokens; only OpenID
// Connect ID tokens are verified here) and session policies (Policy,
// PolicyArns.member.N), which Mizuchi could not apply. A missing Version is
// accepted; another Version than 2011-06-15 is InvalidAction.
func ParseRequest(method string, query, body []byte) (*Request, error) {
	if method != http.MethodGet && method != http.MethodPost {
		return nil, newError(CodeInvalidAction, http.StatusBadRequest,
			"STS requests are GET or POST, not "+strconv.Quote(method)+".", "")
	}
	if len(query)+len(body) > MaxRequestSize {
		return nil, newError(CodeInvalidParameterValue, http.StatusBadRequest,
			"The request's parameters exceed 64 KiB.", "")
	}
	params := url.Values{}
	for _, src := range [][]byte{query, body} {
		if len(src) == 0 {
			continue
		}
		vs, err := url.ParseQuery(string(src))
		if err != nil {
			return nil, newError(CodeInvalidParameterValue, http.StatusBadRequest,
				"The request's parameters are not valid application/x-www-form-urlencoded.", err.Error())
		}
		for k, v := range vs {
			params[k] = append(params[k], v...)
		}
	}
	get := func(name string) (string, *Error) {
		v := params[name]
		for _, x := range v[min(1, len(v)):] {
			if x != v[0] {
				return "", newError(CodeInvalidParameterValue, http.StatusBadRequest,
					"The parameter "+name+" is given more than once with different values.", "")
			}
		}
		if len(v) == 0 {
			return "", nil
		}
		return v[0], nil
	}
	one := func(name string) string {
		v, _ := get(name)
		return v
	}
	for _, name := range []string{"Action", "Version", "WebIdentityToken", "RoleArn", "RoleSessionName", "DurationSeconds", "ProviderId", "Policy"} {
		if _, e := get(name); e != nil {
			return nil, e
		}
	}
	switch action := one("Action"); {
	case action == "":
		return nil, newError(CodeMissingAction, http.StatusBadRequest, "Missing Action", "")
	case action != Action || (one("Version") != "" && one("Version") != Version):
		v := one("Version")
		if v == "" {
			v = Version
		}
		return nil, newError(CodeInvalidAction, http.StatusBadRequest,
			"Could not find operation "+action+" for version "+v+" (Mizuchi serves only "+Action+")", "")
	}
	if _, ok := params["ProviderId"]; ok {
		return nil, newError(CodeInvalidParameterValue, http.StatusBadRequest,
			"ProviderId is for OAuth 2.0 access tokens; Mizuchi accepts OpenID Connect ID tokens only: omit ProviderId.", "")
	}
	for k := range params {
		if k == "Policy" || strings.HasPrefix(k, "PolicyArns.") || k == "PolicyArns" {
			return nil, validationError(sessionPolicyRefuse)
		}
	}
	return parseParams(one)
}

// parseParams checks the operation's parameters with AWS's constraints and
// messages.
func parseParams(one func(string) string) (*Request, error) {
	r := &Request{
		WebIdentityToken: []byte(one("WebIdentityToken")),
		RoleARN:          one("RoleArn"),
		RoleSessionName:  one("RoleSessionName"),
	}
	switch {
	case r.RoleARN == "":
		return nil, notNull("roleArn")
	case r.RoleSessionName == "":
		return nil, notNull("roleSessionName")
	case len(r.WebIdentityToken) == 0:
		return nil, notNull("webIdentityToken")
	case len(r.RoleARN) < minRoleARNLen:
		return nil, constraint("roleArn", r.RoleARN, "Member must have length greater than or equal to 20")
	case len(r.RoleARN) > maxRoleARNLen:
		return nil, constraint("roleArn", "", "Member must have length less than or equal to 2048")
	case len(r.RoleSessionName) < minSessionNameLen:
		return nil, constraint("roleSessionName", r.RoleSessionName, "Member must have length greater than or equal to 2")
	case len(r.RoleSessionName) > maxSessionNameLen:
		return nil, constraint("roleSessionName", "", "Member must have length less than or equal to 64")
	case !validSessionName(r.RoleSessionName):
		return nil, constraint("roleSessionName", r.RoleSessionName, "Member must satisfy regular expression pattern: "+sessionNamePattern)
	case len(r.WebIdentityToken) < minTokenLen:
		// The token's value is never echoed.
		return nil, constraint("webIdentityToken", "", "Member must have length greater than or equal to 4")
	case len(r.WebIdentityToken) > maxTokenLen:
		return nil, constraint("webIdentityToken", "", "Member must have length less than or equal to 20000")
	}
	if d := one("DurationSeconds"); d != "" {
		n, err := strconv.ParseInt(d, 10, 64)
		switch {
		case err != nil:
			return nil, validationError("Value '" + d + "' at 'durationSeconds' failed to satisfy constraint: Member must be an integer")
		case n < int64(minDuration/time.Second):
			return nil, constraint("durationSeconds", d, "Member must have value greater than or equal to 900")
		case n > int64(maxDuration/time.Second):
			return nil, constraint("durationSeconds", d, "Member must have value less than or equal to 43200")
		}
		r.Duration = time.Duration(n) * time.Second
	}
	return r, nil
}

func notNull(field string) *Error {
	return validationError("1 validation error detected: Value null at '" + field + "' failed to satisfy constraint: Member must not be null")
}

// constraint is AWS's ValidationError message; value is quoted unless
// empty (too long to echo, or secret).
func constraint(field, value, rule string) *Error {
	v := "Value"
	if value != "" {
		v = "Value '" + value + "'"
	}
	return validationError("1 validation error detected: " + v + " at '" + field + "' failed to satisfy constraint: " + rule)
}

// validSessionName reports whether s matches [\w+=,.@-]*.
func validSessionName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("_+=,.@-", c) >= 0) {
			return false
		}
	}
	return true
}
