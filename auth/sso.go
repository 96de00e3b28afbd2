package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dcrconsole/dcrconsole/store"
)

// Errors of single sign-on, for the refusal page.
var (
	// ErrSSOAccount is an SSO sign-in refused because of the account: disabled
	// by an administrator, or its username is a local account's.
	ErrSSOAccount = errors.New("auth: this single sign-on account cannot sign in here")
	// ErrLocalLoginOff is a password sign-in by a non-administrator while
	// console.oidc.allow_local_login is false.
	ErrLocalLoginOff = errors.New("auth: password sign-in is for administrators only; sign in with SSO")
	// ErrSSOOnly is a password set on an account that signs in with SSO.
	ErrSSOOnly = errors.New("auth: this account signs in with single sign-on and has no password")
)

// SSOIdentity is who the IdP says signed in and the role its claim maps to.
type SSOIdentity struct {
	Issuer, Subject string
	// Username names a new account; an existing one keeps its name.
	Username string
	// Role is the mapped role; Claim says where it came from, for the audit log.
	Role  string
	Claim string
}

func (id SSOIdentity) actor() string { return "sso:" + truncate(id.Username, 64) }

// SSOLogin opens a session for an identity the IdP vouched for. A first
// sign-in provisions the account (marked with its issuer and subject, without
// a usable password); every sign-in sets the role the claim maps to, auditing
// a change. The session lasts at most the idle timeout: the IdP's word on the
// role is asked again at least that often, so a user removed from the group
// loses access within it.
func (s *Service) SSOLogin(ctx context.Context, id SSOIdentity, remote, userAgent string) (*Session, error) {
	if !ValidRole(id.Role) {
		return nil, fmt.Errorf("auth: SSO role %q is not viewer, operator or admin", id.Role)
	}
	// Neither backend's text column holds a NUL (PostgreSQL refuses it), and no
	// account name needs one: refused, like any other unusable identity.
	for _, v := range []string{id.Issuer, id.Subject, id.Username} {
		if store.StorableText(v) != v {
			s.RefuseSSO(ctx, &id, "the identity provider's claims hold a NUL character or invalid UTF-8", remote)
			return nil, ErrSSOAccount
		}
	}
	u, err := s.db.UserByIDPSubject(ctx, id.Issuer, id.Subject)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if u != nil && u.Disabled {
		s.RefuseSSO(ctx, &id, "account disabled by an administrator", remote)
		return nil, ErrSSOAccount
	}
	at := s.Now().UTC()
	// Stage "": fully signed in. The IdP did the sign-in and any second factor;
	// console.require_mfa is for local password sign-in only.
	token, sess := s.newSession(0, "", remote, userAgent, at)
	lifetime := min(s.opts.IdleTimeout, s.opts.AbsoluteTimeout)
	sess.ExpiresAt = at.Add(lifetime)
	provisioned := u == nil
	if provisioned {
		u = &store.User{Username: id.Username, PasswordHash: unmatchableHash(s.opts.Hash), Role: id.Role,
			CreatedAt: at, UpdatedAt: at, IDPIssuer: id.Issuer, IDPSubject: id.Subject}
	}
	before := u.Role
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := s.recordSSOAccount(tx, u, before, id, provisioned, remote); err != nil {
			return err
		}
		if err := store.RecordSSOLogin(tx, u.ID, id.Role, at); err != nil {
			return err
		}
		sess.UserID = u.ID
		if err := store.CreateSession(tx, sess); err != nil {
			return err
		}
		return s.audit.Append(tx, operatorEvent(store.EventOperatorSSOLogin, "user:"+u.Username, store.OutcomeSuccess,
			fmt.Sprintf("signed in with single sign-on as %s (role %s from %s; session ends within %s)", u.Username, id.Role, id.Claim, lifetime), remote))
	})
	switch {
	case errors.Is(err, store.ErrUsernameTaken):
		s.RefuseSSO(ctx, &id, "username "+id.Username+" is already a local account's; rename or remove that account", remote)
		return nil, ErrSSOAccount
	case errors.Is(err, store.ErrNotFound):
		s.RefuseSSO(ctx, &id, "account disabled during sign-in", remote)
		return nil, ErrSSOAccount
	case err != nil:
		return nil, err
	}
	u.Role, u.LastLoginAt = id.Role, &at
	return &Session{Token: token, User: *u, IDHash: sess.IDHash}, nil
}

// recordSSOAccount creates a provisioned account, or audits the role change
// of an existing one, inside tx.
func (s *Service) recordSSOAccount(tx *store.Tx, u *store.User, before string, id SSOIdentity, provisioned bool, remote string) error {
	if provisioned {
		if err := store.CreateUser(tx, u); err != nil {
			return err
		}
		return s.audit.Append(tx, operatorEvent(store.EventOperatorUserCreate, id.actor(), store.OutcomeSuccess,
			fmt.Sprintf("provisioned by single sign-on: user %s (issuer %s, subject %s) with role %s from %s",
				u.Username, id.Issuer, id.Subject, id.Role, id.Claim), remote))
	}
	if before == id.Role {
		return nil
	}
	return s.audit.Append(tx, operatorEvent(store.EventOperatorSSORole, id.actor(), store.OutcomeSuccess,
		fmt.Sprintf("user %s: role %s -> %s from %s", u.Username, before, id.Role, id.Claim), remote))
}

// RefuseSSO audits a refused SSO sign-in (id is nil when the IdP's answer
// named nobody). When the account exists, its sessions end with the refusal:
// a user removed from the mapped groups keeps no session.
func (s *Service) RefuseSSO(ctx context.Context, id *SSOIdentity, reason, remote string) {
	actor := "sso"
	if id != nil {
		actor = id.actor()
		if id.Subject != "" {
			reason += fmt.Sprintf(" (issuer %s, subject %s)", id.Issuer, id.Subject)
		}
	}
	ev := operatorEvent(store.EventOperatorSSOLogin, actor, store.OutcomeRejected, strings.TrimSpace(reason), remote)
	var u *store.User
	if id != nil && id.Subject != "" {
		u, _ = s.db.UserByIDPSubject(ctx, id.Issuer, id.Subject)
	}
	if u == nil {
		_ = s.audit.Record(context.WithoutCancel(ctx), ev)
		return
	}
	ev.Reason += "; every session of " + u.Username + " ended"
	_ = s.audit.Record(context.WithoutCancel(ctx), ev, func(tx *store.Tx) error {
		_, err := store.DeleteUserSessions(tx, u.ID)
		return err
	})
}
