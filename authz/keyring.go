package authz

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/dcrconsole/dcrconsole/dcr"
	"github.com/dcrconsole/dcrconsole/jose"
	"github.com/dcrconsole/dcrconsole/store"
)

// KeyRing holds the Data Holder's own signing keys: the newest signs, every key
// still published verifies. Keys live in the database, so a rotation made by the
// CLI reaches a running server at its next Reload.
type KeyRing struct {
	db    *store.DB
	alg   string
	audit dcr.Auditor
	log   *slog.Logger

	reloadMu sync.Mutex // one Reload at a time, so a new signer is announced once

	mu     sync.RWMutex
	signer *holderKey
	byKID  map[string]*holderKey
	jwks   []byte
}

type holderKey struct {
	kid     string
	created time.Time
	alg     jwa.SignatureAlgorithm
	priv    crypto.Signer
	pub     jwk.Key
}

// NewKeyRing loads the holder's keys, generating the first one (alg ES256 or
// PS256) when the database has none. a audits the moment a reload starts signing
// with a new key.
func NewKeyRing(ctx context.Context, db *store.DB, alg string, a dcr.Auditor, log *slog.Logger) (*KeyRing, error) {
	k := &KeyRing{db: db, alg: alg, audit: a, log: log}
	keys, err := db.HolderKeys(ctx, time.Now())
	if err != nil {
		return nil, fmt.Errorf("holder keys: %w", err)
	}
	if len(keys) == 0 {
		if err := createFirstHolderKey(ctx, db, alg, log); err != nil {
			return nil, err
		}
	}
	return k, k.Reload(ctx)
}

// Reload reads the published keys from the database. When the signing key
// changed (a rotation by the CLI, or by another process), it logs and audits
// that this server now signs with the new key: the rotation event says a key was
// made, this one says when tokens started carrying it.
func (k *KeyRing) Reload(ctx context.Context) error {
	k.reloadMu.Lock()
	defer k.reloadMu.Unlock()
	rows, err := k.db.HolderKeys(ctx, time.Now())
	if err != nil {
		return fmt.Errorf("holder keys: %w", err)
	}
	byKID := make(map[string]*holderKey, len(rows))
	set := jwk.NewSet()
	var signer *holderKey
	for _, row := range rows {
		hk, err := parseHolderKey(row)
		if err != nil {
			return fmt.Errorf("holder key %s: %w", row.KID, err)
		}
		byKID[hk.kid] = hk
		if row.RetiredAt == nil && signer == nil {
			signer = hk // rows are newest first
		}
		if err := set.AddKey(hk.pub); err != nil {
			return err
		}
	}
	if signer == nil {
		return errors.New("holder keys: no signing key (run `dcrconsole keys rotate`)")
	}
	jwks, err := json.Marshal(set)
	if err != nil {
		return err
	}
	k.mu.Lock()
	previous := k.signer
	k.signer, k.byKID, k.jwks = signer, byKID, jwks
	k.mu.Unlock()
	if previous != nil && previous.kid != signer.kid {
		k.announce(ctx, previous.kid, signer)
	}
	return nil
}

// announce logs and audits that signer replaced the key previousKID.
func (k *KeyRing) announce(ctx context.Context, previousKID string, signer *holderKey) {
	k.log.Info("holder key reload: signing with a new key", "kid", signer.kid, "alg", signer.alg.String(), "previous_kid", previousKID)
	if k.audit == nil {
		return
	}
	ev := &store.AuditEvent{Type: store.EventHolderKeyActivate, Actor: "server", Outcome: store.OutcomeSuccess,
		Reason: fmt.Sprintf("this server now signs with key %s (%s); it replaced %s", signer.kid, signer.alg, previousKID),
		Data:   fmt.Sprintf(`{"kid":%q,"alg":%q,"previous_kid":%q}`, signer.kid, signer.alg.String(), previousKID)}
	if err := k.audit.Record(context.WithoutCancel(ctx), ev); err != nil {
		k.log.Error("audit: holder key activation not recorded", "kid", signer.kid, "error", err)
	}
}

// SigningKey returns the id of the key that signs now and when it was made.
func (k *KeyRing) SigningKey() (kid string, created time.Time) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.signer.kid, k.signer.created
}

// JWKS is the public key set (the /jwks document).
func (k *KeyRing) JWKS() []byte {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.jwks
}

