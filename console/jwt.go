package console

import (
	"fmt"
	"time"

	"github.com/dcrconsole/dcrconsole/jose"
	"github.com/dcrconsole/dcrconsole/jsonlimit"
	"github.com/dcrconsole/dcrconsole/views"
)

// Decoded JWTs as the console shows them (attempts, the JWT inspector, a
// client's stored SSA and request): decoded, not verified.

// showJSON is JSON a client sent, for a page: indented when its depth and
// indented size are within jsonlimit.Display, else the raw text, cut at 64 KiB,
// with a note that says why. Nothing is expanded to find out: a page stays
// bounded whatever was sent.
func showJSON(b []byte) views.JSONText {
	v := jsonlimit.Show(b, jsonlimit.Display)
	return views.JSONText{Text: v.Text, Note: v.Note}
}

// decodedView is t's header and claims for display, with iat, nbf and exp in
// human form; relative says how each time stands to the moment that matters.
func decodedView(label string, t *jose.JWT, relative func(time.Time) string) views.DecodedJWT {
	d := views.DecodedJWT{Label: label, Header: showJSON(t.HeaderJSON), Claims: showJSON(t.ClaimsJSON)}
	for _, name := range []string{"iat", "nbf", "exp"} {
		v, present := t.Claims[name]
		if !present {
			continue
		}
		f, ok := v.(float64)
		if !ok || f < 0 || f > 1e11 {
			d.Times = append(d.Times, views.KV{Key: name, Value: fmt.Sprintf("%v (not a valid NumericDate)", v)})
			continue
		}
		at := time.Unix(int64(f), 0).UTC()
		d.Times = append(d.Times, views.KV{Key: name, At: at, Value: "(" + relative(at) + ")"})
	}
	return d
}

// undecodedView is a token ParseJWT refused (err), for display: its header and
// payload as the segments hold them, shown raw when they are not JSON within
// limits (a payload nesting too deep, say), or the token itself when it does
// not even split into base64url segments.
func undecodedView(label, raw string, err error) views.DecodedJWT {
	d := views.DecodedJWT{Label: label, Error: err.Error()}
	if h, p, serr := jose.SplitJWT(raw); serr == nil {
		d.Header, d.Claims = showJSON(h), showJSON(p)
		return d
	}
	d.Raw = raw
	return d
}
