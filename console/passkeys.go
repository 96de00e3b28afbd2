package console

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/auth"
)

// The passkey routes answer /static/passkey.js with JSON: a begun ceremony
// ({"ceremony", "options"}), then {"redirect"} or {"error"}.

// BeginPasskeyRegistration: POST /console/account/passkeys/begin (name)
func (s *Server) BeginPasskeyRegistration(c *gin.Context) {
	cer, err := s.auth.BeginPasskeyRegistration(c.Request.Context(), &session(c).User, c.PostForm("name"))
	s.answerCeremony(c, cer, err)
}

// FinishPasskeyRegistration: POST /console/account/passkeys/finish?ceremony=ID (the credential as JSON)
func (s *Server) FinishPasskeyRegistration(c *gin.Context) {
	_, err := s.auth.FinishPasskeyRegistration(c.Request.Context(), &session(c).User, c.Query("ceremony"), c.Request.Body, c.ClientIP())
	if err != nil {
		s.passkeyError(c, err)
		return
	}
	next, ok := s.finishEnrolmentJSON(c)
	if !ok {
		return
	}
	s.setFlash(c, "The passkey is added.", false)
	c.JSON(http.StatusOK, gin.H{"redirect": next})
}

func (s *Server) finishEnrolmentJSON(c *gin.Context) (string, bool) {
	sess := session(c)
	if sess.Stage == "" {
		return "/console/account/mfa", true
	}
	full, err := s.auth.CompleteEnrolment(c.Request.Context(), sess, c.ClientIP(), c.GetHeader("User-Agent"))
	if err != nil {
		s.log.Error("console: complete enrolment", "error", err, "request_id", c.GetString(requestIDKey))
		jsonError(c, http.StatusInternalServerError, "The sign-in could not be completed. Sign in again.")
		return "", false
	}
	s.setSessionCookie(c, full)
	return afterSignIn(full, "/console/"), true
}

// BeginPasskeySignIn: POST /console/login/passkey/begin (no session: the passkey is the primary factor)
func (s *Server) BeginPasskeySignIn(c *gin.Context) {
	cer, err := s.auth.BeginPasskeyLogin(c.Request.Context(), nil)
	s.answerCeremony(c, cer, err)
}

// FinishPasskeySignIn: POST /console/login/passkey/finish?ceremony=ID&next=URL
func (s *Server) FinishPasskeySignIn(c *gin.Context) {
	s.finishPasskeyLogin(c, nil)
}

// BeginPasskeySecondFactor: POST /console/login/mfa/passkey/begin
func (s *Server) BeginPasskeySecondFactor(c *gin.Context) {
	cer, err := s.auth.BeginPasskeyLogin(c.Request.Context(), session(c))
	s.answerCeremony(c, cer, err)
}

// FinishPasskeySecondFactor: POST /console/login/mfa/passkey/finish?ceremony=ID&next=URL
func (s *Server) FinishPasskeySecondFactor(c *gin.Context) {
	s.finishPasskeyLogin(c, session(c))
}

func (s *Server) finishPasskeyLogin(c *gin.Context, pending *auth.Session) {
	sess, err := s.auth.FinishPasskeyLogin(c.Request.Context(), pending, c.Query("ceremony"), c.Request.Body, c.ClientIP(), c.GetHeader("User-Agent"))
	if err != nil {
		s.passkeyError(c, err)
		return
	}
	s.setSessionCookie(c, sess)
	c.JSON(http.StatusOK, gin.H{"redirect": afterSignIn(sess, c.Query("next"))})
}

func (s *Server) answerCeremony(c *gin.Context, cer *auth.Ceremony, err error) {
	if err != nil {
		s.passkeyError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, cer)
}

func (s *Server) passkeyError(c *gin.Context, err error) {
	switch {
	case errors.Is(err, auth.ErrPasskey), errors.Is(err, auth.ErrPasskeyName):
		jsonError(c, http.StatusBadRequest, err.Error())
	case errors.Is(err, auth.ErrPasskeysOff):
		jsonError(c, http.StatusNotFound, err.Error())
	case errors.Is(err, auth.ErrNoSession):
		jsonError(c, http.StatusUnauthorized, "Your sign-in has ended. Sign in again.")
	default:
		s.log.Error("console: passkey", "error", err, "request_id", c.GetString(requestIDKey))
		jsonError(c, http.StatusInternalServerError, "The passkey request failed because of a server error. Try again.")
	}
}
