package web

import (
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/dcrapi"
)

// descUnstorable is the answer to a request whose path, query or form holds a
// NUL character or bytes that are not UTF-8.
const descUnstorable = "The request contains a NUL character or text that is not UTF-8"

// refuseUnstorable answers 400 invalid_request to a request whose path, query
// string or form (URL-encoded or multipart) holds a NUL character (U+0000) or invalid UTF-8.
// PostgreSQL's text columns refuse both (SQLSTATE 22021), so such a value would
// otherwise become a 500 on the first query or insert that carries it (a console
// search, a note, a user name, a client id in a path); no field of this server
// has a use for either, on SQLite too. JSON and JWT bodies are judged by their
// owners (the DCR pipeline refuses a NUL claim with the CDR error).
func (s *Server) refuseUnstorable() gin.HandlerFunc {
	return func(c *gin.Context) {
		r := c.Request
		bad := !storableText(r.URL.Path) || r.URL.RawQuery != "" && !storableValues(r.URL.Query())
		if mt := formType(r); !bad && mt != "" {
			if err := parseForm(r, mt); err != nil {
				// The handler answers a form it cannot read (400, or 413 when
				// too large): hand it the same error on its own ParseForm.
				r.Form, r.PostForm, r.MultipartForm, r.Body = nil, nil, nil, io.NopCloser(failingReader{err})
			} else {
				bad = !storableValues(r.PostForm)
			}
		}
		if bad {
			c.Header("Cache-Control", "no-store")
			c.AbortWithStatusJSON(http.StatusBadRequest, dcrapi.OAuthError{Error: "invalid_request", Description: descUnstorable})
			return
		}
		c.Next()
	}
}

// formType is the media type of a form body (URL-encoded or multipart) that
// gin's PostForm would parse, or "" when the request carries none.
func formType(r *http.Request) string {
	if r.Body == nil || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return ""
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data" {
		return mt
	}
	return ""
}

// parseForm parses the form as gin's PostForm will (the result is cached on
// the request): its values, multipart ones included, land in r.PostForm.
func parseForm(r *http.Request, mediaType string) error {
	if mediaType == "multipart/form-data" {
		return r.ParseMultipartForm(multipartMemory)
	}
	return r.ParseForm()
}

// multipartMemory is gin's default MaxMultipartMemory: parts beyond it go to
// temporary files, as they would in the handler's own parse.
const multipartMemory = 32 << 20

// storableValues says no name or value of v holds a NUL or invalid UTF-8.
func storableValues(v url.Values) bool {
	for k, vs := range v {
		if !storableText(k) {
			return false
		}
		for _, s := range vs {
			if !storableText(s) {
				return false
			}
		}
	}
	return true
}

// storableText says a text column of either backend can hold s.
func storableText(s string) bool {
	return strings.IndexByte(s, 0) < 0 && utf8.ValidString(s)
}

// failingReader fails every read with err.
type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }
