package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The MFA key keeps second-factor secrets out of reach of someone who can
// only read the database (a copied file, a backup, a stray SELECT): TOTP
// secrets are sealed with AES-256-GCM under a key derived from it, and
// recovery codes are stored as HMAC-SHA256 under another, so neither can be
// read nor brute-forced from the rows alone. The key lives in a file of its
// own (console.mfa_key_file), outside the database.
const mfaKeyBytes = 32

// ErrMFAKey is an MFA key file that cannot be used.
var ErrMFAKey = errors.New("auth: MFA key")

// LoadOrCreateMFAKey reads the hex key in path, creating it (mode 0600, 32
// random bytes) when the file does not exist.
func LoadOrCreateMFAKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key := make([]byte, mfaKeyBytes)
		_, _ = rand.Read(key)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMFAKey, err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			return LoadOrCreateMFAKey(path) // another process made it first
		}
		if err != nil {
			return nil, fmt.Errorf("%w: create %s: %v", ErrMFAKey, path, err)
		}
		_, werr := f.WriteString(hex.EncodeToString(key) + "\n")
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return nil, fmt.Errorf("%w: write %s: %v", ErrMFAKey, path, werr)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: read %s: %v", ErrMFAKey, path, err)
	}
	key, err := ParseMFAKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return key, nil
}

// ParseMFAKey reads an MFA key written as 64 hex digits.
func ParseMFAKey(text string) ([]byte, error) {
	key, err := hex.DecodeString(strings.TrimSpace(text))
	if err != nil || len(key) != mfaKeyBytes {
		return nil, fmt.Errorf("%w: must be %d bytes in hex (%d hex digits)", ErrMFAKey, mfaKeyBytes, 2*mfaKeyBytes)
	}
	return key, nil
}

// secrets derives the sealing and hashing keys from the MFA key.
type secrets struct {
	aead    cipher.AEAD
	codeKey []byte
}

func newSecrets(key []byte) *secrets {
	if len(key) == 0 { // tests and tools that never store a second factor for long
		key = make([]byte, mfaKeyBytes)
		_, _ = rand.Read(key)
	}
	block, _ := aes.NewCipher(derive(key, "dcrconsole totp seal v1"))
	aead, _ := cipher.NewGCM(block)
	return &secrets{aead: aead, codeKey: derive(key, "dcrconsole recovery code v1")}
}

func derive(key []byte, label string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// seal encrypts a TOTP secret, bound to its account.
func (s *secrets) seal(userID int64, plain string) string {
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	ct := s.aead.Seal(nonce, nonce, []byte(plain), []byte(strconv.FormatInt(userID, 10)))
	return "v1:" + base64.RawStdEncoding.EncodeToString(ct)
}

// open decrypts what seal made for the same account.
func (s *secrets) open(userID int64, sealed string) (string, error) {
	b64, ok := strings.CutPrefix(sealed, "v1:")
	raw, err := base64.RawStdEncoding.DecodeString(b64)
	if !ok || err != nil || len(raw) < s.aead.NonceSize() {
		return "", fmt.Errorf("%w: stored TOTP secret is malformed", ErrMFAKey)
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(strconv.FormatInt(userID, 10)))
	if err != nil {
		return "", fmt.Errorf("%w: stored TOTP secret does not open with this key (was console.mfa_key_file replaced?)", ErrMFAKey)
	}
	return string(plain), nil
}

// codeHash is the stored form of a recovery code of an account.
func (s *secrets) codeHash(userID int64, code string) string {
	m := hmac.New(sha256.New, s.codeKey)
	m.Write([]byte(strconv.FormatInt(userID, 10) + ":" + code))
	return hex.EncodeToString(m.Sum(nil))
}
