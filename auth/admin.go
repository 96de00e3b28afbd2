package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dcrconsole/dcrconsole/store"
)

// Errors of account administration, for messages an administrator can act on.
var (
	// ErrInvalidAccount wraps a username or role that the policy refuses.
	ErrInvalidAccount = errors.New("auth: invalid account")
	// ErrSelfChange is an administrator demoting, disabling or resetting their
	// own account from the users page: refused, so an administrator always remains
	// and nobody locks themselves out by a slip of the mouse.
	ErrSelfChange = errors.New("auth: you cannot change your own account here")
)

// CheckAccount enforces the rules for a new account: a username of 1 to 64
// printable characters without spaces, and one of the three roles.
func CheckAccount(username, role string) error {
	if username == "" || len(username) > 64 || !utf8.ValidString(username) ||
		strings.IndexFunc(username, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) >= 0 {
		return fmt.Errorf("%w: a username is 1 to 64 printable characters without spaces", ErrInvalidAccount)
	}
	if !ValidRole(role) {
		return fmt.Errorf("%w: choose the role viewer, operator or admin", ErrInvalidAccount)
	}
	return nil
}

// AddUser creates an account with a random one-time password, which it returns
// so the administrator can hand it over once; the user must change it at first login.
func (s *Service) AddUser(ctx context.Context, actor, username, role, remote string) (*store.User, string, error) {
	username = strings.TrimSpace(username)
	if err := CheckAccount(username, role); err != nil {
		return nil, "", err
	}
	password := RandomPassword()
	u, err := s.CreateUser(ctx, actor, username, password, role, true, remote)
	if err != nil {
		return nil, "", err
	}
	return u, password, nil
}

// ChangeUser sets the role and disabled flag of another account on behalf of
// the administrator by (see UpdateUser). An empty role keeps the current one.
// Demoting or disabling oneself is refused with ErrSelfChange, and audited.
func (s *Service) ChangeUser(ctx context.Context, by *store.User, userID int64, role string, disabled bool, remote string) (*store.User, error) {
	u, err := s.db.UserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	if role == "" {
		role = u.Role
	}
	if !ValidRole(role) {
		return nil, fmt.Errorf("%w: choose the role viewer, operator or admin", ErrInvalidAccount)
	}
	if u.ID == by.ID && (role != u.Role || disabled) {
		s.refuse(ctx, store.EventOperatorUserUpdate, by, "refused to demote or disable own account", remote)
		return nil, fmt.Errorf("%w: you cannot demote or disable your own account; ask another administrator", ErrSelfChange)
	}
	if err := s.UpdateUser(ctx, "user:"+by.Username, u.ID, role, disabled, remote); err != nil {
		return nil, err
	}
	u.Role, u.Disabled = role, disabled
	return u, nil
}

// ResetPassword gives another account a new random one-time password, which it
// returns; every session of that account ends and the user must change the
// password at the next login. Resetting one's own password is refused with
// ErrSelfChange: the change-password form asks for the current one.
func (s *Service) ResetPassword(ctx context.Context, by *store.User, userID int64, remote string) (*store.User, string, error) {
	u, err := s.db.UserByID(ctx, userID)
	if err != nil {
		return nil, "", err
	}
	if u.ID == by.ID {
		s.refuse(ctx, store.EventOperatorUserPassword, by, "refused to reset own password", remote)
		return nil, "", fmt.Errorf("%w: change your own password on your account page", ErrSelfChange)
	}
	password := RandomPassword()
	if err := s.SetPassword(ctx, "user:"+by.Username, u.ID, password, true, remote); err != nil {
		return nil, "", err
	}
	return u, password, nil
}

// refuse audits an account change that was refused; the audit write has its
// own transaction because nothing else changes.
func (s *Service) refuse(ctx context.Context, action store.EventType, by *store.User, reason, remote string) {
	ev := operatorEvent(action, "user:"+by.Username, store.OutcomeRejected, reason, remote)
	_ = s.audit.Record(context.WithoutCancel(ctx), ev)
}
