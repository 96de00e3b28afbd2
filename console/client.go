package console

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/audit"
	"github.com/dcrconsole/dcrconsole/dcr"
	"github.com/dcrconsole/dcrconsole/jose"
	"github.com/dcrconsole/dcrconsole/jsonlimit"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/views"
)

// clientAuditLimit is how much of a client's audit history its page shows.
const clientAuditLimit = 50

// ClientPage: GET /console/clients/:id
func (s *Server) ClientPage(c *gin.Context) { s.showClient(c, http.StatusOK, views.RevokeForm{}) }

// showClient renders the client page; revoke is the revoke form as the
// operator left it when it was refused (reason kept, the error beside it).
func (s *Server) showClient(c *gin.Context, status int, revoke views.RevokeForm) {
	ctx := c.Request.Context()
	cl, err := s.db.GetClient(ctx, c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		s.consoleError(c, http.StatusNotFound, "No such client", "There is no client with this id. Search for it in the client list by name, software_id or org.")
		return
	}
	if err != nil {
		s.clientsServerError(c, "get client", err)
		return
	}
	block, err := s.db.SoftwareBlock(ctx, cl.SoftwareID)
	if err != nil {
		s.clientsServerError(c, "get software block", err)
		return
	}
	events, more, err := s.audit.List(ctx, audit.Filter{ClientID: cl.ID, Limit: clientAuditLimit})
	if err != nil {
		s.clientsServerError(c, "client audit history", err)
		return
	}
	v := s.clientView(cl)
	if block != nil {
		v.Block = &views.SoftwareBlockView{Reason: block.Reason, By: block.BlockedBy, At: views.WhenIn(block.CreatedAt, s.zone)}
	}
	for _, e := range events {
		v.Audit = append(v.Audit, views.ClientAuditRow{ID: e.ID, Time: e.Time, Type: string(e.Type), Actor: e.Actor, Outcome: string(e.Outcome), Reason: auditReason(e)})
	}
	v.AuditMore = more != 0
	if v.History, err = s.clientHistory(ctx, cl, time.Now()); err != nil {
		s.clientsServerError(c, "client history", err)
		return
	}
	nav := s.nav(c, "clients")
	if nav.CanAct() {
		v.History.NoteAction = views.ClientPath(cl.ID) + "/notes"
	}
	v.Revoke = revoke
	s.render(c, status, views.Client(v, nav))
}

// decodedJWT is the header and claims JSON of a stored token, decoded when the
// page is shown (the row keeps the token once, not decoded copies of it); stored
// JSON is used when there is no token (RFC 7591 metadata from the processing API).
// The segments are only split, not decoded: showJSON bounds what the page shows
// of them, whatever a row stored before a limit existed holds.
func decodedJWT(raw, storedHeader, storedClaims string) (string, string) {
	if raw == "" {
		return storedHeader, storedClaims
	}
	h, p, err := jose.SplitJWT(raw)
	if err != nil {
		return storedHeader, storedClaims
	}
	return string(h), string(p)
}

// clientView builds the page's view model: no secret of the row reaches it.
func (s *Server) clientView(cl *store.Client) views.ClientView {
	now := time.Now()
	var m dcr.Metadata
	_ = json.Unmarshal([]byte(cl.Registration), &m) // a row always holds valid JSON; an empty view otherwise
	ssaHeader, ssaClaims := decodedJWT(cl.SoftwareStatement, cl.SSAHeader, cl.SSAClaims)
	reqHeader, reqClaims := decodedJWT(cl.RequestJWT, cl.RequestHeader, cl.RequestClaims)
	v := views.ClientView{ID: cl.ID, Name: cl.ClientName, SoftwareID: cl.SoftwareID, Status: cl.Status,
		Registered: clientRegisteredFields(m), RedirectURIs: m.RedirectURIs, SSAKeyID: cl.SSAKeyID,
		SSAHeader: showJSON([]byte(ssaHeader)), SSAClaims: showJSON([]byte(ssaClaims)),
		RequestHeader: showJSON([]byte(reqHeader)), RequestClaims: showJSON([]byte(reqClaims)),
		CanRevoke: cl.Status == store.StatusActive, CanRestore: cl.Status == store.StatusRevoked}
	ssa := clientClaims(ssaClaims)
	v.SSATimes = clientTimeClaims(ssa)
	v.RequestTimes = clientTimeClaims(clientClaims(reqClaims))
	ssaScope, _ := ssa["scope"].(string)
	v.Scopes = clientScopeRows(ssaScope, cl.Scope)

	v.Summary = clientSummary(cl, now)
	v.RegisterStatus, v.Register = s.clientRegister(cl.SoftwareID)
	v.Keys = s.clientKeys(cl.JWKSURI, now)
	return v
}

// clientSummary is the key facts of a client, at the top of its page.
func clientSummary(cl *store.Client, now time.Time) []views.KV {
	lastToken := views.KV{Key: "Last token", Value: "never"}
	if cl.LastTokenAt != nil {
		lastToken = views.KV{Key: "Last token", At: *cl.LastTokenAt, Value: "(" + views.Ago(*cl.LastTokenAt, now) + ")"}
	}
	changed := views.KV{Key: "Status changed"}
	if cl.StatusChangedAt != nil {
		changed.At = *cl.StatusChangedAt
	}
	return []views.KV{
		{Key: "client_id", Value: cl.ID, Mono: true, Copy: true},
		{Key: "Client name", Value: cl.ClientName},
		{Key: "software_id", Value: cl.SoftwareID, Mono: true, Copy: true},
		{Key: "Brand / org", Value: strings.TrimSpace(cl.OrgName + " " + cl.OrgID)},
		{Key: "Legal entity", Value: strings.TrimSpace(cl.LegalEntityName + " " + cl.LegalEntityID)},
		{Key: "Status", Value: cl.Status},
		{Key: "Status reason", Value: cl.StatusReason},
		changed,
		{Key: "Source", Value: clientSource(cl)},
		{Key: "Registered", At: cl.CreatedAt, Value: "(" + views.Ago(cl.CreatedAt, now) + ")"},
		{Key: "Last updated", At: cl.UpdatedAt},
		lastToken,
		{Key: "mTLS certificate (SHA-256)", Value: cl.CertThumbprint, Mono: true, Copy: true},
	}
}

