package console

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/auth"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/views"
)

// LoginPage: GET /console/login
func (s *Server) LoginPage(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	s.render(c, http.StatusOK, s.loginPage(c, views.LoginView{Next: safeNext(c.Query("next"))}))
}

// Login: POST /console/login
func (s *Server) Login(c *gin.Context) {
	username, password := c.PostForm("username"), c.PostForm("password")
	next := safeNext(c.PostForm("next"))
	sess, err := s.auth.Login(c.Request.Context(), username, password, c.ClientIP(), c.GetHeader("User-Agent"))
	if err != nil {
		msg := "Wrong username or password."
		status := http.StatusUnauthorized
		if errors.Is(err, auth.ErrThrottled) {
			msg, status = "Too many failed sign-ins. Wait 15 minutes and try again.", http.StatusTooManyRequests
		} else if errors.Is(err, auth.ErrLocalLoginOff) {
			msg, status = "Password sign-in is for break-glass administrators only. Sign in with SSO.", http.StatusForbidden
		} else if !errors.Is(err, auth.ErrInvalidCredentials) {
			s.log.Error("console: login", "error", err, "request_id", c.GetString(requestIDKey))
			msg, status = "Sign-in failed because of a server error. Try again.", http.StatusInternalServerError
		}
		s.render(c, status, s.loginPage(c, views.LoginView{Username: username, Error: msg, Next: next}))
		return
	}
	s.setSessionCookie(c, sess)
	to := afterSignIn(sess, next)
	if sess.Stage == store.StageSecondFactor && next != "/console/" {
		to += "?next=" + url.QueryEscape(next)
	}
	c.Redirect(http.StatusSeeOther, to)
}

// safeNext keeps post-login redirects inside the console.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/console/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/console/"
	}
	return next
}

// Logout: POST /console/logout (everywhere=1 ends every session of the operator)
func (s *Server) Logout(c *gin.Context) {
	if err := s.auth.Logout(c.Request.Context(), session(c), c.PostForm("everywhere") == "1", c.ClientIP()); err != nil {
		s.log.Error("console: logout", "error", err)
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.secureCookies(c), SameSite: http.SameSiteStrictMode})
	c.Redirect(http.StatusSeeOther, "/console/login")
}

// PasswordPage: GET /console/account/password
func (s *Server) PasswordPage(c *gin.Context) {
	s.render(c, http.StatusOK, views.ChangePassword(views.PasswordView{Forced: session(c).User.MustChangePassword}, s.nav(c, "account")))
}

// ChangePassword: POST /console/account/password
func (s *Server) ChangePassword(c *gin.Context) {
	sess := session(c)
	v := views.PasswordView{Forced: sess.User.MustChangePassword}
	current, next, confirm := c.PostForm("current"), c.PostForm("new"), c.PostForm("confirm")
	// Re-check the current password (without opening a session) so a borrowed
	// unlocked browser cannot change it.
	if _, err := s.auth.Verify(c.Request.Context(), sess.User.Username, current, c.ClientIP()); err != nil {
		v.Error = "The current password is wrong."
		if errors.Is(err, auth.ErrThrottled) {
			v.Error = "Too many failed attempts. Wait 15 minutes."
		}
		s.render(c, http.StatusBadRequest, views.ChangePassword(v, s.nav(c, "account")))
		return
	}
	if next != confirm {
		v.Error = "The two new passwords differ."
		s.render(c, http.StatusBadRequest, views.ChangePassword(v, s.nav(c, "account")))
		return
	}
	if err := s.auth.SetPassword(c.Request.Context(), actor(c), sess.User.ID, next, false, c.ClientIP()); err != nil {
		v.Error = strings.TrimPrefix(err.Error(), "auth: ")
		status := http.StatusBadRequest
		if !errors.Is(err, auth.ErrWeakPassword) {
			s.log.Error("console: change password", "error", err)
			v.Error, status = "The password could not be changed because of a server error.", http.StatusInternalServerError
		}
		s.render(c, status, views.ChangePassword(v, s.nav(c, "account")))
		return
	}
	// Every session ended with the change: sign in again with the new password.
	http.SetCookie(c.Writer, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.secureCookies(c), SameSite: http.SameSiteStrictMode})
	s.render(c, http.StatusOK, views.Login(views.LoginView{Username: sess.User.Username, Notice: "Password changed. Sign in with your new password."}, views.Nav{Demo: s.demo}))
}
