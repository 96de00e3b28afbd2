package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dcrconsole/dcrconsole/jose"
	"github.com/dcrconsole/dcrconsole/views"
)

// Decoded JWTs as the console shows them (attempts, the JWT inspector, a
// client's stored SSA and request): decoded, not verified.

// prettyJSON indents JSON for reading, keeping member order; text that is not
// JSON is returned as is.
func prettyJSON(b []byte) string {
	if len(bytes.TrimSpace(b)) == 0 {
		return ""
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return string(b)
	}
	return out.String()
}

// decodedView is t's header and claims for display, with iat, nbf and exp in
// human form; relative says how each time stands to the moment that matters.
func decodedView(label string, t *jose.JWT, relative func(time.Time) string) views.DecodedJWT {
	d := views.DecodedJWT{Label: label, Header: prettyJSON(t.HeaderJSON), Claims: prettyJSON(t.ClaimsJSON)}
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
		d.Times = append(d.Times, views.KV{Key: name, Value: views.When(at) + " (" + relative(at) + ")"})
	}
	return d
}
