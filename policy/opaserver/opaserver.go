package opaserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mizuchi-gw/mizuchi/config"
	"github.com/mizuchi-gw/mizuchi/policy"
)

// Type is the engine's configuration type.
const Type = config.AuthzOPAServer

// ReasonUndefined is the reason of a denial by an undefined decision.
const ReasonUndefined = "policy result undefined"

// MaxIdleConnsPerHost is the keep-alive pool size per OPA server.
const MaxIdleConnsPerHost = 128

// maxResponse bounds the response body read.
const maxResponse = 1 << 20

var (
	// ErrStatus: the server answered with a status other than 200.
	ErrStatus = errors.New("opa_server: unexpected status")
	// ErrResult: the response is not a decision.
	ErrResult = errors.New(`opa_server: result is neither a boolean nor {"allow": bool, "reason": string}`)
	// ErrConfig: the configuration cannot make an engine.
	ErrConfig = errors.New("opa_server: invalid configuration")
)

// Engine asks one OPA server. It implements policy.Engine.
type Engine struct {
	url     string // {url}/v1/data/{policy_path}
	auth    string // "Bearer <token>", or ""
	timeout time.Duration
	client  *http.Client
}

var _ policy.Engine = (*Engine)(nil)

// New returns an engine for cfg.URL and cfg.PolicyPath ("mizuchi/allow"
// when empty), sending cfg.BearerToken when set. cfg.Timeout bounds a
// Decide whose ctx has no deadline. It does not contact the server.
func New(cfg *config.OPA) (*Engine, error) {
	if cfg == nil {
		return nil, fmt.Errorf("%w: no opa section", ErrConfig)
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: url %q: want http(s)://host[:port]", ErrConfig, cfg.URL)
	}
	p := strings.Trim(cfg.PolicyPath, "/")
	p = strings.TrimPrefix(p, "v1/data/")
	if p == "" {
		p = "mizuchi/allow"
	}
	if strings.ContainsAny(p, "?# ") {
		return nil, fmt.Errorf("%w: policy_path %q", ErrConfig, cfg.PolicyPath)
	}
	if strings.ContainsAny(cfg.BearerToken, "\r\n") {
		return nil, fmt.Errorf("%w: bearer_token must be one line", ErrConfig)
	}
	e := &Engine{
		url:     strings.TrimRight(cfg.URL, "/") + "/v1/data/" + p,
		timeout: cfg.Timeout,
		client:  policy.NewEngineClient(MaxIdleConnsPerHost),
	}
	if cfg.BearerToken != "" {
		e.auth = "Bearer " + cfg.BearerToken
	}
	return e, nil
}

// Type returns "opa_server".
func (e *Engine) Type() string { return Type }

// Local reports false: Decide waits for the network.
func (e *Engine) Local() bool { return false }

// Close closes idle connections.
func (e *Engine) Close() error {
	e.client.CloseIdleConnections()
	return nil
}

// URL returns the decision URL, {url}/v1/data/{policy_path}.
func (e *Engine) URL() string { return e.url }

// Decide posts inJSON as the input and reads the decision; in is not used.
func (e *Engine) Decide(ctx context.Context, _ *policy.Input, inJSON []byte) (policy.Decision, error) {
	if _, ok := ctx.Deadline(); !ok && e.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.timeout)
		defer cancel()
	}
	body := make([]byte, 0, len(inJSON)+len(`{"input":}`))
	body = append(body, `{"input":`...)
	body = append(body, inJSON...)
	body = append(body, '}')
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		return policy.Decision{}, fmt.Errorf("opa_server: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if e.auth != "" {
		req.Header.Set("Authorization", e.auth)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return policy.Decision{}, fmt.Errorf("opa_server: %w", err) // *url.Error: method and URL, no header
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return policy.Decision{}, fmt.Errorf("opa_server: cannot read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return policy.Decision{}, statusError(resp.StatusCode, data)
	}
	if len(data) > maxResponse {
		return policy.Decision{}, fmt.Errorf("%w: response over %d bytes", ErrResult, maxResponse)
	}
	return decision(data)
}

// statusError describes a non-200 answer with OPA's error code and
// message when the body has them.
func statusError(status int, body []byte) error {
	var oe struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	msg := ""
	if json.Unmarshal(body, &oe) == nil && oe.Code != "" {
		msg = ": " + oe.Code + ": " + oe.Message
		if len(msg) > 200 {
			msg = msg[:200] + "…"
		}
	}
	return fmt.Errorf("%w %s%s", ErrStatus, strconv.Itoa(status), msg)
}

// decision reads a Data API response body.
func decision(body []byte) (policy.Decision, error) {
	var r struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return policy.Decision{}, fmt.Errorf("%w: %v", ErrResult, err)
	}
	res := bytes.TrimSpace(r.Result)
	switch {
	case len(res) == 0:
		return policy.Decision{Reason: ReasonUndefined}, nil
	case string(res) == "true":
		return policy.Decision{Allow: true}, nil
	case string(res) == "false":
		return policy.Decision{}, nil
	case res[0] != '{':
		return policy.Decision{}, fmt.Errorf("%w: got %.40s", ErrResult, res)
	}
	var o struct {
		Allow  *bool   `json:"allow"`
		Reason *string `json:"reason"`
	}
	if err := json.Unmarshal(res, &o); err != nil {
		return policy.Decision{}, fmt.Errorf("%w: %v", ErrResult, err)
	}
	if o.Allow == nil {
		return policy.Decision{}, fmt.Errorf(`%w: "allow" is null or missing`, ErrResult)
	}
	d := policy.Decision{Allow: *o.Allow}
	if o.Reason != nil {
		d.Reason = *o.Reason
	}
	return d, nil
}
