package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/dcrconsole/dcrconsole/store"
)

// ActiveSessions lists the sessions of a user that are still valid (neither
// idle nor past their absolute expiry), most recently used first. A session's
// IDHash matches Session.IDHash, so a caller can mark its own.
func (s *Service) ActiveSessions(ctx context.Context, userID int64) ([]store.Session, error) {
	all, err := s.db.SessionsForUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	active := all[:0]
	for _, sess := range all {
		if s.alive(sess) {
			active = append(active, sess)
		}
	}
	return active, nil
}

// maxListedSessions bounds the administrator's sessions page.
const maxListedSessions = 1000

// AllSessions lists every valid session of every account, most recently used
// first (at most 1000), for the administrator's sessions page.
func (s *Service) AllSessions(ctx context.Context) ([]store.SessionWithUser, error) {
	all, err := s.db.AllSessions(ctx, maxListedSessions)
	if err != nil {
		return nil, err
	}
	active := all[:0]
	for _, sw := range all {
		if s.alive(sw.Session) && !sw.User.Disabled {
			active = append(active, sw)
		}
	}
	return active, nil
}

func (s *Service) alive(sess store.Session) bool {
	now := s.Now().UTC()
	return !now.After(sess.ExpiresAt) && now.Sub(sess.LastSeenAt) <= s.opts.IdleTimeout
}

// EndSession ends the session idHash on behalf of by: an administrator ends
// any (ownerOnly false), a user only their own (ownerOnly true); audited.
// ErrNoSession when there is no such session.
func (s *Service) EndSession(ctx context.Context, by *store.User, idHash string, ownerOnly bool, remote string) error {
	owner := int64(0)
	if ownerOnly {
		owner = by.ID
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		ended, err := store.TakeSession(tx, idHash, owner)
		if errors.Is(err, store.ErrNotFound) {
			return ErrNoSession
		}
		if err != nil {
			return err
		}
		whose := "own session"
		if ended.UserID != by.ID {
			u, err := s.db.UserByID(ctx, ended.UserID)
			if err != nil {
				return err
			}
			whose = "session of " + u.Username
		}
		reason := "ended " + whose + " signed in at " + ended.CreatedAt.UTC().Format(time.RFC3339) + " from " + ended.RemoteAddr
		return s.audit.Append(tx, operatorEvent(store.EventOperatorSessionEnd, "user:"+by.Username, store.OutcomeSuccess, reason, remote))
	})
}

// newSession makes a session token and its row; a half-authenticated one
// (stage not "") lives pendingTimeout at most.
func (s *Service) newSession(userID int64, stage, remote, userAgent string, at time.Time) (string, *store.Session) {
	var raw [32]byte
	_, _ = rand.Read(raw[:])
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	expires := at.Add(s.opts.AbsoluteTimeout)
	if stage != "" {
		expires = at.Add(min(pendingTimeout, s.opts.AbsoluteTimeout))
	}
	return token, &store.Session{IDHash: hashToken(token), UserID: userID, CreatedAt: at, LastSeenAt: at,
		ExpiresAt: expires, RemoteAddr: remote, UserAgent: store.StorableText(truncate(userAgent, 200)), Stage: stage}
}

// nextStage is where a sign-in goes after the password: the second factor
// when the account has one, enrolment when it must and has none, else in.
func (s *Service) nextStage(ctx context.Context, u *store.User) (string, error) {
	f, err := s.Factors(ctx, u.ID)
	switch {
	case err != nil:
		return "", err
	case f.Any():
		return store.StageSecondFactor, nil
	case s.MFARequired(u.Role):
		return store.StageEnrol, nil
	}
	return "", nil
}

// recordSignIn notes a completed sign-in on the account, guarded: if the
// account was disabled or its password changed since it was checked, it
// fails with store.ErrNotFound and no session is made. A half-authenticated
// session is no sign-in yet.
func (s *Service) recordSignIn(tx *store.Tx, u *store.User, stage string, at time.Time) error {
	if stage != "" {
		return nil
	}
	if err := store.RecordLogin(tx, u.ID, u.PasswordHash, at); err != nil {
		return err
	}
	u.LastLoginAt = &at
	return nil
}

