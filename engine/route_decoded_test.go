package engine

import "testing"

// The route a request lands on is the route of the path its signature
// covers (sigv4 verifies the percent-decoded path).
func TestRouterMatchesDecoded_Success(t *testing.T) {
	a := &Route{Name: "a", Prefix: "/a"}
	ab := &Route{Name: "ab", Prefix: "/a/b"}
	r := NewRouter([]*Route{a, ab}, []string{"s3.local"})
	f := func(host, path string) {
		t.Helper()
		rt, _, ok := r.Match([]byte(host), []byte(path))
		if !ok {
			t.Fatalf("no match for host %q path %q", host, path)
		}
		if !r.MatchesDecoded([]byte(host), []byte(path), rt) {
			t.Fatalf("unexpected refusal of host %q path %q (route %q)", host, path, rt.Name)
		}
	}
	f("localhost", "/a/x")
	f("localhost", "/a/b/x")
	f("localhost", "/a/x%2Fy")     // a key with '/' stays on /a
	f("localhost", "/a/bc%2Fx")    // "/a/bc/x" is still /a
	f("localhost", "/a/b/x%2F%20") // already on /a/b
	f("localhost", "/a/%zz/x")     // not an escape: stands for itself
	f("localhost", "/a/b%")
	f("a.s3.local", "/a%2Fb%2Fx") // virtual host: the path is all key
	f("ab.s3.local", "/x%2Fy")
}

func TestRouterMatchesDecoded_Failure(t *testing.T) {
	a := &Route{Name: "a", Prefix: "/a"}
	ab := &Route{Name: "ab", Prefix: "/a/b"}
	all := &Route{Name: "all", Prefix: ""}
	r := NewRouter([]*Route{a, ab, all}, nil)
	f := func(path string, raw, decoded *Route) {
		t.Helper()
		rt, _, ok := r.Match([]byte("localhost"), []byte(path))
		if !ok || rt != raw {
			t.Fatalf("unexpected raw route for %q; got %v; want %q", path, rt, raw.Name)
		}
		if r.MatchesDecoded([]byte("localhost"), []byte(path), rt) {
			t.Fatalf("%q: routed to %q but verifies as a path of %q; want a refusal", path, raw.Name, decoded.Name)
		}
	}
	f("/a/b%2Fx", a, ab)
	f("/a/b%2fx", a, ab)
	f("/a/%62/x", a, ab)
	f("/a/b%2F", a, ab)
	f("/a/b%2f%2fx", a, ab)
	f("/%61/x", all, a)
	f("/%61%2Fb/x", all, ab)
	f("/a%2Fb/x", all, ab)
}
