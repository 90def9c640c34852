package sigv4_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mizuchi-gw/mizuchi/sigv4"
)

// suiteDir holds the AWS SigV4 test suite (from aws-c-auth, Apache-2.0).
const suiteDir = "../../shared/testdata/aws-sigv4-suite"

type suiteContext struct {
	Credentials struct {
		AccessKeyID     string `json:"access_key_id"`
		SecretAccessKey string `json:"secret_access_key"`
		Token           string `json:"token"`
	} `json:"credentials"`
	Normalize        bool   `json:"normalize"`
	Region           string `json:"region"`
	Service          string `json:"service"`
	SignBody         bool   `json:"sign_body"`
	Timestamp        string `json:"timestamp"`
	OmitSessionToken bool   `json:"omit_session_token"`
}

// rawRequest is a request.txt parsed the way the suite means it: the target
// is taken as sent (a literal space stays a space), obs-fold continuation
// lines are joined to the previous value with a space.
type rawRequest struct {
	method, path, query string
	headers             [][2]string // original-case name, raw value
	body                []byte
}

func parseRawRequest(t *testing.T, b []byte) *rawRequest {
	t.Helper()
	head, body, _ := bytes.Cut(b, []byte("\n\n"))
	lines := strings.Split(strings.ReplaceAll(string(head), "\r\n", "\n"), "\n")
	first := lines[0]
	sp1 := strings.IndexByte(first, ' ')
	sp2 := strings.LastIndexByte(first, ' ')
	if sp1 < 0 || sp2 <= sp1 {
		t.Fatalf("cannot parse request line %q", first)
	}
	r := &rawRequest{method: first[:sp1], body: body}
	r.path, r.query, _ = strings.Cut(first[sp1+1:sp2], "?")
	for _, l := range lines[1:] {
		if l == "" {
			continue
		}
		if l[0] == ' ' || l[0] == '\t' {
			if len(r.headers) == 0 {
				t.Fatalf("continuation line without a header: %q", l)
			}
			r.headers[len(r.headers)-1][1] += " " + l
			continue
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			t.Fatalf("cannot parse header line %q", l)
		}
		r.headers = append(r.headers, [2]string{name, value})
	}
	return r
}

// needsNormalization reports whether RFC 3986 dot-segment removal or
// collapsing of repeated slashes would change path. S3 does neither.
func needsNormalization(path string) bool {
	segs := strings.Split(path, "/")[1:]
	for i, s := range segs {
		if s == "." || s == ".." || (s == "" && i < len(segs)-1) {
			return true
		}
	}
	return false
}

func readFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatalf("cannot read %s: %s", name, err)
	}
	return b
}

