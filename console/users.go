package console

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/auth"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/views"
)

// UsersPage: GET /console/users
func (s *Server) UsersPage(c *gin.Context) {
	s.renderUsers(c, http.StatusOK, views.UsersView{})
}

// CreateUser: POST /console/users (username, role). The one-time password is
// rendered into this response only: never a redirect, flash cookie or URL.
func (s *Server) CreateUser(c *gin.Context) {
	username, role := strings.TrimSpace(c.PostForm("username")), c.PostForm("role")
	u, password, err := s.auth.AddUser(c.Request.Context(), actor(c), username, role, c.ClientIP())
	if err != nil {
		status, msg := s.accountError(c, err, username)
		s.renderUsers(c, status, views.UsersView{Error: msg, NewUsername: username, NewRole: role})
		return
	}
	s.renderUsers(c, http.StatusOK, views.UsersView{Issued: &views.OneTimePassword{Username: u.Username, Password: password}})
}

// UpdateUser: POST /console/users/:id (role, disabled=1)
func (s *Server) UpdateUser(c *gin.Context) {
	id, ok := s.userID(c)
	if !ok {
		return
	}
	disabled := c.PostForm("disabled") == "1" || c.PostForm("disabled") == "on"
	u, err := s.auth.ChangeUser(c.Request.Context(), &session(c).User, id, c.PostForm("role"), disabled, c.ClientIP())
	if err != nil {
		status, msg := s.accountError(c, err, "")
		s.renderUsers(c, status, views.UsersView{Error: msg})
		return
	}
	msg := u.Username + " is now " + u.Role + "."
	if u.Disabled {
		msg = u.Username + " is disabled (role " + u.Role + "); all their sessions have ended."
	}
	s.redirectWithFlash(c, "/console/users", msg, false)
}

// ResetUserPassword: POST /console/users/:id/password. Like createUser, the
// new one-time password is rendered into this response only.
func (s *Server) ResetUserPassword(c *gin.Context) {
	id, ok := s.userID(c)
	if !ok {
		return
	}
	u, password, err := s.auth.ResetPassword(c.Request.Context(), &session(c).User, id, c.ClientIP())
	if err != nil {
		status, msg := s.accountError(c, err, "")
		s.renderUsers(c, status, views.UsersView{Error: msg})
		return
	}
	s.renderUsers(c, http.StatusOK, views.UsersView{Issued: &views.OneTimePassword{Username: u.Username, Password: password, Reset: true}})
}

// userID reads the :id of a user route, answering 404 when it is not a number.
func (s *Server) userID(c *gin.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		s.consoleError(c, http.StatusNotFound, "No such user", "That account does not exist. Go back to the users page.")
		return 0, false
	}
	return id, true
}

// accountError maps an account administration error to a status and a message
// the administrator can act on; anything unexpected is logged and not shown.
func (s *Server) accountError(c *gin.Context, err error, username string) (int, string) {
	switch {
	case errors.Is(err, auth.ErrInvalidAccount), errors.Is(err, auth.ErrSelfChange), errors.Is(err, auth.ErrWeakPassword), errors.Is(err, auth.ErrLastAdmin),
		errors.Is(err, auth.ErrSSOOnly):
		return http.StatusBadRequest, strings.TrimPrefix(err.Error(), "auth: ")
	case errors.Is(err, store.ErrUsernameTaken):
		return http.StatusConflict, "An account named " + username + " already exists (usernames ignore case). Choose another name."
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, "That account does not exist (any more)."
	}
	s.log.Error("console: account change", "error", err, "request_id", c.GetString(requestIDKey))
	return http.StatusInternalServerError, "The change failed because of a server error; nothing was changed. Try again."
}

// renderUsers renders the users page with the current accounts. It is never
// cached: it may carry a one-time password.
func (s *Server) renderUsers(c *gin.Context, status int, v views.UsersView) {
	users, err := s.db.Users(c.Request.Context())
	if err != nil {
		s.log.Error("console: list users", "error", err, "request_id", c.GetString(requestIDKey))
		s.consoleError(c, http.StatusInternalServerError, "Users unavailable", "The accounts could not be read. Try again.")
		return
	}
	me := session(c).User.ID
	for _, u := range users {
		row := views.UserRow{ID: u.ID, Username: u.Username, Role: u.Role, Disabled: u.Disabled,
			MustChange: u.MustChangePassword, Created: views.WhenIn(u.CreatedAt, s.zone), Self: u.ID == me, SSO: u.IsSSO()}
		if u.LastLoginAt != nil {
			row.LastLogin = views.WhenIn(*u.LastLoginAt, s.zone)
		}
		v.Users = append(v.Users, row)
	}
	c.Header("Cache-Control", "no-store")
	s.render(c, status, views.Users(v, s.nav(c, "users")))
}

// AccountPage: GET /console/account
func (s *Server) AccountPage(c *gin.Context) {
	sess := session(c)
	sessions, err := s.auth.ActiveSessions(c.Request.Context(), sess.User.ID)
	if err != nil {
		s.log.Error("console: list sessions", "error", err, "request_id", c.GetString(requestIDKey))
		s.consoleError(c, http.StatusInternalServerError, "Account unavailable", "Your sessions could not be read. Try again.")
		return
	}
	v := views.AccountView{Username: sess.User.Username, Role: sess.User.Role, SSO: sess.User.IsSSO()}
	for _, r := range views.RoleHelp {
		if r.Role == sess.User.Role {
			v.RoleHelp = r.Help
		}
	}
	if sess.User.LastLoginAt != nil {
		v.LastLogin = views.WhenIn(*sess.User.LastLoginAt, s.zone)
	}
	now := s.auth.Now()
	for _, ss := range sessions {
		v.Sessions = append(v.Sessions, views.SessionRow{Created: views.WhenIn(ss.CreatedAt, s.zone), LastSeen: views.Ago(ss.LastSeenAt, now),
			SeenAt: views.WhenIn(ss.LastSeenAt, s.zone), Address: ss.RemoteAddr, UserAgent: ss.UserAgent, Current: ss.IDHash == sess.IDHash, ID: ss.IDHash})
	}
	if v.Factors, err = s.factorSummary(c, &sess.User); err != nil {
		s.internalError(c, "read second factors", err)
		return
	}
	s.render(c, http.StatusOK, views.Account(v, s.nav(c, "account")))
}
