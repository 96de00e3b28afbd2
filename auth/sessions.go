package auth

import (
	"context"

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
	now := s.Now().UTC()
	active := all[:0]
	for _, sess := range all {
		if !now.After(sess.ExpiresAt) && now.Sub(sess.LastSeenAt) <= s.opts.IdleTimeout {
			active = append(active, sess)
		}
	}
	return active, nil
}
