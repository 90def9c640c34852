package sigv4

import (
	"math/rand/v2"
	"testing"
)

// A Signer that skips the KeyCache for a repeated tuple still loads the
// right key for every change of secret, date, region or service, and after
// an uncached (session) derivation.
func TestSigningKeyLastTuple(t *testing.T) {
	s := NewSigner(NewKeyCache(2))
	secrets := []string{"secret-a", "secret-b", string([]byte("secret-a"))} // equal by value, not by pointer
	dates := []string{"20260101", "20260102"}
	regions := []string{"us-east-1", "eu-west-1"}
	services := []string{"s3", "sts"}
	rng := rand.New(rand.NewPCG(9, 10))
	for i := 0; i < 3000; i++ {
		sec := secrets[rng.IntN(len(secrets))]
		d, r, v := []byte(dates[rng.IntN(2)]), []byte(regions[rng.IntN(2)]), []byte(services[rng.IntN(2)])
		if rng.IntN(5) == 0 {
			s.signingKeyUncached(sec+"-session", d, r, v)
			var want [32]byte
			DeriveSigningKey(&want, sec+"-session", d, r, v)
			if s.key != want {
				t.Fatalf("step %d: uncached key differs", i)
			}
			continue
		}
		s.signingKey(sec, d, r, v)
		var want [32]byte
		DeriveSigningKey(&want, sec, d, r, v)
		if s.key != want {
			t.Fatalf("step %d: signingKey(%s, %s, %s, %s) loaded another tuple's key", i, sec, d, r, v)
		}
	}
}
