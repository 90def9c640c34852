package config

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Endpoint returns the backend's scheme ("http" or "https"), hostport (host
// and port, the port defaulted to 80 or 443, IPv6 in brackets: a dial
// address) and host (the Host header value: the port omitted when it is the
// scheme's default). With no endpoint configured it is AWS:
// https://s3.<region>.amazonaws.com (amazonaws.com.cn for cn-* regions).
// Host names are lower-cased. With virtual-hosted upstream addressing (see
// UsePathStyle) the engine prefixes both with "<bucket>.".
func (s *S3) Endpoint() (scheme, hostport, host string, err error) {
	raw := s.EndpointURL
	if raw == "" {
		domain := "amazonaws.com"
		if strings.HasPrefix(s.Region, "cn-") {
			domain = "amazonaws.com.cn"
		}
		h := "s3." + strings.ToLower(s.Region) + "." + domain
		return "https", h + ":443", h, nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return "", "", "", errors.New("must be an http:// or https:// URL")
	}
	if u.User != nil {
		return "", "", "", errors.New("must not contain user info; use access_key and secret_key")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return "", "", "", errors.New("must not have a path, query or fragment")
	}
	name := strings.ToLower(u.Hostname())
	if name == "" {
		return "", "", "", errors.New("must name a host")
	}
	if _, err := netip.ParseAddr(name); err != nil && !isHostname(name) && !isHostname(strings.ReplaceAll(name, "_", "-")) {
		return "", "", "", fmt.Errorf("invalid host %q", name)
	}
	def := "80"
	if u.Scheme == "https" {
		def = "443"
	}
	port := u.Port()
	if port == "" {
		port = def
	} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", "", "", fmt.Errorf("invalid port %q", port)
	}
	hostport = net.JoinHostPort(name, port)
	host = hostport
	if port == def {
		host = name
		if strings.Contains(name, ":") {
			host = "[" + name + "]"
		}
	}
	return u.Scheme, hostport, host, nil
}

// UsePathStyle reports whether upstream requests address the bucket in the
// path (host/bucket/key) rather than in the host (bucket.host/key). An
// explicit force_path_style wins; otherwise path-style is used for custom
// endpoints and for bucket names with dots (their virtual host would not
// match the AWS wildcard certificate), virtual-hosted style for AWS.
func (s *S3) UsePathStyle() bool {
	if s.ForcePathStyle != nil {
		return *s.ForcePathStyle
	}
	return s.EndpointURL != "" || strings.Contains(s.Bucket, ".")
}

// Credentials returns the upstream credentials provider: the static keys
// when access_key and secret_key are set (with session_token if given), else
// the standard AWS chain of aws-sdk-go-v2/config.LoadDefaultConfig
// (environment, shared config and credentials files, SSO, web identity,
// ECS and EC2 instance roles) behind an aws.CredentialsCache. It may read
// files and does no network I/O itself, but Retrieve on the chain may: call it
// at startup or on reload, never on an event loop. Credentials are not
// fetched here; call Retrieve to fail fast.
func (s *S3) Credentials(ctx context.Context) (aws.CredentialsProvider, error) {
	if s.AccessKey != "" || s.SecretKey != "" {
		if s.AccessKey == "" || s.SecretKey == "" {
			return nil, errors.New("config: s3.access_key and s3.secret_key must be set together")
		}
		return credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, s.SessionToken), nil
	}
	opts := []func(*awsconfig.LoadOptions) error{}
	if s.Region != "" {
		opts = append(opts, awsconfig.WithRegion(s.Region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("cannot load the AWS credential chain: %w", err)
	}
	if cfg.Credentials == nil {
		return nil, errors.New("config: the AWS credential chain has no provider")
	}
	if c, ok := cfg.Credentials.(*aws.CredentialsCache); ok {
		return c, nil
	}
	return aws.NewCredentialsCache(cfg.Credentials), nil
}
