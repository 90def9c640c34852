package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mizuchi-gw/mizuchi/policy/keytemplate"
	"github.com/mizuchi-gw/mizuchi/policy/seal"
)

// Checks of the sts section. Requirements (jwt keys, issuer and audience,
// roles, secrets) apply only when enabled; the shape of what is given is
// always checked.

// STS limits (AWS's own, so SDKs and tools behave as they do with AWS).
const (
	STSMinDuration  = 15 * time.Minute // the shortest session and max_duration_seconds
	STSMaxDuration  = 12 * time.Hour   // the longest max_duration_seconds
	stsMinARNLen    = 20
	stsMaxARNLen    = 2048
	stsPrefixSuffix = "{key}"
)

func (c *Config) validateSTS(v *validator) {
	s := c.STS
	if s == nil {
		return
	}
	validateJWT(v, "sts.jwt", &s.JWT, s.Enabled)
	if s.Enabled {
		// As AWS ties an OIDC provider to its URL and client ids: without
		// them any token of the identity provider, issued to any
		// application, would buy credentials.
		if s.JWT.Issuer == "" {
			v.errorf("sts.jwt.issuer", "is required when sts is enabled")
		}
		if len(s.JWT.Audience) == 0 {
			v.errorf("sts.jwt.audience", "is required when sts is enabled (the client ids tokens must be issued to)")
		}
		if len(s.Roles) == 0 {
			v.errorf("sts.roles", "at least one role is required when sts is enabled")
		}
		if len(s.Secrets) == 0 {
			v.errorf("sts.secrets", "at least one secret is required when sts is enabled; "+
				"use %d or more random bytes, e.g. \"${MIZUCHI_STS_SECRET}\"", seal.MinSecretLen)
		}
		c.validateSTSUploadIDSecret(v)
	}
	for i, k := range s.Secrets {
		if len(k) < seal.MinSecretLen {
			v.errorf(fmt.Sprintf("sts.secrets[%d]", i), "must be at least %d bytes, got %d", seal.MinSecretLen, len(k))
		}
	}
	buckets := map[string]bool{}
	for i := range c.Buckets {
		buckets[c.Buckets[i].Name] = true
	}
	arns := map[string]int{}
	for i := range s.Roles {
		r := &s.Roles[i]
		p := fmt.Sprintf("sts.roles[%d]", i)
		if err := checkRoleARN(r.ARN); err != nil {
			v.errorf(p+".arn", "%v", err)
		} else if j, dup := arns[r.ARN]; dup {
			v.errorf(p+".arn", "duplicate role %q (also sts.roles[%d])", r.ARN, j)
		} else {
			arns[r.ARN] = i
		}
		if len(r.Routes) == 0 {
			v.errorf(p+".routes", "must list at least one bucket name")
		}
		seen := map[string]bool{}
		for j, rt := range r.Routes {
			rp := fmt.Sprintf("%s.routes[%d]", p, j)
			switch {
			case !buckets[rt]:
				v.errorf(rp, "no bucket is named %q", rt)
			case seen[rt]:
				v.errorf(rp, "duplicate route %q", rt)
			}
			seen[rt] = true
		}
		if _, err := r.PrefixTemplate(); err != nil {
			v.errorf(p+".key_template", "%v", err)
		}
		for name, vals := range r.RequiredClaims {
			cp := p + ".required_claims." + name
			switch {
			case name == "":
				v.errorf(p+".required_claims", "empty claim name")
			case len(vals) == 0:
				v.errorf(cp, "must list at least one value")
			}
		}
		if r.MaxDuration < STSMinDuration || r.MaxDuration > STSMaxDuration {
			v.errorf(p+".max_duration_seconds", "must be between 900 (15m) and 43200 (12h), got %s", r.MaxDuration)
		}
	}
}

// validateSTSUploadIDSecret: STS credentials give their routes one identity
// per subject, so multipart upload ids must be sealed. Reported once: not
// when validateUploadIDSecrets already did for a route.
func (c *Config) validateSTSUploadIDSecret(v *validator) {
	if len(c.Server.UploadIDSecrets) > 0 {
		return
	}
	for i := range c.Buckets {
		if identities(&c.Buckets[i].Auth) != "" {
			return
		}
	}
	v.errorf("server.upload_id_secret", "is required when sts is enabled: STS credentials give each subject its own "+
		"identity; set server.upload_id_secret to at least %d random bytes, e.g. \"${MIZUCHI_UPLOAD_ID_SECRET}\"", seal.MinSecretLen)
}

// checkRoleARN accepts "arn:" followed by printable ASCII without spaces,
// 20 to 2048 bytes in all (AWS's RoleArn limits).
func checkRoleARN(arn string) error {
	switch {
	case arn == "":
		return errors.New("is required")
	case !strings.HasPrefix(arn, "arn:"):
		return fmt.Errorf("invalid role ARN %q: must start with \"arn:\", like \"arn:aws:iam::123456789012:role/uploader\"", arn)
	case len(arn) < stsMinARNLen || len(arn) > stsMaxARNLen:
		return fmt.Errorf("invalid role ARN %q: must be %d to %d bytes", arn, stsMinARNLen, stsMaxARNLen)
	}
	for i := 0; i < len(arn); i++ {
		if c := arn[i]; c <= ' ' || c >= 0x7f {
			return fmt.Errorf("invalid role ARN %q: character %q not allowed", arn, c)
		}
	}
	return nil
}

// PrefixTemplate returns the role's key_template as a policy/keytemplate
// source ("{sub}" spelled "{subject}", "{key}" appended), so that Append
// with an empty key gives the scope prefix; "" when the role has none. It
// refuses templates with {key}, {route} or {date}, templates not ending
// with '/', and whatever keytemplate.Compile refuses.
func (r *STSRole) PrefixTemplate() (string, error) {
	t := r.KeyTemplate
	if t == "" {
		return "", nil
	}
	if !strings.HasSuffix(t, "/") {
		return "", fmt.Errorf("invalid template %q: must end with '/' (the prefix of a subject must never start another's)", t)
	}
	for _, p := range []string{"{key}", "{route}", "{date}"} {
		if strings.Contains(t, p) {
			return "", fmt.Errorf("invalid template %q: %s is not available; use {sub}, {subject} or {claims.NAME}", t, p)
		}
	}
	src := strings.ReplaceAll(t, "{sub}", "{subject}") + stsPrefixSuffix
	if _, err := keytemplate.Compile(src); err != nil {
		// Name the template as written, not src.
		reason := strings.TrimPrefix(err.Error(), "keytemplate: invalid template "+strconv.Quote(src)+": ")
		return "", fmt.Errorf("invalid template %q: %s", t, reason)
	}
	return src, nil
}