// promote signs u in: it ends the half-authenticated session pending (when
// there is one; store.ErrNotFound when it has ended meanwhile), runs use (the
// write that consumes the second factor) and opens a session with a new
// token, all in one transaction with the audit event.
func (s *Service) promote(ctx context.Context, pending *Session, remote, userAgent, reason string, use func(tx *store.Tx) error) (*Session, error) {
	u := pending.User
	at := s.Now().UTC()
	token, row := s.newSession(u.ID, "", remote, userAgent, at)
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		if pending.IDHash != "" {
			if _, err := store.TakeSession(tx, pending.IDHash, u.ID); err != nil {
				return err
			}
		}
		if use != nil {
			if err := use(tx); err != nil {
				return err
			}
		}
		if err := s.recordSignIn(tx, &u, "", at); err != nil {
			return err
		}
		if err := store.CreateSession(tx, row); err != nil {
			return err
		}
		return s.audit.Append(tx, operatorEvent(store.EventOperatorLogin, "user:"+u.Username, store.OutcomeSuccess, reason, remote))
	})
	if err != nil {
		return nil, err
	}
	return &Session{Token: token, User: u, IDHash: row.IDHash}, nil
}

// CompleteEnrolment signs in a session in store.StageEnrol once its account
// has a second factor (the one it just set up).
func (s *Service) CompleteEnrolment(ctx context.Context, pending *Session, remote, userAgent string) (*Session, error) {
	if pending.Stage != store.StageEnrol {
		return nil, ErrNoSession
	}
	f, err := s.Factors(ctx, pending.User.ID)
	if err != nil {
		return nil, err
	}
	if !f.Any() {
		return nil, ErrNoSession
	}
	sess, err := s.promote(ctx, pending, remote, userAgent, "signed in; second factor set up during sign-in", nil)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoSession
	}
	return sess, err
}

// PruneSessions deletes expired and idle sessions, finished WebAuthn
// ceremonies and sign-in failure counters that no longer throttle anyone.
func (s *Service) PruneSessions(ctx context.Context) (int64, error) {
	now := s.Now().UTC()
	n, err := s.db.PruneSessions(ctx, now, now.Add(-s.opts.IdleTimeout))
	if err != nil {
		return n, err
	}
	return n, s.db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := store.PruneCeremonies(tx, now); err != nil {
			return err
		}
		return s.pruneFailures(tx, now)
	})
}

// Authenticate returns the session of a cookie value, ending it when it has been
// idle or alive too long, or its user is disabled.
func (s *Service) Authenticate(ctx context.Context, token string) (*Session, error) {
	if token == "" || len(token) > 100 {
		return nil, ErrNoSession
	}
	idHash := hashToken(token)
	sw, err := s.db.SessionByHash(ctx, idHash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	now := s.Now().UTC()
	if sw.User.Disabled || now.After(sw.Session.ExpiresAt) || now.Sub(sw.Session.LastSeenAt) > s.opts.IdleTimeout {
		_ = s.db.Tx(ctx, func(tx *store.Tx) error { return store.DeleteSession(tx, idHash) })
		return nil, ErrNoSession
	}
	// Record activity at most once a minute: a page view should not cost a write.
	if now.Sub(sw.Session.LastSeenAt) > time.Minute {
		_ = s.db.Tx(ctx, func(tx *store.Tx) error { return store.TouchSession(tx, idHash, now) })
	}
	return &Session{Token: token, User: sw.User, IDHash: idHash, Stage: sw.Session.Stage}, nil
}

// Logout ends one session, or with everywhere every session of its user.
func (s *Service) Logout(ctx context.Context, sess *Session, everywhere bool, remote string) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		reason := "logged out"
		if everywhere {
			n, err := store.DeleteUserSessions(tx, sess.User.ID)
			if err != nil {
				return err
			}
			reason = fmt.Sprintf("logged out everywhere (%d sessions)", n)
		} else if err := store.DeleteSession(tx, sess.IDHash); err != nil {
			return err
		}
		return s.audit.Append(tx, operatorEvent(store.EventOperatorLogout, "user:"+sess.User.Username, store.OutcomeSuccess, reason, remote))
	})
}
