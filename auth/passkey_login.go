package auth

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/dcrconsole/dcrconsole/store"
)

// BeginPasskeyLogin starts a passkey sign-in: as the primary factor when
// pending is nil (a discoverable passkey names its account; user verification
// required, so the passkey alone is multi-factor), or as the second factor of
// a session in store.StageSecondFactor (one of that account's passkeys).
func (s *Service) BeginPasskeyLogin(ctx context.Context, pending *Session) (*Ceremony, error) {
	if s.passkeys == nil {
		return nil, ErrPasskeysOff
	}
	if pending == nil {
		assertion, session, err := s.passkeys.wa.BeginDiscoverableLogin(
			webauthn.WithUserVerification(protocol.VerificationRequired))
		if err != nil {
			return nil, err
		}
		return s.saveCeremony(ctx, ceremonyPrimary, 0, assertion.Response, ceremonyData{Session: *session})
	}
	if pending.Stage != store.StageSecondFactor {
		return nil, ErrNoSession
	}
	w, err := s.waUser(ctx, pending.User)
	if err != nil {
		return nil, err
	}
	if len(w.creds) == 0 {
		return nil, fmt.Errorf("%w: this account has no passkey; use your authenticator app or a recovery code", ErrPasskey)
	}
	assertion, session, err := s.passkeys.wa.BeginLogin(w)
	if err != nil {
		return nil, err
	}
	return s.saveCeremony(ctx, ceremonySecond, pending.User.ID, assertion.Response, ceremonyData{Session: *session})
}

// FinishPasskeyLogin checks the browser's answer to a passkey sign-in begun
// with BeginPasskeyLogin (the same pending, nil for the primary factor) and
// opens a signed-in session; refusals are audited.
func (s *Service) FinishPasskeyLogin(ctx context.Context, pending *Session, ceremonyID string, body io.Reader, remote, userAgent string) (*Session, error) {
	if s.passkeys == nil {
		return nil, ErrPasskeysOff
	}
	kind, userID, via := ceremonyPrimary, int64(0), "signed in with a passkey"
	if pending != nil {
		if pending.Stage != store.StageSecondFactor {
			return nil, ErrNoSession
		}
		kind, userID, via = ceremonySecond, pending.User.ID, "signed in with password and a passkey"
	}
	d, err := s.takeCeremony(ctx, ceremonyID, kind, userID)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBody(body)
	if err != nil {
		return nil, s.passkeyRefused(ctx, pending, "", remote, err)
	}
	w, cred, err := s.validatePasskey(ctx, pending, d.Session, parsed)
	if err != nil {
		return nil, s.passkeyRefused(ctx, pending, "", remote, err)
	}
	if w.u.Disabled {
		return nil, s.passkeyRefused(ctx, pending, w.u.Username, remote, errors.New("account disabled"))
	}
	if cred.Authenticator.CloneWarning {
		return nil, s.passkeyRefused(ctx, pending, w.u.Username, remote, errors.New("signature counter went back: the passkey may be cloned"))
	}
	id := base64.RawURLEncoding.EncodeToString(cred.ID)
	raw, err := json.Marshal(cred)
	if err != nil {
		return nil, err
	}
	name := ""
	for _, r := range w.rows {
		if r.ID == id {
			name = r.Name
		}
	}
	from := pending
	if from == nil {
		from = &Session{User: w.u}
	}
	use := func(tx *store.Tx) error { return store.PasskeyUsed(tx, id, string(raw), s.Now().UTC()) }
	sess, err := s.promote(ctx, from, remote, userAgent, via+" ("+name+")", use)
	if errors.Is(err, store.ErrNotFound) {
		return nil, s.passkeyRefused(ctx, pending, w.u.Username, remote, errors.New("account changed or session ended during sign-in"))
	}
	return sess, err
}

// validatePasskey runs the library's checks: signature, challenge, origin,
// RP ID, user verification, and that the passkey belongs to the account.
func (s *Service) validatePasskey(ctx context.Context, pending *Session, session webauthn.SessionData, parsed *protocol.ParsedCredentialAssertionData) (*waUser, *webauthn.Credential, error) {
	if pending != nil {
		w, err := s.waUser(ctx, pending.User)
		if err != nil {
			return nil, nil, err
		}
		cred, err := s.passkeys.wa.ValidateLogin(w, session, parsed)
		return w, cred, err
	}
	var found *waUser
	handler := func(rawID, handle []byte) (webauthn.User, error) {
		if len(handle) != 8 {
			return nil, errors.New("unknown user handle")
		}
		u, err := s.db.UserByID(ctx, int64(binary.BigEndian.Uint64(handle)))
		if err != nil {
			return nil, err
		}
		found, err = s.waUser(ctx, *u)
		return found, err
	}
	_, cred, err := s.passkeys.wa.ValidatePasskeyLogin(handler, session, parsed)
	return found, cred, err
}

// passkeyRefused audits a refused passkey sign-in and returns ErrPasskey.
func (s *Service) passkeyRefused(ctx context.Context, pending *Session, username, remote string, cause error) error {
	if username == "" && pending != nil {
		username = pending.User.Username
	}
	if username == "" {
		username = "(passkey)"
	}
	s.recordLogin(ctx, username, store.OutcomeRejected, "passkey not accepted: "+truncate(cause.Error(), 300), remote)
	return ErrPasskey
}
