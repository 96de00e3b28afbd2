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

// SecondFactorPage: GET /console/login/mfa (a session waiting for its second factor)
func (s *Server) SecondFactorPage(c *gin.Context) {
	if session(c).Stage != store.StageSecondFactor {
		c.Redirect(http.StatusSeeOther, "/console/")
		return
	}
	s.renderSecondFactor(c, http.StatusOK, safeNext(c.Query("next")), "")
}

func (s *Server) renderSecondFactor(c *gin.Context, status int, next, msg string) {
	sess := session(c)
	f, err := s.auth.Factors(c.Request.Context(), sess.User.ID)
	if err != nil {
		s.internalError(c, "read second factors", err)
		return
	}
	v := views.SecondFactorView{Next: next, Error: msg, TOTP: f.TOTP, Passkeys: f.Passkeys > 0 && s.auth.PasskeysEnabled()}
	s.render(c, status, views.SecondFactor(v, s.nav(c, "")))
}

// SecondFactor: POST /console/login/mfa (code: an authenticator or recovery code)
func (s *Server) SecondFactor(c *gin.Context) {
	next := safeNext(c.PostForm("next"))
	if session(c).Stage != store.StageSecondFactor {
		c.Redirect(http.StatusSeeOther, next)
		return
	}
	sess, err := s.auth.SecondFactor(c.Request.Context(), session(c), c.PostForm("code"), c.ClientIP(), c.GetHeader("User-Agent"))
	switch {
	case errors.Is(err, auth.ErrInvalidCode):
		s.renderSecondFactor(c, http.StatusUnauthorized, next, "That code is wrong, expired or used already.")
		return
	case errors.Is(err, auth.ErrThrottled):
		s.renderSecondFactor(c, http.StatusTooManyRequests, next, "Too many failed attempts. Wait 15 minutes and try again.")
		return
	case err != nil:
		s.internalError(c, "second factor", err)
		return
	}
	s.setSessionCookie(c, sess)
	c.Redirect(http.StatusSeeOther, afterSignIn(sess, next))
}

// MFAPage: GET /console/account/mfa (also the enrolment step of a sign-in)
func (s *Server) MFAPage(c *gin.Context) {
	s.renderMFA(c, http.StatusOK, views.MFAView{})
}

func (s *Server) renderMFA(c *gin.Context, status int, v views.MFAView) {
	sess := session(c)
	ctx := c.Request.Context()
	f, err := s.auth.Factors(ctx, sess.User.ID)
	if err != nil {
		s.internalError(c, "read second factors", err)
		return
	}
	keys, err := s.auth.Passkeys(ctx, sess.User.ID)
	if err != nil {
		s.internalError(c, "list passkeys", err)
		return
	}
	v.Enrol = sess.Stage == store.StageEnrol
	v.Required, v.TOTP, v.RecoveryLeft = s.auth.MFARequired(sess.User.Role), f.TOTP, f.RecoveryLeft
	v.PasskeysEnabled = s.auth.PasskeysEnabled()
	for _, k := range keys {
		row := views.PasskeyRow{ID: k.ID, Name: k.Name, Created: views.When(k.CreatedAt), LastUsed: "never"}
		if k.LastUsedAt != nil {
			row.LastUsed = views.When(*k.LastUsedAt)
		}
		v.Passkeys = append(v.Passkeys, row)
	}
	c.Header("Cache-Control", "no-store")
	s.render(c, status, views.MFA(v, s.nav(c, "account")))
}

// TOTPSetupPage: GET /console/account/mfa/totp (a new secret, pending until confirmed)
func (s *Server) TOTPSetupPage(c *gin.Context) {
	setup, err := s.auth.StartTOTP(c.Request.Context(), &session(c).User)
	if errors.Is(err, store.ErrTOTPConfirmed) {
		s.renderMFA(c, http.StatusConflict, views.MFAView{Error: "An authenticator app is set up already. Remove it first to set up another."})
		return
	}
	if err != nil {
		s.internalError(c, "start TOTP", err)
		return
	}
	s.renderMFA(c, http.StatusOK, views.MFAView{Setup: &views.TOTPSetupView{Secret: setup.Secret, QR: setup.QR}})
}

