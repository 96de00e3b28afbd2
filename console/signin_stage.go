package console

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/auth"
	"github.com/dcrconsole/dcrconsole/store"
)

// Routes a half-authenticated session may reach, by stage: the step it has
// to take next and logging out; nothing else of the console.
var (
	secondFactorRoutes = map[string]bool{
		"/console/login/mfa": true, "/console/login/mfa/passkey/begin": true,
		"/console/login/mfa/passkey/finish": true, "/console/logout": true,
	}
	enrolRoutes = map[string]bool{
		"/console/account/mfa": true, "/console/account/mfa/totp": true,
		"/console/account/passkeys/begin": true, "/console/account/passkeys/finish": true, "/console/logout": true,
	}
	stageHome = map[string]string{store.StageSecondFactor: "/console/login/mfa", store.StageEnrol: "/console/account/mfa"}
)

// pendingMayPass lets a half-authenticated session through to the routes of
// its stage only; anything else sends it back to its step (a GET) or is
// refused (403). It reports whether the request may go on.
func (s *Server) pendingMayPass(c *gin.Context, sess *auth.Session) bool {
	allowed := secondFactorRoutes
	if sess.Stage == store.StageEnrol {
		allowed = enrolRoutes
	}
	c.Header("Cache-Control", "no-store")
	if allowed[c.FullPath()] {
		return true
	}
	if c.Request.Method == http.MethodGet {
		c.Redirect(http.StatusSeeOther, stageHome[sess.Stage])
		return false
	}
	s.consoleError(c, http.StatusForbidden, "Finish signing in",
		"Your sign-in is not complete: "+stageHint(sess.Stage))
	return false
}

func stageHint(stage string) string {
	if stage == store.StageEnrol {
		return "set up a second factor first."
	}
	return "give your second factor first."
}

// setSessionCookie hands the browser a session token.
func (s *Server) setSessionCookie(c *gin.Context, sess *auth.Session) {
	maxAge := int(s.auth.Options().AbsoluteTimeout.Seconds())
	http.SetCookie(c.Writer, &http.Cookie{Name: SessionCookie, Value: sess.Token, Path: "/", HttpOnly: true,
		Secure: s.secureCookies(c), SameSite: http.SameSiteStrictMode, MaxAge: maxAge})
}

// afterSignIn is where a browser goes once a sign-in step succeeded.
func afterSignIn(sess *auth.Session, next string) string {
	switch {
	case sess.Stage != "":
		return stageHome[sess.Stage]
	case sess.User.MustChangePassword:
		return "/console/account/password"
	}
	return safeNext(next)
}

// jsonError answers a script's request with a message it can show.
func jsonError(c *gin.Context, status int, msg string) {
	c.JSON(status, gin.H{"error": strings.TrimPrefix(msg, "auth: ")})
}