// clientRegister is the client's software product as the Register lists it,
// product, brand and legal entity, and its effective status.
func (s *Server) clientRegister(softwareID string) (status string, levels []views.RegisterLevel) {
	p, ok := s.register.Product(softwareID)
	if !ok {
		return clientsRegisterUnknown, nil
	}
	status, _ = p.EffectiveStatus()
	return status, []views.RegisterLevel{
		{Level: "Software product", Name: p.SoftwareProductName, ID: p.SoftwareProductID, Status: p.Status},
		{Level: "Brand", Name: p.BrandName, ID: p.BrandID, Status: p.BrandStatus},
		{Level: "Legal entity", Name: p.LegalEntityName, ID: p.LegalEntityID, Status: p.LegalEntityStatus},
	}
}

// clientKeys is the cached copy of the client's JWKS, without fetching.
func (s *Server) clientKeys(uri string, now time.Time) views.ClientKeys {
	keys := views.ClientKeys{URI: uri}
	if uri == "" {
		return keys
	}
	set, fetchedAt, lastErr, ok := s.jwksCache.Snapshot(uri)
	keys.Fetched = ok
	if !fetchedAt.IsZero() {
		keys.FetchedAt, keys.Ago = views.WhenIn(fetchedAt, s.zone), views.Ago(fetchedAt, now)
	}
	if lastErr != nil {
		keys.LastErr = lastErr.Error()
	}
	for i := 0; set != nil && i < set.Len(); i++ {
		if k, ok := set.Key(i); ok {
			keys.Keys = append(keys.Keys, views.KeyRow{KID: k.KeyID(), Kty: k.KeyType().String(), Alg: k.Algorithm().String(), Use: k.KeyUsage()})
		}
	}
	return keys
}

// clientRegisteredFields lists every field of the registration, in the order
// of dcr.Metadata, so a field added there shows here too. The SSA itself is
// shown decoded further down the page.
func clientRegisteredFields(m dcr.Metadata) []views.KV {
	rv := reflect.ValueOf(m)
	var out []views.KV
	for i := range rv.NumField() {
		name, _, _ := strings.Cut(rv.Type().Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" || name == "software_statement" {
			continue
		}
		kv := views.KV{Key: name, Mono: strings.HasSuffix(name, "_id") || strings.HasSuffix(name, "_alg") || strings.HasSuffix(name, "_enc")}
		switch f := rv.Field(i); f.Kind() {
		case reflect.String:
			kv.Value = f.String()
		case reflect.Int64:
			if n := f.Int(); n != 0 {
				kv.Value = strconv.FormatInt(n, 10) + " (" + views.When(time.Unix(n, 0)) + ")"
			}
		case reflect.Slice:
			if ss, ok := f.Interface().([]string); ok {
				kv.Value = strings.Join(ss, " ")
			}
		}
		if strings.HasSuffix(name, "_uri") {
			kv.Href, kv.Mono = kv.Value, true
		}
		out = append(out, kv)
	}
	return out
}

// clientClaims decodes claims for their times; claims nesting deeper than
// jsonlimit.MaxDepth are not decoded (the page shows them raw).
func clientClaims(s string) map[string]any {
	var m map[string]any
	if jsonlimit.CheckDepth([]byte(s), jsonlimit.MaxDepth) != nil {
		return nil
	}
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	_ = d.Decode(&m)
	return m
}

// clientTimeClaims shows iat, nbf and exp as numbers and as times.
func clientTimeClaims(claims map[string]any) []views.KV {
	var out []views.KV
	for _, name := range []string{"iat", "nbf", "exp"} {
		n, ok := claims[name].(json.Number)
		if !ok {
			continue
		}
		kv := views.KV{Key: name, Value: n.String(), Mono: true}
		if sec, err := n.Int64(); err == nil {
			kv.Value += " (" + views.When(time.Unix(sec, 0)) + ")"
		}
		out = append(out, kv)
	}
	return out
}

// clientScopeRows compares the SSA's scope with the registered one: the SSA
// scopes first, in their order (those the holder does not support were
// filtered out), then any registered scope the SSA lacks.
func clientScopeRows(ssaScope, registered string) []views.ScopeRow {
	granted := map[string]bool{}
	for _, sc := range strings.Fields(registered) {
		granted[sc] = true
	}
	var out []views.ScopeRow
	seen := map[string]bool{}
	for _, sc := range strings.Fields(ssaScope) {
		if !seen[sc] {
			seen[sc] = true
			out = append(out, views.ScopeRow{Scope: sc, InSSA: true, Granted: granted[sc]})
		}
	}
	for _, sc := range strings.Fields(registered) {
		if !seen[sc] {
			seen[sc] = true
			out = append(out, views.ScopeRow{Scope: sc, Granted: true})
		}
	}
	return out
}

// clientSource says where a registration came from: POST /register, or the
// processing API and the key of the authorization server that called it.
func clientSource(cl *store.Client) string {
	if cl.Source == store.SourceAPI && cl.APIKeyName != "" {
		return "processing API (key " + cl.APIKeyName + ")"
	}
	if cl.Source == store.SourceRegister {
		return "POST /register"
	}
	return cl.Source
}
