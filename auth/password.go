package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Passwords are hashed with argon2id (RFC 9106) into a PHC string:
//
//	$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>   (unpadded standard base64)
//
// argon2id takes the whole password, whatever its length; bcrypt, used before,
// stops at 72 bytes and made longer passwords fail. bcrypt hashes already
// stored keep working and are replaced by argon2id at the next sign-in.

// HashParams are argon2id's cost parameters.
type HashParams struct {
	MemoryKiB uint32 // memory per hash, in KiB
	Passes    uint32 // t: passes over the memory
	Lanes     uint8  // p: parallelism
}

// DefaultHashParams are OWASP's recommended argon2id configuration (19 MiB,
// 2 passes, 1 lane): tens of milliseconds per hash on a server core (see
// BenchmarkHashPassword), and 19 MiB per concurrent sign-in.
var DefaultHashParams = HashParams{MemoryKiB: 19 * 1024, Passes: 2, Lanes: 1}

// CheapHashParams are for tests only: a hash costs well under a millisecond.
var CheapHashParams = HashParams{MemoryKiB: 64, Passes: 1, Lanes: 1}

const (
	saltLen = 16
	keyLen  = 32
	// maxEncodedMemoryKiB bounds what a stored hash may ask for (4 GiB), so a
	// tampered row cannot make a sign-in allocate without bound.
	maxEncodedMemoryKiB = 4 << 20
	maxEncodedPasses    = 64
)

// errBadHash is a stored hash in no format this package knows.
var errBadHash = errors.New("auth: stored password hash is not argon2id or bcrypt")

// hashPassword returns the PHC string of password under p with a fresh salt.
func hashPassword(password string, p HashParams) string {
	salt := make([]byte, saltLen)
	_, _ = rand.Read(salt)
	return encodeArgon2id(p, salt, argon2.IDKey([]byte(password), salt, p.Passes, p.MemoryKiB, p.Lanes, keyLen))
}

// encodeArgon2id is the PHC string of an argon2id key.
func encodeArgon2id(p HashParams, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Passes, p.Lanes, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// unmatchableHash returns a PHC string under p with a random salt and a random
// key, made without running argon2id: no password matches it (finding one is
// a preimage of argon2id), yet checking a password against it costs exactly
// what checking a real hash under p costs. It equalises the time of a sign-in
// as an unknown user, at no cost at start.
func unmatchableHash(p HashParams) string {
	salt, key := make([]byte, saltLen), make([]byte, keyLen)
	_, _ = rand.Read(salt)
	_, _ = rand.Read(key)
	return encodeArgon2id(p, salt, key)
}

// parsedHash is a decoded argon2id PHC string.
type parsedHash struct {
	params    HashParams
	salt, key []byte
}

func parseArgon2id(encoded string) (*parsedHash, error) {
	parts := strings.Split(encoded, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return nil, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return nil, fmt.Errorf("auth: argon2id hash version %q is not v=%d", parts[2], argon2.Version)
	}
	var h parsedHash
	var m, t, p uint64
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || n != 3 {
		return nil, fmt.Errorf("auth: argon2id parameters %q unreadable", parts[3])
	}
	if m < 8*p || m > maxEncodedMemoryKiB || t < 1 || t > maxEncodedPasses || p < 1 || p > 255 {
		return nil, fmt.Errorf("auth: argon2id parameters %q out of range", parts[3])
	}
	h.params = HashParams{MemoryKiB: uint32(m), Passes: uint32(t), Lanes: uint8(p)}
	var err error
	if h.salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil || len(h.salt) < 8 {
		return nil, errors.New("auth: argon2id salt unreadable")
	}
	if h.key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(h.key) < 16 || len(h.key) > 64 {
		return nil, errors.New("auth: argon2id hash unreadable")
	}
	return &h, nil
}

func isBcrypt(encoded string) bool {
	return strings.HasPrefix(encoded, "$2a$") || strings.HasPrefix(encoded, "$2b$") || strings.HasPrefix(encoded, "$2y$")
}

// VerifyPasswordHash reports whether password matches encoded, an argon2id PHC
// string or a bcrypt hash. An error means the stored hash itself is unusable.
func VerifyPasswordHash(encoded, password string) (bool, error) {
	if isBcrypt(encoded) {
		err := bcrypt.CompareHashAndPassword([]byte(encoded), []byte(password))
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword), errors.Is(err, bcrypt.ErrPasswordTooLong):
			// A bcrypt hash was made from at most 72 bytes: a longer password is simply wrong.
			return false, nil
		default:
			return false, err
		}
	}
	h, err := parseArgon2id(encoded)
	if err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(password), h.salt, h.params.Passes, h.params.MemoryKiB, h.params.Lanes, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(key, h.key) == 1, nil
}

// needsRehash reports whether encoded should be replaced by a hash under p:
// bcrypt, unreadable, or argon2id with other parameters.
func needsRehash(encoded string, p HashParams) bool {
	h, err := parseArgon2id(encoded)
	return err != nil || h.params != p || len(h.key) != keyLen
}
