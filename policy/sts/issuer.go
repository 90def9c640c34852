package sts

import (
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/mizuchi-gw/mizuchi/config"
	"github.com/mizuchi-gw/mizuchi/policy"
	"github.com/mizuchi-gw/mizuchi/policy/keytemplate"
	"github.com/mizuchi-gw/mizuchi/policy/seal"
)

// Issuer issues and opens STS sessions for one sts configuration. It is
// immutable and safe for concurrent use; build a new one on reload.
type Issuer struct {
	sealer   *seal.Sealer
	jwt      *policy.JWT
	roles    map[string]*role
	audience []string // sts.jwt.audience, to pick the Audience answered
}

// role is one configured role, compiled.
type role struct {
	arn         string
	routes      []string
	prefix      *keytemplate.Template // nil: any key
	required    []claimRule           // sorted by name
	maxDuration time.Duration
	assumedARN  string // "arn:aws:sts::<account>:assumed-role/<name>/", the session name follows
	roleID      string // "AROA" + 17 characters, as AWS role ids
}

// claimRule is one entry of required_claims.
type claimRule struct {
	name   string
	values []string
}

// Credentials is the answer of a successful Assume.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
	Subject         string // SubjectFromWebIdentityToken
	AssumedRoleID   string // "AROA…:<RoleSessionName>"
	AssumedRoleARN  string // "arn:aws:sts::<account>:assumed-role/<role>/<RoleSessionName>"
	Provider        string // the token's iss
	Audience        string // the token's aud (the configured one, if it lists several)
}

// New builds an Issuer from cfg, which config.Validate has accepted (it is
// not retained). verifier checks web identity tokens; build it with
// policy.NewJWT(&cfg.JWT, policy.JWTOptions{Route: "sts"}) and Start it.
// verifier may be nil for an Issuer that only opens sessions (and in
// tests); then JWT returns nil.
func New(cfg *config.STS, verifier *policy.JWT) (*Issuer, error) {
	if cfg == nil {
		return nil, errors.New("sts: no configuration")
	}
	secrets := make([][]byte, len(cfg.Secrets))
	for i, s := range cfg.Secrets {
		secrets[i] = []byte(s)
	}
	sealer, err := seal.New(secrets)
	if err != nil {
		return nil, fmt.Errorf("sts: secrets: %w", err)
	}
	iss := &Issuer{
		sealer:   sealer,
		jwt:      verifier,
		roles:    make(map[string]*role, len(cfg.Roles)),
		audience: slices.Clone(cfg.JWT.Audience),
	}
	for i := range cfg.Roles {
		r, err := newRole(&cfg.Roles[i])
		if err != nil {
			return nil, fmt.Errorf("sts: roles[%d]: %w", i, err)
		}
		if _, dup := iss.roles[r.arn]; dup {
			return nil, fmt.Errorf("sts: roles[%d]: duplicate role %q", i, r.arn)
		}
		iss.roles[r.arn] = r
	}
	return iss, nil
}

func newRole(c *config.STSRole) (*role, error) {
	if !strings.HasPrefix(c.ARN, "arn:") || len(c.ARN) > maxRoleARNLen {
		return nil, fmt.Errorf("invalid role ARN %q", c.ARN)
	}
	if len(c.Routes) == 0 {
		return nil, errors.New("no routes")
	}
	if c.MaxDuration < minDuration || c.MaxDuration > maxDuration {
		return nil, fmt.Errorf("max_duration_seconds %s out of 15m..12h", c.MaxDuration)
	}
	r := &role{arn: c.ARN, routes: slices.Clone(c.Routes), maxDuration: c.MaxDuration}
	src, err := c.PrefixTemplate()
	if err != nil {
		return nil, err
	}
	if src != "" {
		if r.prefix, err = keytemplate.Compile(src); err != nil {
			return nil, err
		}
	}
	for name, vals := range c.RequiredClaims {
		if name == "" || len(vals) == 0 {
			return nil, fmt.Errorf("required claim %q without values", name)
		}
		r.required = append(r.required, claimRule{name: name, values: slices.Clone(vals)})
	}
	slices.SortFunc(r.required, func(a, b claimRule) int { return strings.Compare(a.name, b.name) })
	r.assumedARN, r.roleID = assumedRole(c.ARN)
	return r, nil
}

// assumedRole derives the AssumedRoleUser of a role ARN as AWS shapes it:
// "arn:<partition>:iam::<account>:role/<path>/<name>" assumes as
// "arn:<partition>:sts::<account>:assumed-role/<name>/<session>"; any other
// ARN as "<arn>/<session>". The role id is "AROA" and 17 base32 characters
// of the ARN's SHA-256: stable across restarts and gateways.
func assumedRole(arn string) (assumedPrefix, roleID string) {
	sum := sha256.Sum256([]byte(arn))
	roleID = "AROA" + base32.StdEncoding.EncodeToString(sum[:])[:17]
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) == 6 && parts[2] == "iam" && strings.HasPrefix(parts[5], "role/") {
		name := parts[5][strings.LastIndexByte(parts[5], '/')+1:]
		if name != "" {
			return "arn:" + parts[1] + ":sts::" + parts[4] + ":assumed-role/" + name + "/", roleID
		}
	}
	return arn + "/", roleID
}

// JWT returns the verifier of web identity tokens given to New (nil when
// none): the gateway calls Start, Close, Verify and RefreshUnknownKey on
// it.
func (iss *Issuer) JWT() *policy.JWT { return iss.jwt }

// TokenError maps a failure of JWT().Verify to the STS error to answer:
// an expired token is ExpiredTokenException; a signing key that is still
// unknown after RefreshUnknownKey and one retry is InvalidIdentityToken,
// or IDPCommunicationError while no JWK set could be fetched at all; every
// other failure is InvalidIdentityToken with the verifier's fixed detail
// (which never contains the token).
func (iss *Issuer) TokenError(err error) *Error {
	detail := strings.TrimPrefix(err.Error(), "policy: ")
	switch {
	case errors.Is(err, policy.ErrUnknownKey):
		if iss.jwt != nil && !iss.jwt.Ready() {
			return newError(CodeIDPCommunication, http.StatusBadRequest,
				"The identity provider's signing keys could not be fetched; retry later.", detail)
		}
		return invalidIdentity("The web identity token is signed with a key the identity provider does not publish.")
	case errors.Is(err, policy.ErrInvalidToken) && strings.HasSuffix(err.Error(), "token is expired"):
		// The detail policy.JWT gives an expired token whose signature
		// verified (jwt checks the signature before the claims).
		return newError(CodeExpiredToken, http.StatusBadRequest, "Token expired: the web identity token has expired.", detail)
	case errors.Is(err, policy.ErrTokenTooLarge):
		return invalidIdentity("The web identity token is too large.")
	}
	return invalidIdentity("The web identity token could not be validated: " + strings.TrimPrefix(detail, "invalid token: "))
}
