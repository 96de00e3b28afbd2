package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/a-h/templ"
	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/auth"
	"github.com/dcrconsole/dcrconsole/sso"
	"github.com/dcrconsole/dcrconsole/views"
)

// ssoCookie binds a single sign-on in flight to the browser that began it. It
// is SameSite=Lax: the IdP's redirect back is a cross-site navigation.
const ssoCookie = "dcr_sso"

const ssoCookiePath = "/console/sso/"

// loginPage is the sign-in page with the single sign-on choices filled in.
func (s *Server) loginPage(c *gin.Context, v views.LoginView) templ.Component {
	v.SSO = s.sso != nil
	v.Passkeys = s.auth.PasskeysEnabled()
	v.AdminsOnly = v.SSO && !s.cfg.Console.OIDC.AllowLocalLogin
	return views.Login(v, s.nav(c, ""))
}

// SSOStart: GET /console/sso/start (next): to the IdP, with state, nonce and a
// PKCE challenge bound to this browser by a short-lived cookie.
func (s *Server) SSOStart(c *gin.Context) {
	if s.sso == nil {
		s.NotFound(c)
		return
	}
	authURL, cookie, err := s.sso.Begin(c.Request.Context(), safeNext(c.Query("next")))
	if err != nil {
		s.log.Error("console: sso start", "error", err, "request_id", c.GetString(requestIDKey))
		s.consoleError(c, http.StatusBadGateway, "Identity provider unreachable",
			"The console could not reach the identity provider. Try again in a minute, or tell your administrator.")
		return
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: ssoCookie, Value: cookie, Path: ssoCookiePath, HttpOnly: true,
		Secure: s.secureCookies(c), SameSite: http.SameSiteLaxMode, MaxAge: int(sso.FlowLifetime.Seconds())})
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusSeeOther, authURL)
}

// SSOCallback: GET /console/sso/callback (code, state | error): the IdP's
// answer. The flow cookie is single use; the ID token is verified and its role
// claim mapped; the account is provisioned or updated and a session opened.
func (s *Server) SSOCallback(c *gin.Context) {
	if s.sso == nil {
		s.NotFound(c)
		return
	}
	c.Header("Cache-Control", "no-store")
	cookie, _ := c.Cookie(ssoCookie)
	http.SetCookie(c.Writer, &http.Cookie{Name: ssoCookie, Value: "", Path: ssoCookiePath, MaxAge: -1, HttpOnly: true,
		Secure: s.secureCookies(c), SameSite: http.SameSiteLaxMode})
	ctx, remote := c.Request.Context(), c.ClientIP()
	id, next, err := s.sso.Finish(ctx, cookie, c.Request.URL.Query())
	var serr *sso.Error
	if errors.As(err, &serr) {
		var who *auth.SSOIdentity
		if id != nil {
			who = &auth.SSOIdentity{Issuer: id.Issuer, Subject: id.Subject, Username: id.Username}
		}
		s.auth.RefuseSSO(ctx, who, "single sign-on refused: "+string(serr.Kind)+": "+serr.Detail, remote)
		s.log.Warn("console: sso refused", "kind", serr.Kind, "detail", serr.Detail, "request_id", c.GetString(requestIDKey))
		status, title, msg := ssoRefusal(serr.Kind)
		s.consoleError(c, status, title, msg)
		return
	}
	if err != nil {
		s.log.Error("console: sso callback", "error", err, "request_id", c.GetString(requestIDKey))
		s.consoleError(c, http.StatusInternalServerError, "Sign-in failed", "Sign-in failed because of a server error. Try again.")
		return
	}
	claim := s.cfg.Console.OIDC.RoleClaim + " " + strings.Join(id.Matched, ", ")
	sess, err := s.auth.SSOLogin(ctx, auth.SSOIdentity{Issuer: id.Issuer, Subject: id.Subject, Username: id.Username,
		Role: id.Role, Claim: claim}, remote, c.GetHeader("User-Agent"))
	if errors.Is(err, auth.ErrSSOAccount) {
		s.consoleError(c, http.StatusForbidden, "Single sign-on refused",
			"Your account cannot sign in to this console: an administrator disabled it, or its name is taken by a local account. Ask a console administrator.")
		return
	}
	if err != nil {
		s.log.Error("console: sso login", "error", err, "request_id", c.GetString(requestIDKey))
		s.consoleError(c, http.StatusInternalServerError, "Sign-in failed", "Sign-in failed because of a server error. Try again.")
		return
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: SessionCookie, Value: sess.Token, Path: "/", HttpOnly: true,
		Secure: s.secureCookies(c), SameSite: http.SameSiteStrictMode, MaxAge: int(s.auth.Options().AbsoluteTimeout.Seconds())})
	s.render(c, http.StatusOK, views.SSOContinue(safeNext(next)))
}

// ssoRefusal is the page for a refused single sign-on: what happened and what
// to do, never the detail (that is in the audit log).
func ssoRefusal(k sso.Kind) (int, string, string) {
	switch k {
	case sso.KindNoRole:
		return http.StatusForbidden, "No access to this console",
			"You signed in at your identity provider, but your account is in no group that grants a role in this console. " +
				"Ask your administrator to add you to one of the console's groups, then sign in again."
	case sso.KindState:
		return http.StatusBadRequest, "Sign-in expired",
			"This sign-in could not be completed: it took too long, was already used, or began in another browser. Go to the sign-in page and start again."
	case sso.KindIdP:
		return http.StatusForbidden, "Single sign-on refused",
			"Your identity provider did not sign you in (it refused, or the sign-in was cancelled). Go to the sign-in page to try again."
	case sso.KindUnavailable:
		return http.StatusBadGateway, "Identity provider unreachable",
			"The console could not complete the sign-in with your identity provider. Try again in a minute, or tell your administrator."
	default:
		return http.StatusForbidden, "Single sign-on refused",
			"The identity provider's answer failed verification, so nobody was signed in. Tell your administrator; the audit log has the details."
	}
}

// LocalAccountOnly keeps an SSO account off the second-factor pages: its IdP
// does the second factor (console.require_mfa is for password sign-in only),
// and a passkey of its own would sign it in around the IdP and its group check.
func (s *Server) LocalAccountOnly(c *gin.Context) {
	if sess := session(c); sess != nil && sess.User.IsSSO() {
		s.consoleError(c, http.StatusForbidden, "Not for single sign-on accounts",
			"You sign in with single sign-on: your identity provider manages your second factors.")
		c.Abort()
		return
	}
	c.Next()
}
