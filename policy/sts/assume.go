package sts

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mizuchi-gw/mizuchi/policy"
	"github.com/mizuchi-gw/mizuchi/policy/keytemplate"
)

const (
	// MaxClaimsSize bounds the JSON of the claims a session carries. A
	// token whose claims (without droppedClaims) take more is refused with
	// PackedPolicyTooLarge: a session never holds a silently cut claim set.
	MaxClaimsSize = 2 << 10
	// MaxSubjectLen bounds the subject a session carries (OIDC: 255 ASCII
	// characters); longer is InvalidIdentityToken.
	MaxSubjectLen = 1 << 10
)

// droppedClaims describe the web identity token itself, not the session:
// they are not sealed (the session has its own expiry).
var droppedClaims = []string{"exp", "iat", "nbf", "jti", "nonce", "at_hash", "c_hash"}

// Assume issues credentials for req, whose WebIdentityToken verified as
// ident (JWT().Verify), at now. It checks, in order: the role exists
// (else AccessDenied), the token carries every required claim (else
// AccessDenied), DurationSeconds is within the role's max_duration_seconds
// (else ValidationError), the key template can be filled (else
// AccessDenied), and the claims fit in MaxClaimsSize (else
// PackedPolicyTooLarge). The credentials expire after the requested
// duration (default 1h, capped by the role's maximum), in whole seconds,
// whatever the web identity token's own expiry, as with AWS.
func (iss *Issuer) Assume(req *Request, ident *policy.Identity, now time.Time) (*Credentials, *Error) {
	if ident == nil || ident.Subject == "" {
		return nil, invalidIdentity("The web identity token has no subject.")
	}
	if len(ident.Subject) > MaxSubjectLen {
		return nil, invalidIdentity("The web identity token's subject is longer than 1024 bytes.")
	}
	r := iss.roles[req.RoleARN]
	if r == nil {
		return nil, accessDenied("no role " + strconv.Quote(trimForLog(req.RoleARN)))
	}
	for _, rule := range r.required {
		if !claimMatches(ident.Claims[rule.name], rule.values) {
			return nil, accessDenied("role " + strconv.Quote(trimForLog(r.arn)) + ": claim " + strconv.Quote(rule.name) + " missing or not one of the required values")
		}
	}
	d := req.Duration
	switch {
	case d == 0:
		d = min(defaultDuration, r.maxDuration)
	case d > r.maxDuration:
		return nil, validationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	case d < minDuration:
		return nil, constraint("durationSeconds", strconv.FormatInt(int64(d/time.Second), 10), "Member must have value greater than or equal to 900")
	}
	var prefix []byte
	if r.prefix != nil {
		var err error
		prefix, err = r.prefix.Append(nil, &keytemplate.Vars{Subject: ident.Subject, Claims: ident.Claims, Now: now})
		if err != nil || len(prefix) > keytemplate.MaxKeyLen {
			return nil, accessDenied("role " + strconv.Quote(trimForLog(r.arn)) + ": the token's subject or claims cannot fill key_template")
		}
	}
	claims, e := sessionClaims(ident.Claims)
	if e != nil {
		return nil, e
	}
	s := &sealed{
		expires:     now.Unix() + int64(d/time.Second),
		subject:     ident.Subject,
		role:        r.arn,
		sessionName: req.RoleSessionName,
		prefix:      string(prefix),
		claims:      claims,
		routes:      r.routes,
	}
	rand.Read(s.akid[:])
	rand.Read(s.secret[:])
	token, err := iss.seal(s)
	if err != nil {
		return nil, newError(CodePackedPolicyTooLarge, http.StatusBadRequest,
			"The session (role ARN, subject, routes, key prefix and claims) is too large to seal.", err.Error())
	}
	var ak [AccessKeyIDLen]byte
	var sk [SecretKeyLen]byte
	return &Credentials{
		AccessKeyID:     string(appendAccessKeyID(ak[:0], &s.akid)),
		SecretAccessKey: string(encodeSecret(&sk, &s.secret)),
		SessionToken:    string(token),
		Expiration:      time.Unix(s.expires, 0).UTC(),
		Subject:         ident.Subject,
		AssumedRoleID:   r.roleID + ":" + req.RoleSessionName,
		AssumedRoleARN:  r.assumedARN + req.RoleSessionName,
		Provider:        stringClaim(ident.Claims["iss"]),
		Audience:        iss.pickAudience(ident.Claims["aud"]),
	}, nil
}

// sessionClaims is the JSON of claims without droppedClaims ("" when
// nothing is left): encoding/json sorts the keys, so equal claims always
// seal the same bytes.
func sessionClaims(claims map[string]any) (string, *Error) {
	keep := make(map[string]any, len(claims))
	for k, v := range claims {
		if !slices.Contains(droppedClaims, k) {
			keep[k] = v
		}
	}
	if len(keep) == 0 {
		return "", nil
	}
	b, err := json.Marshal(keep)
	if err != nil {
		return "", invalidIdentity("The web identity token's claims cannot be encoded.")
	}
	if len(b) > MaxClaimsSize {
		return "", newError(CodePackedPolicyTooLarge, http.StatusBadRequest,
			"The web identity token's claims take "+strconv.Itoa(len(b))+" bytes; a session carries at most "+
				strconv.Itoa(MaxClaimsSize)+" bytes of claims.", "")
	}
	return string(b), nil
}

// claimMatches reports whether a claim value satisfies a required_claims
// entry: a string, boolean or number equal (as its JSON text) to one of
// values, or a list with such an element.
func claimMatches(v any, values []string) bool {
	if list, ok := v.([]any); ok {
		for _, e := range list {
			if _, nested := e.([]any); !nested && claimMatches(e, values) {
				return true
			}
		}
		return false
	}
	s, ok := scalarText(v)
	return ok && slices.Contains(values, s)
}

func scalarText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case json.Number:
		return x.String(), true
	}
	return "", false
}

func stringClaim(v any) string {
	s, _ := v.(string)
	return s
}

// pickAudience returns the token's audience: a string aud, else the first
// element of a list aud that is a configured audience, else its first
// string element.
func (iss *Issuer) pickAudience(v any) string {
	list, ok := v.([]any)
	if !ok {
		return stringClaim(v)
	}
	first := ""
	for _, e := range list {
		s, _ := e.(string)
		if slices.Contains(iss.audience, s) {
			return s
		}
		if first == "" {
			first = s
		}
	}
	return first
}

// trimForLog shortens s for a Reason.
func trimForLog(s string) string {
	if len(s) > 64 {
		return strings.ToValidUTF8(s[:64], "") + "…"
	}
	return s
}