// suiteCase builds the sigv4 request for one suite variant ("header" or
// "query") of the case in dir.
func suiteCase(t *testing.T, dir, variant string, ctx *suiteContext) (*sigv4.Credentials, *sigv4.Request) {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, ctx.Timestamp)
	if err != nil {
		t.Fatalf("bad timestamp %q: %s", ctx.Timestamp, err)
	}
	amzDate := sigv4.AppendAmzDate(nil, ts)

	var raw *rawRequest
	if variant == "header" {
		raw = parseRawRequest(t, readFile(t, dir, "request.txt"))
	} else {
		// The presigned form: the query of query-signed-request.txt without
		// the signature (and without a token added after signing).
		raw = parseRawRequest(t, readFile(t, dir, "query-signed-request.txt"))
		var kept []string
		for _, p := range strings.Split(raw.query, "&") {
			if strings.HasPrefix(p, "X-Amz-Signature=") ||
				(ctx.OmitSessionToken && strings.HasPrefix(p, "X-Amz-Security-Token=")) {
				continue
			}
			kept = append(kept, p)
		}
		raw.query = strings.Join(kept, "&")
	}
	sum := sha256.Sum256(raw.body)
	payloadHash := []byte(hex.EncodeToString(sum[:]))

	var hs []sigv4.Header
	for _, h := range raw.headers {
		hs = append(hs, sigv4.Header{Name: []byte(strings.ToLower(h[0])), Value: []byte(h[1])})
	}
	if variant == "header" {
		hs = append(hs, sigv4.Header{Name: []byte("x-amz-date"), Value: amzDate})
		if ctx.Credentials.Token != "" && !ctx.OmitSessionToken {
			hs = append(hs, sigv4.Header{Name: []byte("x-amz-security-token"), Value: []byte(ctx.Credentials.Token)})
		}
		if ctx.SignBody {
			hs = append(hs, sigv4.Header{Name: []byte("x-amz-content-sha256"), Value: payloadHash})
		}
	}
	c := &sigv4.Credentials{
		AccessKey:    ctx.Credentials.AccessKeyID,
		SecretKey:    ctx.Credentials.SecretAccessKey,
		SessionToken: ctx.Credentials.Token,
	}
	r := &sigv4.Request{
		Method: []byte(raw.method),
		// The path in request.txt is as sent, unencoded; S3 encodes it once.
		Path:        sigv4.AppendURIEncode(nil, []byte(raw.path), false),
		Query:       []byte(raw.query),
		Headers:     hs,
		PayloadHash: payloadHash,
		AmzDate:     amzDate,
		Region:      ctx.Region,
		Service:     ctx.Service,
	}
	return c, r
}

func TestAWSSuite(t *testing.T) {
	entries, err := os.ReadDir(suiteDir)
	if os.IsNotExist(err) {
		t.Skipf("suite not found at %s", suiteDir)
	}
	if err != nil {
		t.Fatalf("cannot read suite: %s", err)
	}
	ran := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(suiteDir, e.Name())
		t.Run(e.Name(), func(t *testing.T) {
			var ctx suiteContext
			if err := json.Unmarshal(readFile(t, dir, "context.json"), &ctx); err != nil {
				t.Fatalf("cannot parse context.json: %s", err)
			}
			raw := parseRawRequest(t, readFile(t, dir, "request.txt"))
			if ctx.Normalize && needsNormalization(raw.path) {
				t.Skipf("expects path normalization of %q (normalize: true, service %q); S3 signs the path as sent", raw.path, ctx.Service)
			}
			for _, variant := range []string{"header", "query"} {
				c, r := suiteCase(t, dir, variant, &ctx)
				s := sigv4.NewSigner(nil)

				canon := s.AppendCanonicalRequest(nil, r)
				if want := readFile(t, dir, variant+"-canonical-request.txt"); !bytes.Equal(canon, want) {
					t.Fatalf("%s: unexpected canonical request;\ngot\n%s\nwant\n%s", variant, canon, want)
				}
				sum := sha256.Sum256(canon)
				sts := s.AppendStringToSign(nil, r, sigv4.AppendHex(nil, sum[:]))
				if want := readFile(t, dir, variant+"-string-to-sign.txt"); !bytes.Equal(sts, want) {
					t.Fatalf("%s: unexpected string to sign;\ngot\n%s\nwant\n%s", variant, sts, want)
				}
				sig := s.AppendSignature(nil, c, r)
				if want := bytes.TrimSpace(readFile(t, dir, variant+"-signature.txt")); !bytes.Equal(sig, want) {
					t.Fatalf("%s: unexpected signature; got %s; want %s", variant, sig, want)
				}
				if variant == "header" {
					auth := s.AppendAuthorization(nil, c, r)
					signed := string(readFile(t, dir, "header-signed-request.txt"))
					if !strings.Contains(signed, "\nAuthorization:"+string(auth)+"\n") {
						t.Fatalf("unexpected Authorization %q; not in\n%s", auth, signed)
					}
				}
			}
			ran++
		})
	}
	if ran == 0 {
		t.Fatalf("no suite case ran")
	}
}
