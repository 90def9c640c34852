package config

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Checks of auth and authz. Requirements (keys, URLs, policies) apply only
// when enabled; the engines themselves (policies that compile, servers that
// answer) are checked when the gateway builds them.

var jwtAlgorithms = []string{
	"HS256", "HS384", "HS512", "RS256", "RS384", "RS512",
	"PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
}

func validateAuth(v *validator, p string, a *Auth) {
	if a.Enabled && a.JWT == nil && a.SigV4 == nil {
		v.errorf(p, "enabled, but neither jwt nor sigv4 is configured")
	}
	if j := a.JWT; j != nil {
		validateJWT(v, p+".jwt", j, a.Enabled)
	}
	if s := a.SigV4; s != nil {
		sp := p + ".sigv4"
		if (s.AccessKey == "") != (s.SecretKey == "") {
			v.errorf(sp, "access_key and secret_key must be set together")
		}
		keys := map[string]bool{}
		if s.AccessKey != "" {
			keys[s.AccessKey] = true
		}
		for i, cr := range s.Credentials {
			cp := fmt.Sprintf("%s.credentials[%d]", sp, i)
			if cr.AccessKey == "" || cr.SecretKey == "" {
				v.errorf(cp, "access_key and secret_key are required")
			} else if keys[cr.AccessKey] {
				v.errorf(cp+".access_key", "duplicate access key")
			}
			keys[cr.AccessKey] = true
		}
		if a.Enabled && len(keys) == 0 {
			v.errorf(sp, "enabled, but no credentials: set access_key/secret_key or credentials")
		}
		if s.Service == "" {
			v.errorf(sp+".service", "must not be empty")
		}
		positive(v, sp+".max_clock_skew_seconds", s.MaxClockSkew)
	}
}

// validateJWT checks a jwt section at path jp (a route's auth.jwt or
// sts.jwt); keys are required only when enabled.
func validateJWT(v *validator, jp string, j *JWT, enabled bool) {
	hmac, asym := false, false
	for _, alg := range j.Algorithms {
		switch {
		case !slices.Contains(jwtAlgorithms, alg):
			v.errorf(jp+".algorithms", "unsupported algorithm %q: want one of %s", alg, strings.Join(jwtAlgorithms, ", "))
		case strings.HasPrefix(alg, "HS"):
			hmac = true
		default:
			asym = true
		}
	}
	if j.PublicKey != "" && j.PublicKeyFile != "" {
		v.errorf(jp, "public_key and public_key_file are exclusive")
	}
	checkFile(v, jp+".public_key_file", j.PublicKeyFile)
	if j.JWKSURL != "" && !isHTTPURL(j.JWKSURL) {
		v.errorf(jp+".jwks_url", "must be an http:// or https:// URL")
	} else if strings.HasPrefix(strings.ToLower(j.JWKSURL), "http://") && !j.JWKSAllowHTTP {
		v.errorf(jp+".jwks_url", "must be an https:// URL (keys fetched over http:// can be replaced on the way; set jwks_allow_http: true to accept it)")
	}
	if enabled && hmac && j.Secret == "" {
		v.errorf(jp+".secret", "is required for HS* algorithms")
	}
	if enabled && asym && j.PublicKey == "" && j.PublicKeyFile == "" && j.JWKSURL == "" {
		v.errorf(jp, "RS/PS/ES/EdDSA algorithms need public_key, public_key_file or jwks_url")
	}
	positive(v, jp+".jwks_min_refresh_seconds", j.MinRefresh)
	if j.SubjectClaim == "" {
		v.errorf(jp+".subject_claim", "must not be empty")
	}
	for i, ts := range j.TokenSources {
		tp := fmt.Sprintf("%s.token_sources[%d]", jp, i)
		switch ts.Type {
		case "bearer":
		case "query", "header", "cookie":
			if ts.Name == "" {
				v.errorf(tp+".name", "is required for type %q", ts.Type)
			}
		default:
			v.errorf(tp+".type", "invalid type %q: want bearer, query, header or cookie", ts.Type)
		}
	}
}

func validateAuthz(v *validator, p string, a *Authz) {
	switch a.FailMode {
	case "", FailClosed, FailOpen:
	default:
		v.errorf(p+".fail_mode", "invalid fail_mode %q: want closed or open", a.FailMode)
	}
	top := a.hasTopLevel()
	if top {
		// The original form: validated at its own key paths.
		validateAuthzEngine(v, p, a.Enabled, a.Type, a.OPA, a.OpenFGA)
	}
	switch {
	case top && !a.topLevelEngine():
		v.errorf(p+".engines", "is exclusive with type, opa and openfga: list every engine under engines")
	case !top:
		for i := range a.Engines {
			e := &a.Engines[i]
			ep := fmt.Sprintf("%s.engines[%d]", p, i)
			if e.OPA != nil && e.OpenFGA != nil {
				v.errorf(ep, "has both opa and openfga: one engine per entry")
			}
			validateAuthzEngine(v, ep, a.Enabled, e.Type, e.OPA, e.OpenFGA)
		}
	}
	if a.Enabled && len(a.Engines) == 0 {
		v.errorf(p, "enabled, but neither opa nor openfga is configured")
	}
}

