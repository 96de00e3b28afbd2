package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// BenchmarkRefuseUnstorableTokenForm is the middleware's cost on a token
// request: a form with a 1 KiB client assertion (the handler parses the form
// anyway; the parse is cached on the request).
func BenchmarkRefuseUnstorableTokenForm(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	form := url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion": {strings.Repeat("eyJhbGciOiJFUzI1NiJ9", 52)}, "scope": {"cdr:registration"}}.Encode()
	for _, bc := range []struct {
		name string
		mw   gin.HandlerFunc
	}{{"without", func(*gin.Context) {}}, {"with", (&Server{}).refuseUnstorable()}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(form))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				c, _ := gin.CreateTestContext(httptest.NewRecorder())
				c.Request = req
				bc.mw(c)
				if c.IsAborted() {
					b.Fatal("refused")
				}
				if err := req.ParseForm(); err != nil { // the handler's own, cached after the middleware's
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStorableValuesTokenForm is the middleware's own scan of a parsed
// token form (what it adds beyond the parse the handler does anyway).
func BenchmarkStorableValuesTokenForm(b *testing.B) {
	form := url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion": {strings.Repeat("eyJhbGciOiJFUzI1NiJ9", 52)}, "scope": {"cdr:registration"}}
	for b.Loop() {
		if !storableValues(form) {
			b.Fatal("refused")
		}
	}
}
