package auth

import (
	"context"
	"encoding/base32"
	"errors"
	"fmt"
	"time"

	"github.com/dcrconsole/dcrconsole/store"
)

var base32NoPad = base32.StdEncoding.WithPadding(base32.NoPadding)

// pendingTimeout ends a half-authenticated session (second factor or
// enrolment still to do) this long after the password was accepted.
const pendingTimeout = 10 * time.Minute

// SecondFactor completes a sign-in whose password was accepted (a session in
// store.StageSecondFactor) with a code from the authenticator app or a
// recovery code. Wrong codes count against the account's and the address's
// sign-in throttle; an app code is accepted once (a replay within its window
// is refused), a recovery code once ever. On success the pending session is
// replaced by a signed-in one with a new token.
func (s *Service) SecondFactor(ctx context.Context, pending *Session, code, remote, userAgent string) (*Session, error) {
	if pending.Stage != store.StageSecondFactor {
		return nil, ErrNoSession
	}
	u := pending.User
	wait, err := s.throttle.begin(ctx, u.Username, remote, s.Now())
	if err != nil {
		return nil, err
	}
	if wait > 0 {
		s.recordLogin(ctx, u.Username, store.OutcomeRejected, fmt.Sprintf("second factor throttled for %s", wait.Round(time.Second)), remote)
		return nil, ErrThrottled
	}
	ok := false
	defer func() { _ = s.throttle.end(ctx, u.Username, remote, s.Now(), ok) }()
	code = normalizeCode(code)
	use, reason, err := s.checkCode(ctx, &u, code)
	if err != nil {
		return nil, err
	}
	if use == nil {
		s.recordLogin(ctx, u.Username, store.OutcomeRejected, reason, remote)
		return nil, ErrInvalidCode
	}
	sess, err := s.promote(ctx, pending, remote, userAgent, reason, use)
	if errors.Is(err, store.ErrNotFound) {
		why := "authenticator code used already (replay refused), or the sign-in ended"
		if len(code) == recoveryCodeLen {
			why = "wrong or used recovery code, or the sign-in ended"
		}
		s.recordLogin(ctx, u.Username, store.OutcomeRejected, why, remote)
		return nil, ErrInvalidCode
	}
	ok = err == nil
	return sess, err
}

// checkCode finds what code is: a current app code or an unused recovery code.
// It returns the write that consumes it (nil and the refusal's reason when it
// is neither), and the reason a success is audited with.
func (s *Service) checkCode(ctx context.Context, u *store.User, code string) (func(tx *store.Tx) error, string, error) {
	if len(code) == 6 && isDigits(code) {
		row, err := s.db.TOTPByUser(ctx, u.ID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && row.ConfirmedAt == nil) {
			return nil, "authenticator code given, but no authenticator app is set up", nil
		}
		if err != nil {
			return nil, "", err
		}
		secret, err := s.secrets.open(u.ID, row.Secret)
		if err != nil {
			return nil, "", err
		}
		step, match := matchTOTP(secret, code, s.Now())
		if !match {
			return nil, "wrong authenticator code", nil
		}
		if step <= row.LastStep {
			return nil, "authenticator code used already (replay refused)", nil
		}
		return func(tx *store.Tx) error { return store.UseTOTPStep(tx, u.ID, step) }, "signed in with password and authenticator code", nil
	}
	if len(code) != recoveryCodeLen {
		return nil, "malformed second factor code", nil
	}
	hash := s.secrets.codeHash(u.ID, code)
	left, err := s.db.UnusedRecoveryCodes(ctx, u.ID)
	if err != nil {
		return nil, "", err
	}
	return func(tx *store.Tx) error { return store.UseRecoveryCode(tx, u.ID, hash, s.Now().UTC()) },
		fmt.Sprintf("signed in with password and a recovery code (at most %d left)", max(left-1, 0)), nil
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// ResetMFA removes every second factor of another account (authenticator app,
// recovery codes, passkeys) on an administrator's behalf and ends its
// sessions; at the next sign-in the user sets one up again if their role must
// have one. Resetting one's own is refused (ErrSelfChange).
func (s *Service) ResetMFA(ctx context.Context, by *store.User, userID int64, remote string) (*store.User, error) {
	u, err := s.db.UserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	if u.ID == by.ID {
		s.refuse(ctx, store.EventOperatorMFAReset, by, "refused to reset own second factors", remote)
		return nil, fmt.Errorf("%w: manage your own second factors on your account page", ErrSelfChange)
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		app, err := store.DeleteTOTP(tx, u.ID)
		if err != nil {
			return err
		}
		codes, err := store.DeleteRecoveryCodes(tx, u.ID)
		if err != nil {
			return err
		}
		keys, err := store.DeletePasskeys(tx, u.ID)
		if err != nil {
			return err
		}
		ended, err := store.DeleteUserSessions(tx, u.ID)
		if err != nil {
			return err
		}
		return s.audit.Append(tx, operatorEvent(store.EventOperatorMFAReset, "user:"+by.Username, store.OutcomeSuccess,
			fmt.Sprintf("second factors of %s reset: %d authenticator app, %d recovery codes, %d passkeys removed; %d sessions ended",
				u.Username, app, codes, keys, ended), remote))
	})
	return u, err
}
