package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/auth"
	"github.com/dcrconsole/dcrconsole/dcr"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/views"
)

const (
	// SessionCookie holds an operator's session token (HttpOnly, SameSite=Strict).
	SessionCookie = "dcr_session"
	// FlashCookie carries a signed one-redirect message (Post/Redirect/Get).
	FlashCookie = "dcr_flash"
	sessionKey  = "console_session"
)

// SecurityHeaders: every console and static response forbids framing,
// sniffing and inline script, and leaks no referrer.
func SecurityHeaders(c *gin.Context) {
	setSecurityHeaders(c)
	c.Next()
}

func setSecurityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "+
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}

// CrossOriginProtection refuses state-changing requests that a browser marks as
// cross-site (Sec-Fetch-Site, or an Origin that is not this host): CSRF.
func (s *Server) CrossOriginProtection() gin.HandlerFunc {
	cop := http.NewCrossOriginProtection()
	return func(c *gin.Context) {
		if err := cop.Check(c.Request); err != nil {
			s.consoleError(c, http.StatusForbidden, "Cross-site request refused",
				"This action must come from a page of this console. Reload the page and try again.")
			c.Abort()
			return
		}
		c.Next()
	}
}

// RequireSession loads the operator's session or sends them to the login page.
// An operator with a one-time password can only change it (or log out).
func (s *Server) RequireSession(c *gin.Context) {
	if !s.loadSession(c) {
		c.Abort()
		return
	}
	c.Next()
}

// loadSession is RequireSession's check: false when it has answered already
// (a redirect to the login page or the password change, or "Signed out").
func (s *Server) loadSession(c *gin.Context) bool {
	token, _ := c.Cookie(SessionCookie)
	sess, err := s.auth.Authenticate(c.Request.Context(), token)
	if err != nil {
		if !errors.Is(err, auth.ErrNoSession) {
			s.log.Error("console: session lookup", "error", err, "request_id", c.GetString(requestIDKey))
		}
		if c.Request.Method == http.MethodGet {
			c.Redirect(http.StatusSeeOther, "/console/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
		} else {
			s.consoleError(c, http.StatusUnauthorized, "Signed out", "Your session has ended. Sign in again.")
		}
		return false
	}
	c.Set(sessionKey, sess)
	if sess.Stage != "" {
		return s.pendingMayPass(c, sess)
	}
	if sess.User.MustChangePassword && c.FullPath() != "/console/account/password" && c.FullPath() != "/console/logout" {
		c.Redirect(http.StatusSeeOther, "/console/account/password")
		return false
	}
	c.Header("Cache-Control", "no-store")
	return true
}

// NotFound answers an unknown /console/... URL the way the console answers
// any page: security headers, a signed-out visitor goes to the login page
// (and comes back here, to this 404), a signed-in one gets the console's
// HTML error page in the console layout.
func (s *Server) NotFound(c *gin.Context) {
	setSecurityHeaders(c)
	if !s.loadSession(c) {
		return
	}
	s.consoleError(c, http.StatusNotFound, "Page not found",
		"There is no console page at "+c.Request.URL.Path+". Use the menu, or go back to the dashboard.")
}

// RequireRole refuses operators below role with a 403.
func (s *Server) RequireRole(role string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if sess := session(c); sess == nil || sess.Stage != "" || !auth.RoleAtLeast(sess.User.Role, role) {
			s.consoleError(c, http.StatusForbidden, "Not allowed", "Your role does not allow this. Ask an administrator.")
			c.Abort()
			return
		}
		c.Next()
	}
}

func session(c *gin.Context) *auth.Session {
	v, _ := c.Get(sessionKey)
	sess, _ := v.(*auth.Session)
	return sess
}

// actor names the signed-in operator in the audit log.
func actor(c *gin.Context) string {
	if sess := session(c); sess != nil {
		return "user:" + sess.User.Username
	}
	return ""
}

// operatorEvent is the audit row of a console action of type t: who did it,
// from where, in which request; a success unless the caller says otherwise.
func operatorEvent(c *gin.Context, t store.EventType, reason string) *store.AuditEvent {
	return &store.AuditEvent{Type: t, Actor: actor(c), Outcome: store.OutcomeSuccess, Reason: reason,
		RemoteAddr: c.ClientIP(), RequestID: c.GetString(requestIDKey)}
}

