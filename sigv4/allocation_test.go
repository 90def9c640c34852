//go:build !race

package sigv4_test

import (
	"testing"

	"github.com/mizuchi-gw/mizuchi/sigv4"
)

func TestAllocationAppendAuthorization(t *testing.T) {
	s := sigv4.NewSigner(sigv4.NewKeyCache(4))
	c, r := benchRequest()
	dst := s.AppendAuthorization(nil, c, r) // warm the cache and the buffers
	n := testing.AllocsPerRun(100, func() {
		dst = s.AppendAuthorization(dst[:0], c, r)
	})
	if n != 0 {
		t.Fatalf("unexpected allocations in AppendAuthorization; got %v; want 0", n)
	}
}

func TestAllocationAppendAuthorizationManyHeaders(t *testing.T) {
	// More than the insertion-sort threshold and many query parameters.
	s := sigv4.NewSigner(sigv4.NewKeyCache(4))
	c, r := benchRequest()
	for i := 0; i < 40; i++ {
		r.Headers = append(r.Headers, sigv4.Header{Name: []byte{'x', '-', 'm', byte('a' + i%26), byte('a' + i/26)}, Value: []byte("v  v ")})
	}
	r.Query = []byte("z=1&y=2&x=3&w=4&v=5&u=6&t=7&s=8&r=9&q=10&p=11&o=12&n=13&m=14&l=15&k=16&j=17&i=18&h=19&g=20&f=21")
	dst := s.AppendAuthorization(nil, c, r)
	n := testing.AllocsPerRun(100, func() {
		dst = s.AppendAuthorization(dst[:0], c, r)
	})
	if n != 0 {
		t.Fatalf("unexpected allocations in AppendAuthorization; got %v; want 0", n)
	}
}

func TestAllocationAppendURIEncode(t *testing.T) {
	dst := make([]byte, 0, 256)
	src := []byte("photos/2024/my file+ünï.jpg")
	n := testing.AllocsPerRun(100, func() {
		dst = sigv4.AppendURIEncode(dst[:0], src, false)
	})
	if n != 0 {
		t.Fatalf("unexpected allocations in AppendURIEncode; got %v; want 0", n)
	}
}

func TestAllocationAppendAmzDate(t *testing.T) {
	dst := make([]byte, 0, 32)
	n := testing.AllocsPerRun(100, func() {
		dst = sigv4.AppendAmzDate(dst[:0], testTime)
	})
	if n != 0 {
		t.Fatalf("unexpected allocations in AppendAmzDate; got %v; want 0", n)
	}
}