// ConfirmTOTP: POST /console/account/mfa/totp (code). The new recovery codes
// are rendered into this response only. A sign-in waiting for enrolment is
// completed with a new session.
func (s *Server) ConfirmTOTP(c *gin.Context) {
	sess := session(c)
	ctx := c.Request.Context()
	codes, err := s.auth.ConfirmTOTP(ctx, &sess.User, c.PostForm("code"), c.ClientIP())
	if errors.Is(err, auth.ErrInvalidCode) {
		setup, perr := s.auth.PendingTOTP(ctx, &sess.User)
		if perr != nil {
			s.renderMFA(c, http.StatusBadRequest, views.MFAView{Error: "Start the set-up again."})
			return
		}
		s.renderMFA(c, http.StatusBadRequest, views.MFAView{Error: "That code is wrong. Check the time on your phone and try the next code.",
			Setup: &views.TOTPSetupView{Secret: setup.Secret, QR: setup.QR}})
		return
	}
	if errors.Is(err, auth.ErrNoPendingTOTP) {
		s.renderMFA(c, http.StatusBadRequest, views.MFAView{Error: "Start the set-up again."})
		return
	}
	if err != nil {
		s.internalError(c, "confirm TOTP", err)
		return
	}
	next, ok := s.finishEnrolment(c)
	if !ok {
		return
	}
	s.renderMFA(c, http.StatusOK, views.MFAView{RecoveryCodes: codes, Continue: next})
}

// finishEnrolment completes a sign-in that waited for enrolment (new
// cookie) and returns where the user goes next.
func (s *Server) finishEnrolment(c *gin.Context) (string, bool) {
	sess := session(c)
	if sess.Stage != store.StageEnrol {
		return "/console/account/mfa", true
	}
	full, err := s.auth.CompleteEnrolment(c.Request.Context(), sess, c.ClientIP(), c.GetHeader("User-Agent"))
	if err != nil {
		s.internalError(c, "complete enrolment", err)
		return "", false
	}
	s.setSessionCookie(c, full)
	c.Set(sessionKey, full)
	return afterSignIn(full, "/console/"), true
}

// NewRecoveryCodes: POST /console/account/mfa/recovery (rendered once, like ConfirmTOTP)
func (s *Server) NewRecoveryCodes(c *gin.Context) {
	codes, err := s.auth.NewRecoveryCodes(c.Request.Context(), &session(c).User, c.ClientIP())
	if err != nil {
		s.internalError(c, "new recovery codes", err)
		return
	}
	s.renderMFA(c, http.StatusOK, views.MFAView{RecoveryCodes: codes, Continue: "/console/account/mfa"})
}

// RemoveTOTP: POST /console/account/mfa/totp/remove
func (s *Server) RemoveTOTP(c *gin.Context) {
	err := s.auth.RemoveTOTP(c.Request.Context(), &session(c).User, c.ClientIP())
	s.afterFactorRemoval(c, err, "The authenticator app is removed.")
}

// RemovePasskey: POST /console/account/passkeys/remove (id)
func (s *Server) RemovePasskey(c *gin.Context) {
	err := s.auth.RemovePasskey(c.Request.Context(), &session(c).User, c.PostForm("id"), c.ClientIP())
	s.afterFactorRemoval(c, err, "The passkey is removed.")
}

func (s *Server) afterFactorRemoval(c *gin.Context, err error, done string) {
	switch {
	case errors.Is(err, auth.ErrLastFactor):
		s.renderMFA(c, http.StatusBadRequest, views.MFAView{Error: strings.TrimPrefix(err.Error(), "auth: ")})
	case errors.Is(err, store.ErrNotFound):
		s.renderMFA(c, http.StatusNotFound, views.MFAView{Error: "That passkey does not exist (any more)."})
	case err != nil:
		s.internalError(c, "remove second factor", err)
	default:
		s.redirectWithFlash(c, "/console/account/mfa", done, false)
	}
}

// internalError logs err once with the request id and shows the error page.
func (s *Server) internalError(c *gin.Context, what string, err error) {
	s.log.Error("console: "+what, "error", err, "request_id", c.GetString(requestIDKey))
	s.consoleError(c, http.StatusInternalServerError, "Something went wrong", "The request failed because of a server error; nothing was changed. Try again.")
}

// factorSummary says in a line which second factors an account has.
func (s *Server) factorSummary(c *gin.Context, u *store.User) (string, error) {
	if u.IsSSO() { // the IdP does the second factor: no card
		return "", nil
	}
	f, err := s.auth.Factors(c.Request.Context(), u.ID)
	if err != nil {
		return "", err
	}
	var parts []string
	if f.TOTP {
		parts = append(parts, "authenticator app")
	}
	if f.Passkeys > 0 {
		parts = append(parts, strconv.FormatInt(f.Passkeys, 10)+" passkey(s)")
	}
	if len(parts) == 0 {
		msg := "None set up."
		if s.auth.MFARequired(u.Role) {
			msg += " Your role must have one: you will be asked to set one up at your next sign-in."
		}
		return msg, nil
	}
	return strings.Join(parts, ", ") + "; " + strconv.FormatInt(f.RecoveryLeft, 10) + " recovery codes left.", nil
}
