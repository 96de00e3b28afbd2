package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/dcrconsole/dcrconsole/store"
)

// Passkey errors, for messages a user can act on.
var (
	// ErrPasskeysOff: no usable public origin is configured for the console.
	ErrPasskeysOff = errors.New("auth: passkeys are not available on this console")
	// ErrPasskey is a passkey ceremony that failed (wrong or unknown passkey,
	// expired or replayed challenge, another origin).
	ErrPasskey = errors.New("auth: the passkey was not accepted")
	// ErrPasskeyName is a name outside 1 to 64 printable characters.
	ErrPasskeyName = errors.New("auth: name the passkey with 1 to 64 printable characters")
)

// Ceremony kinds, and how long a begun ceremony may take.
const (
	ceremonyRegister = "register"
	ceremonySecond   = "second"
	ceremonyPrimary  = "primary"
	ceremonyTTL      = 5 * time.Minute
)

type passkeys struct{ wa *webauthn.WebAuthn }

// newPasskeys configures the relying party from the console's public origin:
// its host is the RP ID (so an IP address, which WebAuthn refuses, turns
// passkeys off), the origin the only one accepted.
func newPasskeys(origin, name string) *passkeys {
	u, err := url.Parse(origin)
	if origin == "" || err != nil || u.Hostname() == "" {
		return nil
	}
	wa, err := webauthn.New(&webauthn.Config{RPID: u.Hostname(), RPDisplayName: name,
		RPOrigins: []string{u.Scheme + "://" + u.Host}})
	if err != nil {
		return nil
	}
	return &passkeys{wa: wa}
}

// PasskeysEnabled reports whether the console offers passkeys.
func (s *Service) PasskeysEnabled() bool { return s.passkeys != nil }

// waUser is an account as the WebAuthn library sees it: its user handle is
// the account id (8 bytes), so a discoverable passkey names its account.
type waUser struct {
	u     store.User
	creds []webauthn.Credential
	rows  []store.Passkey
}

func (w *waUser) WebAuthnID() []byte                         { return userHandle(w.u.ID) }
func (w *waUser) WebAuthnName() string                       { return w.u.Username }
func (w *waUser) WebAuthnDisplayName() string                { return w.u.Username }
func (w *waUser) WebAuthnCredentials() []webauthn.Credential { return w.creds }

func userHandle(id int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(id)) }

func (s *Service) waUser(ctx context.Context, u store.User) (*waUser, error) {
	rows, err := s.db.PasskeysForUser(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	w := &waUser{u: u, rows: rows}
	for _, r := range rows {
		var c webauthn.Credential
		if err := json.Unmarshal([]byte(r.Credential), &c); err != nil {
			return nil, fmt.Errorf("auth: stored passkey %s: %w", r.ID, err)
		}
		w.creds = append(w.creds, c)
	}
	return w, nil
}

// Passkeys lists an account's passkeys.
func (s *Service) Passkeys(ctx context.Context, userID int64) ([]store.Passkey, error) {
	return s.db.PasskeysForUser(ctx, userID)
}

type ceremonyData struct {
	Session webauthn.SessionData `json:"session"`
	Name    string               `json:"name,omitempty"`
}

// Ceremony is a begun passkey ceremony: its id (to finish it with) and the
// options for navigator.credentials (JSON, binary fields in base64url).
type Ceremony struct {
	ID      string          `json:"ceremony"`
	Options json.RawMessage `json:"options"`
}

func (s *Service) saveCeremony(ctx context.Context, kind string, userID int64, options any, data ceremonyData) (*Ceremony, error) {
	opts, err := json.Marshal(options)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, err
	}
	var id [18]byte
	_, _ = rand.Read(id[:])
	c := &store.WebAuthnCeremony{ID: base64.RawURLEncoding.EncodeToString(id[:]), Kind: kind, UserID: userID,
		Data: string(raw), ExpiresAt: s.Now().UTC().Add(ceremonyTTL)}
	if err := s.db.Tx(ctx, func(tx *store.Tx) error { return store.CreateCeremony(tx, c) }); err != nil {
		return nil, err
	}
	return &Ceremony{ID: c.ID, Options: opts}, nil
}

