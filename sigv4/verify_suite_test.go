package sigv4_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mizuchi-gw/mizuchi/sigv4"
)

// TestVerifyAWSSuite_Success runs every AWS SigV4 suite case that
// TestAWSSuite runs (S3 does not normalize paths) through Verify:
//   - the header form signed by our Signer (with the x-amz-content-sha256
//     header S3 requires) is accepted;
//   - the presigned form signed by our Signer (payload UNSIGNED-PAYLOAD, as
//     S3 presigns) is accepted;
//   - the suite's own header-signed-request.txt, with its expected
//     signature, is accepted (x-amz-content-sha256 added unsigned when the
//     suite did not sign it: it only feeds the payload line, which the suite
//     computed from the body);
//   - the suite's own query-signed-request.txt is rejected, because the
//     suite signs the body hash where S3 presigned URLs sign
//     UNSIGNED-PAYLOAD, and the canonical request Verify reports is the
//     suite's with exactly that line changed.
func TestVerifyAWSSuite_Success(t *testing.T) {
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
				t.Skipf("expects path normalization of %q; S3 verifies the path as sent", raw.path)
			}
			now, err := time.Parse(time.RFC3339, ctx.Timestamp)
			if err != nil {
				t.Fatalf("bad timestamp %q: %s", ctx.Timestamp, err)
			}
			cfg := &sigv4.VerifyConfig{
				Region:  ctx.Region,
				Service: ctx.Service,
				Keys:    sigv4.Keys{ctx.Credentials.AccessKeyID: {Secret: ctx.Credentials.SecretAccessKey, Subject: "suite"}},
			}
			s := sigv4.NewSigner(nil)
			vf := sigv4.NewVerifier(nil)
			var out sigv4.Verified
			check := func(what string, in *sigv4.Input, wantSig []byte, presigned bool) {
				t.Helper()
				if err := vf.Verify(cfg, in, &out); err != nil {
					t.Fatalf("%s: unexpected error: %s\nserver canonical request:\n%s", what, err, vf.CanonicalRequest())
				}
				if string(out.Signature[:]) != string(wantSig) {
					t.Fatalf("%s: unexpected Signature; got %s; want %s", what, out.Signature[:], wantSig)
				}
				if out.Presigned != presigned || out.Key.Subject != "suite" || string(out.AccessKey) != ctx.Credentials.AccessKeyID {
					t.Fatalf("%s: unexpected result; got presigned=%v subject=%q access key %q", what, out.Presigned, out.Key.Subject, out.AccessKey)
				}
				wantScope := ctx.Timestamp[:4] + ctx.Timestamp[5:7] + ctx.Timestamp[8:10] + "/" + ctx.Region + "/" + ctx.Service + "/aws4_request"
				if string(out.Scope()) != wantScope {
					t.Fatalf("%s: unexpected scope; got %s; want %s", what, out.Scope(), wantScope)
				}
				if amz := sigv4.AppendAmzDate(nil, now); string(out.AmzDate[:]) != string(amz) {
					t.Fatalf("%s: unexpected AmzDate; got %s; want %s", what, out.AmzDate[:], amz)
				}
			}

			// Header form signed by us.
			hctx := ctx
			hctx.SignBody = true
			c, r := suiteCase(t, dir, "header", &hctx)
			auth := s.AppendAuthorization(nil, c, r)
			in := &sigv4.Input{
				Method:  r.Method,
				Path:    r.Path,
				Query:   r.Query,
				Headers: append(r.Headers, sigv4.Header{Name: []byte("Authorization"), Value: auth}),
				Now:     now,
			}
			check("header", in, s.AppendSignature(nil, c, r), false)
			if string(out.PayloadHash) != string(r.PayloadHash) {
				t.Fatalf("unexpected PayloadHash; got %s; want %s", out.PayloadHash, r.PayloadHash)
			}

			// Presigned form signed by us.
			c, r = suiteCase(t, dir, "query", &ctx)
			r.PayloadHash = []byte("UNSIGNED-PAYLOAD")
			sig := s.AppendSignature(nil, c, r)
			in = &sigv4.Input{
				Method:  r.Method,
				Path:    r.Path,
				Query:   []byte(string(r.Query) + "&X-Amz-Signature=" + string(sig)),
				Headers: r.Headers,
				Now:     now.Add(30 * time.Minute),
			}
			check("presigned", in, sig, true)
			if string(out.PayloadHash) != "UNSIGNED-PAYLOAD" {
				t.Fatalf("unexpected presigned PayloadHash; got %s", out.PayloadHash)
			}

			// The suite's own signed header request.
			sr := parseRawRequest(t, readFile(t, dir, "header-signed-request.txt"))
			in = &sigv4.Input{Method: []byte(sr.method), Path: sigv4.AppendURIEncode(nil, []byte(sr.path), false), Query: []byte(sr.query), Now: now}
			hasSHA := false
			for _, h := range sr.headers {
				in.Headers = append(in.Headers, sigv4.Header{Name: []byte(h[0]), Value: []byte(h[1])})
				hasSHA = hasSHA || strings.EqualFold(h[0], "x-amz-content-sha256")
			}
			if !hasSHA {
				if err := vf.Verify(cfg, in, &out); !errors.Is(err, sigv4.ErrMissingSecurityHeader) {
					t.Fatalf("suite header request without x-amz-content-sha256: unexpected error; got %v; want %v", err, sigv4.ErrMissingSecurityHeader)
				}
				sum := sha256.Sum256(sr.body)
				in.Headers = append(in.Headers, sigv4.Header{Name: []byte("x-amz-content-sha256"), Value: []byte(hex.EncodeToString(sum[:]))})
			}
			check("suite header", in, bytes.TrimSpace(readFile(t, dir, "header-signature.txt")), false)

			// The suite's own presigned request: rejected, canonical request
			// differs from the suite's in the payload line only.
			qr := parseRawRequest(t, readFile(t, dir, "query-signed-request.txt"))
			if ctx.OmitSessionToken {
				var kept []string
				for _, p := range strings.Split(qr.query, "&") {
					if !strings.HasPrefix(p, "X-Amz-Security-Token=") {
						kept = append(kept, p)
					}
				}
				qr.query = strings.Join(kept, "&")
			}
			in = &sigv4.Input{Method: []byte(qr.method), Path: sigv4.AppendURIEncode(nil, []byte(qr.path), false), Query: []byte(qr.query), Now: now}
			for _, h := range qr.headers {
				in.Headers = append(in.Headers, sigv4.Header{Name: []byte(h[0]), Value: []byte(h[1])})
			}
			if err := vf.Verify(cfg, in, &out); !errors.Is(err, sigv4.ErrSignatureMismatch) {
				t.Fatalf("suite presigned request: unexpected error; got %v; want %v", err, sigv4.ErrSignatureMismatch)
			}
			want := readFile(t, dir, "query-canonical-request.txt")
			want = append(want[:bytes.LastIndexByte(want, '\n')+1], "UNSIGNED-PAYLOAD"...)
			if got := vf.CanonicalRequest(); !bytes.Equal(got, want) {
				t.Fatalf("suite presigned request: unexpected canonical request;\ngot\n%s\nwant\n%s", got, want)
			}
			ran++
		})
	}
	if ran == 0 {
		t.Fatalf("no suite case ran")
	}
}
