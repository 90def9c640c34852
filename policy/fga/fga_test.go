package fga

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	fgaclient "github.com/openfga/go-sdk/client"

	"github.com/mizuchi-gw/mizuchi/config"
	"github.com/mizuchi-gw/mizuchi/internal/authztest"
	"github.com/mizuchi-gw/mizuchi/policy"
)

// tuples for authztest.ExampleModel.
var tuples = []fgaclient.ClientTupleKey{
	authztest.Tuple("user:alice", "writer", "bucket:uploads", "", nil),
	authztest.Tuple("user:bob", "writer", "bucket:uploads", "under_limit", map[string]any{"max_length": 1000}),
	authztest.Tuple("user:erin", "writer", "bucket:uploads", "from_network", map[string]any{"network": "192.0.2.0/24"}),
	authztest.Tuple("user:dave", "writer", "folder:uploads/dave", "", nil),
	authztest.Tuple("bucket:uploads", "parent", "folder:uploads/shared", "", nil),
}

func mustNew(t *testing.T, cfg *config.OpenFGA) *Engine {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatalf("unexpected error: %s", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func upload(subject, bucket, key string, n int64, ip string) *policy.Input {
	return &policy.Input{Subject: subject, Auth: policy.AuthSigV4, Action: "s3:PutObject", Bucket: bucket,
		Key: key, ContentLength: n, SourceIP: ip, Method: "PUT", Path: "/" + bucket + "/" + key}
}

func decide(e *Engine, in *policy.Input, d time.Duration) (policy.Decision, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return e.Decide(ctx, in, in.AppendJSON(nil))
}

func TestDecide_OpenFGA(t *testing.T) {
	url, _ := authztest.StartOpenFGA(t)
	store, model := authztest.NewStore(t, url, "", authztest.ExampleModel, tuples...)

	check := func(e *Engine) func(in *policy.Input, allow bool, reason string) {
		return func(in *policy.Input, allow bool, reason string) {
			t.Helper()
			d, err := decide(e, in, 10*time.Second)
			if err != nil {
				t.Fatalf("%+v: unexpected error: %s", in, err)
			}
			if d.Allow != allow || d.Reason != reason {
				t.Fatalf("%s %s %s: unexpected decision; got %+v; want allow=%v reason=%q", in.Subject, in.Bucket, in.Key, d, allow, reason)
			}
		}
	}

	// The default object, bucket:{bucket}, with the latest model.
	e := mustNew(t, &config.OpenFGA{APIURL: url, StoreID: store})
	if e.Type() != "openfga" || e.Local() {
		t.Fatalf("unexpected engine: %s %v", e.Type(), e.Local())
	}
	f := check(e)
	f(upload("alice", "uploads", "a.txt", 10, "198.51.100.7"), true, "")
	f(upload("alice", "photos", "a.txt", 10, "198.51.100.7"), false, "user:alice is not writer of bucket:photos")
	f(upload("carol", "uploads", "a.txt", 10, "198.51.100.7"), false, "user:carol is not writer of bucket:uploads")
	// Conditions read the request context: content_length and source_ip.
	f(upload("bob", "uploads", "a.txt", 1000, "198.51.100.7"), true, "")
	f(upload("bob", "uploads", "a.txt", 1001, "198.51.100.7"), false, "user:bob is not writer of bucket:uploads")
	f(upload("bob", "uploads", "a.txt", -1, "198.51.100.7"), true, "")
	f(upload("erin", "uploads", "a.txt", 1<<40, "192.0.2.200"), true, "")
	f(upload("erin", "uploads", "a.txt", 1, "198.51.100.7"), false, "user:erin is not writer of bucket:uploads")
	// Subjects OpenFGA would refuse, or read as a wildcard or a userset.
	for _, s := range []string{"", "*", "a#member", "a:b", "a b", "a\nb", "a\xff"} {
		f(upload(s, "uploads", "a.txt", 1, "192.0.2.1"), false, "subject "+strconv.Quote(s)+" is not a valid OpenFGA user id")
	}

	// Folders from the key, through the explicit model id.
	e = mustNew(t, &config.OpenFGA{APIURL: url + "/", StoreID: store, AuthorizationModelID: model,
		Object: "folder:{bucket}/{prefix}", Relation: "writer", UserType: "user"})
	f = check(e)
	f(upload("dave", "uploads", "dave/x.jpg", 1, "192.0.2.1"), true, "")
	f(upload("dave", "uploads", "dave/sub/x.jpg", 1, "192.0.2.1"), false, "user:dave is not writer of folder:uploads/dave/sub")
	f(upload("dave", "uploads", "other/x.jpg", 1, "192.0.2.1"), false, "user:dave is not writer of folder:uploads/other")
	f(upload("alice", "uploads", "shared/x.jpg", 1, "192.0.2.1"), true, "") // writer from parent
	f(upload("carol", "uploads", "shared/x.jpg", 1, "192.0.2.1"), false, "user:carol is not writer of folder:uploads/shared")
	// A key that would make an invalid object is denied before asking.
	f(upload("dave", "uploads", "a:b/x.jpg", 1, "192.0.2.1"), false, `object "folder:uploads/a:b" is not a valid OpenFGA object id`)
	f(upload("dave", "uploads", "dave#writer/x", 1, "192.0.2.1"), false, `object "folder:uploads/dave#writer" is not a valid OpenFGA object id`)
	f(upload("dave", "uploads", "a b/x", 1, "192.0.2.1"), false, `object "folder:uploads/a b" is not a valid OpenFGA object id`)
	f(upload("dave", "uploads", strings.Repeat("d", 300)+"/x", 1, "192.0.2.1"), false,
		`object "folder:uploads/`+strings.Repeat("d", 64-len("folder:uploads/"))+`…" is longer than OpenFGA allows`)

	// What the server refuses is an error: a relation the model lacks, a
	// model that does not exist, a condition parameter that is missing.
	fail := func(cfg *config.OpenFGA, in *policy.Input, want string) {
		t.Helper()
		d, err := decide(mustNew(t, cfg), in, 10*time.Second)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("unexpected decision %+v, error %v; want an error containing %q", d, err, want)
		}
	}
	fail(&config.OpenFGA{APIURL: url, StoreID: store, Relation: "reader"}, upload("alice", "uploads", "a", 1, "192.0.2.1"), "validation_error")
	fail(&config.OpenFGA{APIURL: url, StoreID: store, AuthorizationModelID: "01HZZZZZZZZZZZZZZZZZZZZZZZ"}, upload("alice", "uploads", "a", 1, "192.0.2.1"),
		"authorization_model_not_found")
	fail(&config.OpenFGA{APIURL: url, StoreID: "01HZZZZZZZZZZZZZZZZZZZZZZZ"}, upload("alice", "uploads", "a", 1, "192.0.2.1"), "latest_authorization_model_not_found")
	fail(&config.OpenFGA{APIURL: url, StoreID: store}, upload("erin", "uploads", "a", 1, "not-an-ip"), "fga: check")
}

func TestDecide_APIToken(t *testing.T) {
	url, _ := authztest.StartOpenFGAKey(t, "fga-s3cret")
	store, _ := authztest.NewStore(t, url, "fga-s3cret", authztest.ExampleModel, tuples[0])
	in := upload("alice", "uploads", "a.txt", 1, "192.0.2.1")
	if d, err := decide(mustNew(t, &config.OpenFGA{APIURL: url, StoreID: store, APIToken: "fga-s3cret"}), in, 10*time.Second); err != nil || !d.Allow {
		t.Fatalf("unexpected decision %+v, error %v", d, err)
	}
	for _, token := range []string{"", "wrong"} {
		_, err := decide(mustNew(t, &config.OpenFGA{APIURL: url, StoreID: store, APIToken: token}), in, 10*time.Second)
		if err == nil || !strings.Contains(err.Error(), "auth error") {
			t.Fatalf("unexpected error with token %q: %v", token, err)
		}
		if strings.Contains(err.Error(), "fga-s3cret") {
			t.Fatalf("the error shows the token: %s", err)
		}
	}
}

func TestDecide_ServerDown(t *testing.T) {
	url, stop := authztest.StartOpenFGA(t)
	store, _ := authztest.NewStore(t, url, "", authztest.ExampleModel, tuples[0])
	e := mustNew(t, &config.OpenFGA{APIURL: url, StoreID: store})
	in := upload("alice", "uploads", "a.txt", 1, "192.0.2.1")
	if d, err := decide(e, in, 10*time.Second); err != nil || !d.Allow {
		t.Fatalf("unexpected decision %+v, error %v", d, err)
	}
	stop()
	start := time.Now()
	if d, err := decide(e, in, 10*time.Second); err == nil {
		t.Fatalf("expecting an error with the server down; got %+v", d)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatalf("a refused connection took %s", time.Since(start))
	}
}

func TestDecide_Stalled(t *testing.T) {
	url := authztest.Stall(t)
	const store = "01HZZZZZZZZZZZZZZZZZZZZZZZ"
	in := upload("alice", "uploads", "a.txt", 1, "192.0.2.1")

	e := mustNew(t, &config.OpenFGA{APIURL: url, StoreID: store, Timeout: time.Hour})
	start := time.Now()
	if _, err := decide(e, in, 100*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("unexpected error: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Decide returned after %s; want about 100ms", d)
	}

	// No deadline: the configured timeout.
	e = mustNew(t, &config.OpenFGA{APIURL: url, StoreID: store, Timeout: 100 * time.Millisecond})
	start = time.Now()
	if _, err := e.Decide(context.Background(), in, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("unexpected error: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Decide returned after %s; want about 100ms", d)
	}

	// Denials decided locally never wait for the server.
	if d, err := decide(e, upload("", "uploads", "a", 1, ""), 10*time.Second); err != nil || d.Allow {
		t.Fatalf("unexpected decision %+v, error %v", d, err)
	}
}

func TestNew_Failure(t *testing.T) {
	f := func(cfg *config.OpenFGA) {
		t.Helper()
		if e, err := New(cfg); !errors.Is(err, ErrConfig) || e != nil {
			t.Fatalf("expecting ErrConfig for %+v; got %v", cfg, err)
		}
	}
	const store = "01HZZZZZZZZZZZZZZZZZZZZZZZ"
	f(nil)
	f(&config.OpenFGA{APIURL: "http://fga"})
	f(&config.OpenFGA{APIURL: "not a url", StoreID: store})
	f(&config.OpenFGA{APIURL: "http://fga", StoreID: "not-a-ulid"})
	f(&config.OpenFGA{APIURL: "http://fga", StoreID: store, AuthorizationModelID: "nope"})
	f(&config.OpenFGA{APIURL: "http://fga", StoreID: store, Relation: "a:b"})
	f(&config.OpenFGA{APIURL: "http://fga", StoreID: store, UserType: "u@x"})
	f(&config.OpenFGA{APIURL: "http://fga", StoreID: store, Object: "{bucket}"})
	f(&config.OpenFGA{APIURL: "http://fga", StoreID: store, APIToken: "a\nb"})
}
