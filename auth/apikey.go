package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dcrconsole/dcrconsole/store"
)

// apiKeyPrefix marks dcrconsole API keys, so a leaked one is recognisable in a scan.
const apiKeyPrefix = "dcrk_"

// Errors of API key management.
var (
	ErrAPIKeyName    = errors.New("auth: an API key name is 1 to 64 letters, digits, '-', '_' or '.', not dots alone")
	ErrAPIKeyExists  = errors.New("auth: an API key with that name exists")
	ErrNoSuchAPIKey  = errors.New("auth: no active API key with that name")
	ErrInvalidAPIKey = errors.New("auth: invalid API key")
)

func hashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

func validKeyName(name string) bool {
	if name == "" || len(name) > 64 || strings.Trim(name, ".") == "" {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// NewAPIKey creates a key named name and returns it; it is shown this once and
// only its hash is kept.
func (s *Service) NewAPIKey(ctx context.Context, actor, name, remote string) (string, error) {
	if !validKeyName(name) {
		return "", ErrAPIKeyName
	}
	var raw [32]byte
	_, _ = rand.Read(raw[:])
	key := apiKeyPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	k := &store.APIKey{Name: name, KeyHash: hashAPIKey(key), CreatedBy: actor, CreatedAt: s.Now().UTC()}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := store.CreateAPIKey(tx, k); err != nil {
			return err
		}
		return s.audit.Append(tx, operatorEvent(store.EventOperatorAPIKeyCreate, actor, store.OutcomeSuccess, "created API key "+name, remote))
	})
	if errors.Is(err, store.ErrDuplicate) {
		return "", ErrAPIKeyExists
	}
	return key, err
}

// RevokeAPIKey revokes the key name at once.
func (s *Service) RevokeAPIKey(ctx context.Context, actor, name, remote string) error {
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := store.RevokeAPIKey(tx, name, s.Now().UTC()); err != nil {
			return err
		}
		return s.audit.Append(tx, operatorEvent(store.EventOperatorAPIKeyRevoke, actor, store.OutcomeSuccess, "revoked API key "+name, remote))
	})
	if errors.Is(err, store.ErrNotFound) {
		return ErrNoSuchAPIKey
	}
	return err
}

// AuthenticateAPIKey returns the name of the active key presented, or ErrInvalidAPIKey.
func (s *Service) AuthenticateAPIKey(ctx context.Context, key string) (string, error) {
	if !strings.HasPrefix(key, apiKeyPrefix) || len(key) > 100 {
		return "", ErrInvalidAPIKey
	}
	// The lookup is by hash: the stored value never equals the presented one,
	// so timing reveals nothing about stored keys.
	k, err := s.db.APIKeyByHash(ctx, hashAPIKey(key))
	if errors.Is(err, store.ErrNotFound) {
		return "", ErrInvalidAPIKey
	}
	if err != nil {
		return "", err
	}
	now := s.Now().UTC()
	if k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) > time.Minute {
		_ = s.db.Tx(ctx, func(tx *store.Tx) error { return store.TouchAPIKey(tx, k.Name, now) })
	}
	return k.Name, nil
}

// APIKeys lists the keys (names and dates, never key material).
func (s *Service) APIKeys(ctx context.Context) ([]store.APIKey, error) {
	keys, err := s.db.APIKeys(ctx)
	for i := range keys {
		keys[i].KeyHash = ""
	}
	if err != nil {
		return nil, fmt.Errorf("auth: list API keys: %w", err)
	}
	return keys, nil
}
