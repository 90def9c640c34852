package sigv4_test

import (
	"strconv"
	"sync"
	"testing"

	"github.com/mizuchi-gw/mizuchi/sigv4"
)

func TestKeyCacheConcurrent_Success(t *testing.T) {
	kc := sigv4.NewKeyCache(8)
	const workers = 8
	regions := []string{"us-east-1", "eu-west-1", "ap-south-1", "sa-east-1"}
	// Reference signatures from signers with private caches.
	want := make(map[string]string)
	for _, region := range regions {
		r := ourRequest(&testCreds, "PUT", testHost, "/b/k", "x-id=PutObject", []string{"X-Amz-Content-Sha256", emptySHA}, 0, emptySHA, testTime)
		r.Region = region
		want[region] = string(sigv4.NewSigner(nil).AppendAuthorization(nil, &testCreds, r))
	}
	var wg sync.WaitGroup
	errs := make(chan string, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := sigv4.NewSigner(kc)
			r := ourRequest(&testCreds, "PUT", testHost, "/b/k", "x-id=PutObject", []string{"X-Amz-Content-Sha256", emptySHA}, 0, emptySHA, testTime)
			var dst []byte
			for i := 0; i < 200; i++ {
				r.Region = regions[(i+w)%len(regions)]
				dst = s.AppendAuthorization(dst[:0], &testCreds, r)
				if string(dst) != want[r.Region] {
					errs <- "region " + r.Region + ": got " + string(dst) + "; want " + want[r.Region]
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatalf("unexpected Authorization from a shared cache; %s", e)
	}
	if n := kc.Len(); n != len(regions) {
		t.Fatalf("unexpected cache size; got %d; want %d", n, len(regions))
	}
}

func TestKeyCacheBounded_Success(t *testing.T) {
	f := func(max, regions, want int) {
		t.Helper()
		kc := sigv4.NewKeyCache(max)
		s := sigv4.NewSigner(kc)
		ref := sigv4.NewSigner(sigv4.NewKeyCache(1))
		r := ourRequest(&testCreds, "PUT", testHost, "/b/k", "", []string{"X-Amz-Content-Sha256", emptySHA}, 0, emptySHA, testTime)
		for round := 0; round < 2; round++ {
			for i := 0; i < regions; i++ {
				r.Region = "region-" + strconv.Itoa(i)
				got := string(s.AppendAuthorization(nil, &testCreds, r))
				if exp := string(ref.AppendAuthorization(nil, &testCreds, r)); got != exp {
					t.Fatalf("unexpected Authorization after eviction; got %s; want %s", got, exp)
				}
				if n := kc.Len(); n > max && max > 0 {
					t.Fatalf("cache exceeds its bound; got %d entries; max %d", n, max)
				}
			}
		}
		if n := kc.Len(); n != want {
			t.Fatalf("unexpected cache size; got %d; want %d", n, want)
		}
	}
	f(1, 5, 1)
	f(10, 100, 10)
	f(10, 3, 3)
	f(0, 3, 3) // default size
}

func TestKeyCacheNil_Success(t *testing.T) {
	var kc *sigv4.KeyCache
	if n := kc.Len(); n != 0 {
		t.Fatalf("unexpected nil cache size; got %d; want 0", n)
	}
}
