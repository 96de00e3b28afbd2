// Package console is the operator console: server-rendered pages (templ views)
// over the clients, the registration attempts, the audit log, the Register
// data, users and API keys, with sign-in, roles, flash messages and CSRF
// protection. It reads through the small interfaces below (the consumer owns
// them) and changes state only through dcr's Registrar, auth and the audit log.
// Routes are mounted by the web shell (web/routes.go), which calls the
// exported handlers.
package console

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/dcrconsole/dcrconsole/audit"
	"github.com/dcrconsole/dcrconsole/auth"
	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/dcr"
	"github.com/dcrconsole/dcrconsole/register"
	"github.com/dcrconsole/dcrconsole/sso"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/web/reqid"
)

// requestIDKey is where the shell's middleware put the request id.
const requestIDKey = reqid.Key

// Clients are the client queries of the list, the detail page and the exports.
type Clients interface {
	ListClients(ctx context.Context, f store.ClientFilter) ([]store.ClientSummary, string, error)
	CountClients(ctx context.Context, f store.ClientFilter) (int64, error)
	EachClient(ctx context.Context, f store.ClientFilter, fn func(store.ClientSummary) error) error
	GetClient(ctx context.Context, id string) (*store.Client, error)
	ClientSoftwareIDs(ctx context.Context) ([]string, error)
	ActiveClientsBySoftware(ctx context.Context) (map[string]int64, error)
	SoftwareBlock(ctx context.Context, softwareID string) (*store.BlockedSoftware, error)
	ActiveClientIDsForSoftware(ctx context.Context, softwareID string) ([]string, error)
	PartiesByIDPrefix(ctx context.Context, kind, prefix string, limit int) ([]store.Party, error)
	PartyName(ctx context.Context, kind, id string) (string, error)
	ClientsOfParty(ctx context.Context, kind, id, status, after string, limit int) ([]store.ClientSummary, error)
	CountClientsOfParty(ctx context.Context, kind, id string) ([]store.ClientCount, error)
	PartySoftwareIDs(ctx context.Context, kind, id string) ([]string, error)
	ClientNotes(ctx context.Context, clientID string, limit int) ([]store.ClientNote, error)
	ClientTokensPerDay(ctx context.Context, clientID string, since time.Time) ([]store.DayTotal, error)
}

// Stats are the dashboard's aggregates.
type Stats interface {
	CountClientsByStatus(ctx context.Context) ([]store.ClientCount, error)
	RegistrationsPerDay(ctx context.Context, since, now time.Time) ([]store.DayCount, error)
	TopRejectionReasons(ctx context.Context, since time.Time, limit int) ([]store.RejectionReason, error)
	RecentFailedRegistrations(ctx context.Context, since time.Time, limit int) ([]store.AuditEvent, error)
}

// Store is what the console reads from the database directly (*store.DB).
type Store interface {
	Clients
	Stats
	Users(ctx context.Context) ([]store.User, error)
}

// AuditLog is the audit log as the console reads and appends to it (*audit.Log).
type AuditLog interface {
	List(ctx context.Context, f audit.Filter) ([]store.AuditEvent, int64, error)
	Attempts(ctx context.Context, f audit.Filter, limit int) ([]store.AuditEvent, int64, error)
	Count(ctx context.Context, f audit.Filter) (n int64, atLeast bool, err error)
	CountAttempts(ctx context.Context, f audit.Filter) (n int64, atLeast bool, err error)
	Get(ctx context.Context, id int64) (*store.AuditEvent, error)
	Head(ctx context.Context) (id int64, hash string, err error)
	LastVerification(ctx context.Context) (*audit.Verification, error)
	Record(ctx context.Context, e *store.AuditEvent, before ...func(tx *store.Tx) error) error
	ExportCSV(ctx context.Context, w io.Writer, f audit.Filter) (int64, error)
	ExportJSON(ctx context.Context, w io.Writer, f audit.Filter) (int64, error)
	ByJTIPrefix(ctx context.Context, prefix string, limit int) ([]store.AuditEvent, error)
	ByRequestIDPrefix(ctx context.Context, prefix string, limit int) ([]store.AuditEvent, error)
	AttemptGroups(ctx context.Context, since time.Time, limit int) ([]store.AttemptGroup, error)
}

// RegisterData is the CDR Register data in memory (*dcr.RegisterData).
type RegisterData interface {
	Product(softwareProductID string) (register.ProductStatus, bool)
	Products() []register.ProductStatus
	SoftwareIDsWithStatus(status string) []string
	UnknownSoftwareIDs(ids []string) []string
	Health() register.SyncHealth
	Sync(ctx context.Context) error
	StatusHistory(ctx context.Context, softwareProductID string, limit int) ([]store.RegisterStatusChange, error)
	StatusAt(ctx context.Context, softwareProductID string, t time.Time) (register.ProductStatus, bool, error)
}

// Keys are the ADRs' cached key sets (*dcr.JWKSCache).
type Keys interface {
	Snapshot(uri string) (set jwk.Set, fetchedAt time.Time, lastErr error, ok bool)
	Refresh(ctx context.Context, uri string) error
}

// Deps are what the console's handlers use.
type Deps struct {
	Config    config.Config
	Store     Store
	Registrar *dcr.Registrar
	Auth      *auth.Service
	Register  RegisterData
	JWKS      Keys
	Audit     AuditLog
	// Verify is the background chain verification (one run at a time).
	Verify *audit.VerifyJob
	// Alerts are the built-in alerts; AlertChannels name where they are sent.
	Alerts        Alerts
	AlertChannels []string
	// Stream is the audit stream (nil when audit.stream is off).
	Stream AuditStream
	// ExportSlots bounds concurrent streaming exports; its capacity is the limit.
	ExportSlots chan struct{}
	Demo        bool
	Log         *slog.Logger
	// SSO is the OpenID Connect relying party; nil without console.oidc.issuer.
	SSO *sso.Client
}

// Server holds the console handlers' dependencies and nothing of the API's.
type Server struct {
	cfg       config.Config
	db        Store
	registrar *dcr.Registrar
	auth      *auth.Service
	register  RegisterData
	jwksCache Keys
	audit     AuditLog
	verify    *audit.VerifyJob
	alerts    Alerts
	stream    AuditStream
	// alertChannels name where alerts are delivered, for the Alerts page.
	alertChannels []string
	exports       chan struct{} // slots for concurrent streaming exports
	demo          bool
	flashKey      []byte
	log           *slog.Logger
	zone          *time.Location // console.display_timezone, loaded once
	sso           *sso.Client
}

// New returns the console's handlers over d.
func New(d Deps) *Server {
	return &Server{cfg: d.Config, db: d.Store, registrar: d.Registrar, auth: d.Auth, register: d.Register,
		jwksCache: d.JWKS, audit: d.Audit, verify: d.Verify, alerts: d.Alerts, stream: d.Stream, alertChannels: d.AlertChannels, exports: d.ExportSlots, demo: d.Demo,
		flashKey: newFlashKey(), log: d.Log, zone: d.Config.Console.Location(), sso: d.SSO}
}
