package console

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/auth"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/views"
)

// SessionsPage: GET /console/sessions (admin)
func (s *Server) SessionsPage(c *gin.Context) {
	ctx := c.Request.Context()
	all, err := s.auth.AllSessions(ctx)
	if err != nil {
		s.internalError(c, "list sessions", err)
		return
	}
	locks, err := s.auth.Lockouts(ctx)
	if err != nil {
		s.internalError(c, "list lockouts", err)
		return
	}
	var v views.SessionsView
	now, me := s.auth.Now(), session(c).IDHash
	for _, sw := range all {
		ss := sw.Session
		v.Sessions = append(v.Sessions, views.AdminSessionRow{ID: ss.IDHash, Username: sw.User.Username,
			Created: views.When(ss.CreatedAt), LastSeen: views.Ago(ss.LastSeenAt, now), SeenAt: views.When(ss.LastSeenAt),
			Address: ss.RemoteAddr, UserAgent: ss.UserAgent, Stage: stageLabel(ss.Stage), Current: ss.IDHash == me})
	}
	for _, l := range locks {
		v.Lockouts = append(v.Lockouts, views.LockoutRow{Kind: l.Kind, Subject: l.Subject, Failures: l.Failures,
			LastAt: views.When(l.LastAt), Until: views.When(l.Until)})
	}
	c.Header("Cache-Control", "no-store")
	s.render(c, http.StatusOK, views.Sessions(v, s.nav(c, "sessions")))
}

func stageLabel(stage string) string {
	switch stage {
	case store.StageSecondFactor:
		return "awaiting second factor"
	case store.StageEnrol:
		return "setting up a second factor"
	}
	return ""
}

// EndSession: POST /console/sessions/end (id; admin: any session)
func (s *Server) EndSession(c *gin.Context) {
	s.endSession(c, false, "/console/sessions")
}

// EndOwnSession: POST /console/account/sessions/end (id; one of the user's own)
func (s *Server) EndOwnSession(c *gin.Context) {
	s.endSession(c, true, "/console/account")
}

func (s *Server) endSession(c *gin.Context, own bool, back string) {
	err := s.auth.EndSession(c.Request.Context(), &session(c).User, c.PostForm("id"), own, c.ClientIP())
	switch {
	case errors.Is(err, auth.ErrNoSession):
		s.redirectWithFlash(c, back, "That session has ended already.", true)
	case err != nil:
		s.internalError(c, "end session", err)
	default:
		s.redirectWithFlash(c, back, "The session is ended; that browser is signed out.", false)
	}
}

// Unlock: POST /console/sessions/unlock (kind account|address, subject; admin)
func (s *Server) Unlock(c *gin.Context) {
	kind, subject := c.PostForm("kind"), c.PostForm("subject")
	err := s.auth.Unlock(c.Request.Context(), actor(c), kind, subject, c.ClientIP())
	switch {
	case errors.Is(err, auth.ErrNotLocked):
		s.redirectWithFlash(c, "/console/sessions", "That account or address is not locked (any more).", true)
	case err != nil:
		s.internalError(c, "unlock", err)
	default:
		s.redirectWithFlash(c, "/console/sessions", "Sign-in unlocked for "+kind+" "+subject+".", false)
	}
}

// ResetUserMFA: POST /console/users/:id/mfa/reset (admin)
func (s *Server) ResetUserMFA(c *gin.Context) {
	id, ok := s.userID(c)
	if !ok {
		return
	}
	u, err := s.auth.ResetMFA(c.Request.Context(), &session(c).User, id, c.ClientIP())
	if err != nil {
		status, msg := s.accountError(c, err, "")
		s.renderUsers(c, status, views.UsersView{Error: msg})
		return
	}
	s.redirectWithFlash(c, "/console/users", "Every second factor of "+u.Username+" is removed and their sessions ended.", false)
}