func (s *Server) operatorAction(c *gin.Context, reason string) dcr.OperatorAction {
	return dcr.OperatorAction{Actor: actor(c), RemoteAddr: c.ClientIP(), RequestID: c.GetString(requestIDKey), Reason: strings.TrimSpace(reason)}
}

// nav builds the layout's view of the operator and consumes the flash message.
func (s *Server) nav(c *gin.Context, active string) views.Nav {
	n := views.Nav{Active: active, Demo: s.demo}
	if sess := session(c); sess != nil && sess.Stage == "" {
		n.Username, n.Role = sess.User.Username, sess.User.Role
	}
	if msg, isErr, ok := s.readFlash(c); ok {
		n.Flash, n.FlashErr = msg, isErr
	}
	return n
}

// render writes a templ component as an HTML page.
func (s *Server) render(c *gin.Context, status int, page templ.Component) {
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Status(status)
	if err := page.Render(c.Request.Context(), c.Writer); err != nil {
		s.log.Error("console: render", "error", err, "request_id", c.GetString(requestIDKey))
	}
}

// consoleError answers with the console's error page.
func (s *Server) consoleError(c *gin.Context, status int, title, message string) {
	s.render(c, status, views.ErrorPage(views.ErrorView{Status: status, Title: title, Message: message}, s.nav(c, "")))
}

// flash messages survive one redirect in a signed cookie (Post/Redirect/Get).
func (s *Server) setFlash(c *gin.Context, msg string, isErr bool) {
	kind := "ok"
	if isErr {
		kind = "err"
	}
	payload := kind + ":" + msg
	mac := hmac.New(sha256.New, s.flashKey)
	mac.Write([]byte(payload))
	v := base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	http.SetCookie(c.Writer, &http.Cookie{Name: FlashCookie, Value: v, Path: "/console", HttpOnly: true,
		Secure: s.secureCookies(c), SameSite: http.SameSiteStrictMode, MaxAge: 60})
}

func (s *Server) readFlash(c *gin.Context) (string, bool, bool) {
	v, err := c.Cookie(FlashCookie)
	if err != nil || v == "" {
		return "", false, false
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: FlashCookie, Value: "", Path: "/console", MaxAge: -1, HttpOnly: true,
		Secure: s.secureCookies(c), SameSite: http.SameSiteStrictMode})
	p, sig, ok := strings.Cut(v, ".")
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	got, err2 := base64.RawURLEncoding.DecodeString(sig)
	if !ok || err1 != nil || err2 != nil {
		return "", false, false
	}
	mac := hmac.New(sha256.New, s.flashKey)
	mac.Write(payload)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return "", false, false
	}
	kind, msg, _ := strings.Cut(string(payload), ":")
	return msg, kind == "err", true
}

// redirectWithFlash ends a POST with a message and a redirect (PRG).
func (s *Server) redirectWithFlash(c *gin.Context, to, msg string, isErr bool) {
	s.setFlash(c, msg, isErr)
	c.Redirect(http.StatusSeeOther, to)
}

// secureCookies: cookies are Secure whenever the console is reached over TLS.
func (s *Server) secureCookies(c *gin.Context) bool {
	return c.Request.TLS != nil || strings.HasPrefix(s.cfg.Server.PublicURL, "https://")
}

func newFlashKey() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return k
}

// exportSlot takes an export slot, or answers 429 and returns false.
func (s *Server) exportSlot(c *gin.Context) (release func(), ok bool) {
	select {
	case s.exports <- struct{}{}:
		return func() { <-s.exports }, true
	default:
		c.Header("Retry-After", "30")
		s.consoleError(c, http.StatusTooManyRequests, "Exports busy",
			"Two exports are already running. Try again when one has finished.")
		return nil, false
	}
}

// extendWriteDeadline lets a long streaming export outlive the server's write
// timeout (unsupported writers, such as test recorders, keep theirs).
func extendWriteDeadline(c *gin.Context) {
	_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Now().Add(exportWriteDeadline))
}
