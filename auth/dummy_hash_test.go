package auth

import "testing"

// TestUnknownUserHashCostsARealCheck: the unknown-user hash, made at no cost,
// has the cost parameters, salt and key sizes of a real hash (so checking a
// password against it runs the same argon2id), matches no password, and
// differs per service.
func TestUnknownUserHashCostsARealCheck(t *testing.T) {
	f := newFixture(t)
	for _, p := range []HashParams{DefaultHashParams, CheapHashParams} {
		svc := New(f.db, nil, Options{Hash: p})
		dummy, err := parseArgon2id(svc.dummyHash)
		if err != nil {
			t.Fatal(err)
		}
		real, err := parseArgon2id(hashPassword(goodPassword, p))
		if err != nil {
			t.Fatal(err)
		}
		if dummy.params != real.params || len(dummy.salt) != len(real.salt) || len(dummy.key) != len(real.key) || needsRehash(svc.dummyHash, p) {
			t.Fatalf("dummy %q is not shaped like a real hash under %+v", svc.dummyHash, p)
		}
		for _, pw := range []string{"", goodPassword, "dummy password for timing"} {
			if ok, err := VerifyPasswordHash(svc.dummyHash, pw); ok || err != nil {
				t.Fatalf("VerifyPasswordHash(dummy, %q) = %v, %v", pw, ok, err)
			}
		}
		if other := New(f.db, nil, Options{Hash: p}); other.dummyHash == svc.dummyHash {
			t.Fatal("two services share a dummy hash")
		}
	}
}