// SigningKeyID is the kid that signs new tokens.
func (k *KeyRing) SigningKeyID() string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.signer.kid
}

// Sign makes a compact JWS of claims with the signing key and the given typ.
func (k *KeyRing) Sign(claims any, typ string) (string, error) {
	k.mu.RLock()
	s := k.signer
	k.mu.RUnlock()
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	hdr := jws.NewHeaders()
	_ = hdr.Set(jws.KeyIDKey, s.kid)
	_ = hdr.Set(jws.TypeKey, typ)
	out, err := jws.Sign(payload, jws.WithKey(s.alg, s.priv, jws.WithProtectedHeaders(hdr)))
	return string(out), err
}

// Key returns the published public key kid, for verifying the holder's own tokens.
func (k *KeyRing) Key(kid string) (jwk.Key, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	hk, ok := k.byKID[kid]
	if !ok {
		return nil, false
	}
	return hk.pub, true
}

// RotateHolderKey generates a new signing key; the previous ones are retired and
// stay published for publishFor (longer than any token they signed can live).
// With a non-nil Auditor the rotation is audited, by actor, in the same
// transaction. (The very first key is createFirstHolderKey's.)
func RotateHolderKey(ctx context.Context, db *store.DB, a dcr.Auditor, actor, alg string, publishFor time.Duration) (string, error) {
	row, err := newHolderKeyRow(alg)
	if err != nil {
		return "", err
	}
	kid, now := row.KID, row.CreatedAt
	err = db.Tx(ctx, func(tx *store.Tx) error {
		if err := store.AddHolderKey(tx, row, now.Add(publishFor)); err != nil || a == nil {
			return err
		}
		return a.Append(tx, &store.AuditEvent{Type: store.EventHolderKeyRotate, Actor: actor, Outcome: store.OutcomeSuccess,
			Reason: fmt.Sprintf("new signing key %s (%s); previous keys published until %s", kid, alg, now.Add(publishFor).Format(time.RFC3339)),
			Data:   fmt.Sprintf(`{"kid":%q,"alg":%q}`, kid, alg)})
	})
	return kid, err
}

// createFirstHolderKey stores a first signing key unless another process (a
// replica starting at the same moment) stored one first: the database decides,
// so exactly one first key exists and every replica signs with it.
func createFirstHolderKey(ctx context.Context, db *store.DB, alg string, log *slog.Logger) error {
	row, err := newHolderKeyRow(alg)
	if err != nil {
		return err
	}
	var added bool
	err = db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		added, err = store.AddFirstHolderKey(tx, row)
		return err
	})
	if err != nil {
		return fmt.Errorf("holder keys: first key: %w", err)
	}
	if added {
		log.Info("generated the holder's first signing key", "kid", row.KID, "alg", alg)
	}
	return nil
}

// newHolderKeyRow generates a signing key for alg (ES256 or PS256) as a row:
// the kid is the key's JWK thumbprint.
func newHolderKeyRow(alg string) (*store.HolderKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case "ES256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "PS256":
		priv, err = rsa.GenerateKey(rand.Reader, 3072)
	default:
		return nil, fmt.Errorf("holder signing alg %q is not ES256 or PS256", alg)
	}
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	pub, err := jwk.FromRaw(priv.Public())
	if err != nil {
		return nil, err
	}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, err
	}
	return &store.HolderKey{KID: base64.RawURLEncoding.EncodeToString(tp), Alg: alg, CreatedAt: time.Now().UTC(),
		PrivatePEM: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))}, nil
}

func parseHolderKey(row store.HolderKey) (*holderKey, error) {
	block, _ := pem.Decode([]byte(row.PrivatePEM))
	if block == nil {
		return nil, errors.New("private key is not PEM")
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	priv, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported private key type %T", parsed)
	}
	alg, ok := jose.SigningAlg(row.Alg)
	if !ok {
		return nil, fmt.Errorf("alg %q", row.Alg)
	}
	pub, err := jwk.FromRaw(priv.Public())
	if err != nil {
		return nil, err
	}
	_ = pub.Set(jwk.KeyIDKey, row.KID)
	_ = pub.Set(jwk.AlgorithmKey, alg)
	_ = pub.Set(jwk.KeyUsageKey, "sig")
	return &holderKey{kid: row.KID, created: row.CreatedAt, alg: alg, priv: priv, pub: pub}, nil
}