func (s *Service) takeCeremony(ctx context.Context, id, kind string, userID int64) (*ceremonyData, error) {
	var c *store.WebAuthnCeremony
	err := s.db.Tx(ctx, func(tx *store.Tx) (err error) {
		c, err = store.TakeCeremony(tx, id, kind, s.Now().UTC())
		return err
	})
	if errors.Is(err, store.ErrNotFound) || (err == nil && c.UserID != userID) {
		return nil, fmt.Errorf("%w: the request expired or was used already; try again", ErrPasskey)
	}
	if err != nil {
		return nil, err
	}
	var d ceremonyData
	if err := json.Unmarshal([]byte(c.Data), &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// BeginPasskeyRegistration starts adding a passkey named name to u. The
// passkey is discoverable (it can sign in without a username).
func (s *Service) BeginPasskeyRegistration(ctx context.Context, u *store.User, name string) (*Ceremony, error) {
	if s.passkeys == nil {
		return nil, ErrPasskeysOff
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 64 || strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return nil, ErrPasskeyName
	}
	w, err := s.waUser(ctx, *u)
	if err != nil {
		return nil, err
	}
	var exclude []protocol.CredentialDescriptor
	for _, c := range w.creds {
		exclude = append(exclude, c.Descriptor())
	}
	creation, session, err := s.passkeys.wa.BeginRegistration(w,
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired),
		webauthn.WithExclusions(exclude))
	if err != nil {
		return nil, err
	}
	return s.saveCeremony(ctx, ceremonyRegister, u.ID, creation.Response, ceremonyData{Session: *session, Name: name})
}

// FinishPasskeyRegistration checks the browser's answer to a registration
// ceremony of u and stores the passkey; audited.
func (s *Service) FinishPasskeyRegistration(ctx context.Context, u *store.User, ceremonyID string, body io.Reader, remote string) (*store.Passkey, error) {
	if s.passkeys == nil {
		return nil, ErrPasskeysOff
	}
	d, err := s.takeCeremony(ctx, ceremonyID, ceremonyRegister, u.ID)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBody(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPasskey, err)
	}
	w, err := s.waUser(ctx, *u)
	if err != nil {
		return nil, err
	}
	cred, err := s.passkeys.wa.CreateCredential(w, d.Session, parsed)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPasskey, err)
	}
	raw, err := json.Marshal(cred)
	if err != nil {
		return nil, err
	}
	p := &store.Passkey{ID: base64.RawURLEncoding.EncodeToString(cred.ID), UserID: u.ID, Name: d.Name,
		Credential: string(raw), CreatedAt: s.Now().UTC()}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := store.CreatePasskey(tx, p); err != nil {
			return err
		}
		return s.audit.Append(tx, operatorEvent(store.EventOperatorMFAEnrol, "user:"+u.Username, store.OutcomeSuccess,
			"passkey added: "+d.Name, remote))
	})
	return p, err
}

// RemovePasskey removes one of u's passkeys, unless it is the only second
// factor of an account that must have one (ErrLastFactor); audited.
func (s *Service) RemovePasskey(ctx context.Context, u *store.User, id, remote string) error {
	f, err := s.Factors(ctx, u.ID)
	if err != nil {
		return err
	}
	if !f.TOTP && f.Passkeys == 1 && s.MFARequired(u.Role) {
		return ErrLastFactor
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		p, err := store.DeletePasskey(tx, u.ID, id)
		if err != nil {
			return err
		}
		return s.audit.Append(tx, operatorEvent(store.EventOperatorMFARemove, "user:"+u.Username, store.OutcomeSuccess, "passkey removed: "+p.Name, remote))
	})
}
