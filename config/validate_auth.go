package config

import (
	"fmt"
	"slices"
	"strings"
)

// Structural checks of auth and authz: what this build can check without
// implementing them. Requirements (keys, URLs) apply only when enabled.

var jwtAlgorithms = []string{
	"HS256", "HS384", "HS512", "RS256", "RS384", "RS512",
	"PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
}

func validateAuth(v *validator, p string, a *Auth) {
	if a.Enabled && a.JWT == nil && a.SigV4 == nil {
		v.errorf(p, "enabled, but neither jwt nor sigv4 is configured")
	}
	if j := a.JWT; j != nil {
		jp := p + ".jwt"
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
		}
		if a.Enabled && hmac && j.Secret == "" {
			v.errorf(jp+".secret", "is required for HS* algorithms")
		}
		if a.Enabled && asym && j.PublicKey == "" && j.PublicKeyFile == "" && j.JWKSURL == "" {
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

func validateAuthz(v *validator, p string, a *Authz) {
	switch a.Type {
	case "":
		if a.Enabled {
			v.errorf(p, "enabled, but neither opa nor openfga is configured")
		}
	case AuthzOPA, AuthzOPAServer:
		if a.OPA == nil {
			v.errorf(p+".opa", "is required for type %q", a.Type)
		}
	case AuthzOpenFGA:
		if a.OpenFGA == nil {
			v.errorf(p+".openfga", "is required for type %q", a.Type)
		}
	default:
		v.errorf(p+".type", "invalid type %q: want opa, opa_server or openfga", a.Type)
	}
	if o := a.OPA; o != nil {
		op := p + ".opa"
		if o.Policy != "" && o.PolicyFile != "" {
			v.errorf(op, "policy and policy_file are exclusive")
		}
		checkFile(v, op+".policy_file", o.PolicyFile)
		if o.URL != "" && !isHTTPURL(o.URL) {
			v.errorf(op+".url", "must be an http:// or https:// URL")
		}
		if a.Enabled && a.Type == AuthzOPA && o.Policy == "" && o.PolicyFile == "" {
			v.errorf(op, "type opa needs policy or policy_file")
		}
		if a.Enabled && a.Type == AuthzOPAServer && o.URL == "" {
			v.errorf(op+".url", "is required for type opa_server")
		}
		if o.Query == "" {
			v.errorf(op+".query", "must not be empty")
		}
		positive(v, op+".timeout_ms", o.Timeout)
		if o.CacheMaxEntries < 0 {
			v.errorf(op+".cache_max_entries", "must not be negative")
		}
	}
	if f := a.OpenFGA; f != nil {
		fp := p + ".openfga"
		if f.APIURL == "" {
			if a.Enabled && a.Type == AuthzOpenFGA {
				v.errorf(fp+".api_url", "is required")
			}
		} else if !isHTTPURL(f.APIURL) {
			v.errorf(fp+".api_url", "must be an http:// or https:// URL")
		}
		if a.Enabled && a.Type == AuthzOpenFGA && f.StoreID == "" {
			v.errorf(fp+".store_id", "is required")
		}
		for _, x := range []struct{ key, val string }{{"relation", f.Relation}, {"object_type", f.ObjectType}, {"user_type", f.UserType}} {
			if x.val == "" || strings.ContainsAny(x.val, ":# ") {
				v.errorf(fp+"."+x.key, "invalid value %q", x.val)
			}
		}
		positive(v, fp+".timeout_ms", f.Timeout)
		if f.CacheMaxEntries < 0 {
			v.errorf(fp+".cache_max_entries", "must not be negative")
		}
	}
}
