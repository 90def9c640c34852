package fga

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	fgasdk "github.com/openfga/go-sdk"
	fgaclient "github.com/openfga/go-sdk/client"

	"github.com/mizuchi-gw/mizuchi/config"
	"github.com/mizuchi-gw/mizuchi/policy"
)

// Type is the engine's configuration type.
const Type = config.AuthzOpenFGA

// MaxIdleConnsPerHost is the keep-alive pool size per OpenFGA server.
const MaxIdleConnsPerHost = 128

// ErrConfig: the configuration cannot make an engine.
var ErrConfig = errors.New("fga: invalid configuration")

// Engine checks one OpenFGA store. It implements policy.Engine.
type Engine struct {
	client   *fgaclient.OpenFgaClient
	hc       *http.Client
	user     string // "<user_type>:"
	relation string
	object   template
	opts     fgaclient.ClientCheckOptions
	timeout  time.Duration
}

var _ policy.Engine = (*Engine)(nil)

// New returns an engine for cfg: APIURL, StoreID, AuthorizationModelID
// (empty = the store's latest model), APIToken, Relation (default
// "writer"), UserType (default "user") and Object (default
// "<ObjectType>:{bucket}", ObjectType defaulting to "bucket"). cfg.Timeout
// bounds a Decide whose ctx has no deadline. It does not contact the
// server.
func New(cfg *config.OpenFGA) (*Engine, error) {
	if cfg == nil {
		return nil, fmt.Errorf("%w: no openfga section", ErrConfig)
	}
	relation, userType, objectType := def(cfg.Relation, "writer"), def(cfg.UserType, "user"), def(cfg.ObjectType, "bucket")
	if !validID(relation) || strings.ContainsRune(relation, '@') || !validID(userType) || strings.ContainsRune(userType, '@') {
		return nil, fmt.Errorf("%w: relation %q, user_type %q", ErrConfig, relation, userType)
	}
	obj, err := parseTemplate(def(cfg.Object, objectType+":{bucket}"))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if strings.ContainsAny(cfg.APIToken, "\r\n") {
		return nil, fmt.Errorf("%w: api_token must be one line", ErrConfig)
	}
	if cfg.StoreID == "" {
		return nil, fmt.Errorf("%w: store_id is required", ErrConfig)
	}
	hc := policy.NewEngineClient(MaxIdleConnsPerHost)
	headers := map[string]string{}
	if cfg.APIToken != "" {
		// Set here: the SDK applies Credentials only to a client it makes.
		headers["Authorization"] = "Bearer " + cfg.APIToken
	}
	c, err := fgaclient.NewSdkClient(&fgaclient.ClientConfiguration{
		ApiUrl:               strings.TrimRight(cfg.APIURL, "/"),
		StoreId:              cfg.StoreID,
		AuthorizationModelId: cfg.AuthorizationModelID,
		DefaultHeaders:       headers,
		HTTPClient:           hc,
		RetryParams:          &fgasdk.RetryParams{}, // no retry: the caller has a deadline
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	e := &Engine{client: c, hc: hc, user: userType + ":", relation: relation, object: obj, timeout: cfg.Timeout}
	if cfg.AuthorizationModelID != "" {
		id := cfg.AuthorizationModelID
		e.opts.AuthorizationModelId = &id
	}
	return e, nil
}

func def(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// Type returns "openfga".
func (e *Engine) Type() string { return Type }

// Local reports false: Decide waits for the network.
func (e *Engine) Local() bool { return false }

// Close closes idle connections.
func (e *Engine) Close() error {
	e.hc.CloseIdleConnections()
	return nil
}

// Tuple returns the user and object Decide checks for in, or the reason
// they cannot be checked.
func (e *Engine) Tuple(in *policy.Input) (user, object, reason string) {
	user = e.user + in.Subject
	switch {
	case !validID(in.Subject) || in.Subject == "*":
		return "", "", "subject " + strconv.Quote(in.Subject) + " is not a valid OpenFGA user id"
	case utf8.RuneCountInString(user) > maxUser:
		return "", "", "subject is longer than OpenFGA allows"
	}
	object = string(e.object.expand(make([]byte, 0, 64), in.Bucket, in.Key, in.Subject))
	if r := checkObject(object, len(e.object.prefix)); r != "" {
		return "", "", r
	}
	return user, object, ""
}

// Decide checks in's user, relation and object, with the request context;
// inJSON is not used.
func (e *Engine) Decide(ctx context.Context, in *policy.Input, _ []byte) (policy.Decision, error) {
	user, object, reason := e.Tuple(in)
	if reason != "" {
		return policy.Decision{Reason: reason}, nil
	}
	if _, ok := ctx.Deadline(); !ok && e.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.timeout)
		defer cancel()
	}
	reqCtx := map[string]any{
		"source_ip":      in.SourceIP,
		"action":         in.Action,
		"content_length": in.ContentLength,
		"bucket":         in.Bucket,
		"key":            in.Key,
	}
	resp, err := e.client.Check(ctx).Body(fgaclient.ClientCheckRequest{
		User: user, Relation: e.relation, Object: object, Context: &reqCtx,
	}).Options(e.opts).Execute()
	if err != nil {
		return policy.Decision{}, fmt.Errorf("fga: check: %w", err)
	}
	if resp.GetAllowed() {
		return policy.Decision{Allow: true}, nil
	}
	return policy.Decision{Reason: user + " is not " + e.relation + " of " + object}, nil
}