// topLevelEngine reports whether Engines is exactly the top-level engine
// (as finish makes it), rather than a list given beside it.
func (a *Authz) topLevelEngine() bool {
	if len(a.Engines) != 1 {
		return false
	}
	e := &a.Engines[0]
	return e.Type == a.Type && e.OPA == a.OPA && e.OpenFGA == a.OpenFGA
}

// validateAuthzEngine checks one engine at path p; requirements (policy,
// url, store) apply only when authorization is enabled.
func validateAuthzEngine(v *validator, p string, enabled bool, typ string, o *OPA, f *OpenFGA) {
	switch typ {
	case "":
		if enabled {
			v.errorf(p, "neither opa nor openfga is configured")
		}
	case AuthzOPA, AuthzOPAServer:
		if o == nil {
			v.errorf(p+".opa", "is required for type %q", typ)
		}
	case AuthzOpenFGA:
		if f == nil {
			v.errorf(p+".openfga", "is required for type %q", typ)
		}
	default:
		v.errorf(p+".type", "invalid type %q: want opa, opa_server or openfga", typ)
	}
	if o != nil {
		op := p + ".opa"
		switch {
		case o.Policy != "" && o.PolicyFile != "":
			v.errorf(op, "policy and policy_file are exclusive")
		case o.Bundle != "" && (o.Policy != "" || o.PolicyFile != ""):
			v.errorf(op, "bundle is exclusive with policy and policy_file")
		}
		checkFile(v, op+".policy_file", o.PolicyFile)
		if o.Bundle != "" {
			if _, err := os.Stat(o.Bundle); err != nil {
				v.errorf(op+".bundle", "cannot use %q: %v", o.Bundle, err)
			}
		}
		if o.URL != "" && !isHTTPURL(o.URL) {
			v.errorf(op+".url", "must be an http:// or https:// URL")
		}
		if enabled && typ == AuthzOPA && o.Policy == "" && o.PolicyFile == "" && o.Bundle == "" {
			v.errorf(op, "type opa needs policy, policy_file or bundle")
		}
		if enabled && typ == AuthzOPAServer && o.URL == "" {
			v.errorf(op+".url", "is required for type opa_server")
		}
		if strings.ContainsAny(o.BearerToken, "\r\n") {
			v.errorf(op+".bearer_token", "must be one line")
		}
		if o.Query == "" {
			v.errorf(op+".query", "must not be empty")
		}
		positive(v, op+".timeout_ms", o.Timeout)
		if o.CacheMaxEntries < 0 {
			v.errorf(op+".cache_max_entries", "must not be negative")
		}
	}
	if f != nil {
		fp := p + ".openfga"
		if f.APIURL == "" {
			if enabled && typ == AuthzOpenFGA {
				v.errorf(fp+".api_url", "is required")
			}
		} else if !isHTTPURL(f.APIURL) {
			v.errorf(fp+".api_url", "must be an http:// or https:// URL")
		}
		if enabled && typ == AuthzOpenFGA && f.StoreID == "" {
			v.errorf(fp+".store_id", "is required")
		}
		for _, x := range []struct{ key, val string }{{"relation", f.Relation}, {"object_type", f.ObjectType}, {"user_type", f.UserType}} {
			if x.val == "" || strings.ContainsAny(x.val, ":#@{} \t") {
				v.errorf(fp+"."+x.key, "invalid value %q", x.val)
			}
		}
		if err := checkObjectTemplate(f.Object); f.Object != "" && err != nil {
			v.errorf(fp+".object", "invalid template %q: %v", f.Object, err)
		}
		if strings.ContainsAny(f.APIToken, "\r\n") {
			v.errorf(fp+".api_token", "must be one line")
		}
		positive(v, fp+".timeout_ms", f.Timeout)
		if f.CacheMaxEntries < 0 {
			v.errorf(fp+".cache_max_entries", "must not be negative")
		}
	}
}

// objectPlaceholders are the placeholders of OpenFGA.Object.
var objectPlaceholders = []string{"{bucket}", "{key}", "{prefix}", "{subject}"}

// checkObjectTemplate checks an OpenFGA object template: "<type>:<id>" with
// a literal type and an id of literal text and placeholders, none of the
// literal text being a character OpenFGA refuses in an object id.
func checkObjectTemplate(s string) error {
	typ, id, ok := strings.Cut(s, ":")
	switch {
	case !ok || typ == "":
		return errors.New(`want "<type>:<id>", like "bucket:{bucket}"`)
	case strings.ContainsAny(typ, "#@{} \t"):
		return fmt.Errorf("invalid object type %q", typ)
	case id == "":
		return errors.New("empty object id")
	}
	for id != "" {
		i := strings.IndexAny(id, "{}:# \t\r\n")
		if i < 0 {
			break
		}
		if id[i] != '{' {
			return fmt.Errorf("character %q not allowed in an object id", id[i])
		}
		j := strings.IndexByte(id[i:], '}')
		if j < 0 || !slices.Contains(objectPlaceholders, id[i:i+j+1]) {
			return fmt.Errorf("unknown placeholder at %q: want %s", id[i:], strings.Join(objectPlaceholders, ", "))
		}
		id = id[i+j+1:]
	}
	return nil
}
