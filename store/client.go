package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Client statuses. Only active clients are known to the DCR and token endpoints.
const (
	StatusActive  = "active"
	StatusRevoked = "revoked" // by an operator
	StatusDeleted = "deleted" // by the client itself (DELETE /register/{id})
	StatusRemoved = "removed" // because the CDR Register removed the software product
)

// Client sources: where a registration came from.
const (
	SourceRegister = "register" // POST /register
	SourceAPI      = "api"      // the Authlete-compatible processing API
)

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrDuplicate is returned when an active registration already exists for the software_id.
var ErrDuplicate = errors.New("store: an active registration exists for this software_id")

// Client is one registration: what was registered, and everything it was built from.
type Client struct {
	ID         string `gorm:"primaryKey"`
	SoftwareID string
	// ActiveSoftwareID equals SoftwareID while the client is active and duplicates are
	// not allowed, NULL otherwise; its UNIQUE index is the duplicate rule, enforced by
	// the database under any concurrency.
	ActiveSoftwareID *string
	Status           string
	Source           string
	ClientName       string
	OrgID            string
	OrgName          string
	LegalEntityID    string
	LegalEntityName  string
	IssuedAt         int64
	// Registration is the registration JSON as returned to the client.
	Registration      string
	SoftwareStatement string
	RequestJWT        string
	SSAHeader         string
	SSAClaims         string
	SSAKeyID          string
	RequestHeader     string
	RequestClaims     string
	CertThumbprint    string
	// JWKSURI and Scope are copied out of Registration for the token endpoint's hot path.
	JWKSURI     string `gorm:"column:jwks_uri"`
	Scope       string
	LastTokenAt *time.Time
	// APIKeyName is the processing-API key that created the client (source api).
	APIKeyName string
	// RATHash is the SHA-256 of the registration access token (processing API).
	RATHash         string `gorm:"column:rat_hash"`
	StatusReason    string
	StatusChangedAt *time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// TableName is the clients table.
func (Client) TableName() string { return "clients" }

const insertClientSQL = `INSERT INTO clients (id, software_id, active_software_id, status, source, client_name, org_id,
	org_name, legal_entity_id, legal_entity_name, issued_at, registration, software_statement, request_jwt, ssa_header,
	ssa_claims, ssa_key_id, request_header, request_claims, cert_thumbprint, status_reason, status_changed_at, created_at,
	updated_at, jwks_uri, scope, last_token_at, api_key_name, rat_hash)
	VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
	ON CONFLICT DO NOTHING`

// CreateClient inserts c inside tx. It returns ErrDuplicate when the duplicate rule
// (the UNIQUE index on active_software_id) refuses it.
func CreateClient(tx *Tx, c *Client) error {
	// Plain SQL rather than tx.Create: this runs on the single writer for every
	// registration, and GORM's reflection over 30 fields is measurable there.
	// ON CONFLICT DO NOTHING rather than a caught error: on PostgreSQL a failed
	// statement aborts the caller's whole transaction. The only unique key a new
	// client can collide on is the duplicate rule's (ids are fresh UUIDs).
	res := tx.g.Exec(insertClientSQL, c.ID, c.SoftwareID, c.ActiveSoftwareID, c.Status, c.Source, c.ClientName, c.OrgID, c.OrgName,
		c.LegalEntityID, c.LegalEntityName, c.IssuedAt, c.Registration, c.SoftwareStatement, c.RequestJWT, c.SSAHeader, c.SSAClaims,
		c.SSAKeyID, c.RequestHeader, c.RequestClaims, c.CertThumbprint, c.StatusReason, c.StatusChangedAt, c.CreatedAt, c.UpdatedAt,
		c.JWKSURI, c.Scope, c.LastTokenAt, c.APIKeyName, c.RATHash)
	if res.Error != nil {
		if IsUniqueViolation(res.Error) {
			return ErrDuplicate
		}
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrDuplicate
	}
	return indexClient(tx, c)
}

// HasActiveClient reports whether an active registration holds the duplicate-rule
// slot of softwareID (compared case-insensitively, like the UNIQUE index it reads).
func (db *DB) HasActiveClient(ctx context.Context, softwareID string) (bool, error) {
	var n int64
	err := db.r.WithContext(ctx).Model(&Client{}).
		Where("active_software_id = ?", strings.ToLower(softwareID)).Limit(1).Count(&n).Error
	return n > 0, err
}

// GetClient returns the client with id, whatever its status.
func (db *DB) GetClient(ctx context.Context, id string) (*Client, error) {
	var c Client
	err := db.r.WithContext(ctx).Where("id = ?", id).Take(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &c, err
}

// ClientCount is the number of clients in one status.
type ClientCount struct {
	Status string
	N      int64
}

// CountClientsByStatus returns how many clients there are in each status.
func (db *DB) CountClientsByStatus(ctx context.Context) ([]ClientCount, error) {
	var out []ClientCount
	err := db.r.WithContext(ctx).Model(&Client{}).Select("status, COUNT(*) AS n").Group("status").Order("status").Scan(&out).Error
	return out, err
}

// UpdateClientRegistration replaces what a PUT may change: the registration and
// everything it was built from. Identity, status and creation time stay.
func UpdateClientRegistration(tx *Tx, c *Client) error {
	fields := map[string]any{
		"client_name": c.ClientName, "org_id": c.OrgID, "org_name": c.OrgName,
		"legal_entity_id": c.LegalEntityID, "legal_entity_name": c.LegalEntityName,
		"registration": c.Registration, "software_statement": c.SoftwareStatement, "request_jwt": c.RequestJWT,
		"ssa_header": c.SSAHeader, "ssa_claims": c.SSAClaims, "ssa_key_id": c.SSAKeyID,
		"request_header": c.RequestHeader, "request_claims": c.RequestClaims,
		"cert_thumbprint": c.CertThumbprint, "jwks_uri": c.JWKSURI, "scope": c.Scope, "updated_at": c.UpdatedAt,
	}
	if c.RATHash != "" { // a rotated registration access token
		fields["rat_hash"] = c.RATHash
	}
	var old Client
	if err := tx.g.Select("id, software_id, client_name, org_name, legal_entity_name").Where("id = ?", c.ID).Take(&old).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrNotFound
		}
		return err
	}
	res := tx.g.Model(&Client{}).Where("id = ? AND status = ?", c.ID, StatusActive).Updates(fields)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	if searchTermsEqual(&old, c) {
		return nil
	}
	return reindexClient(tx, &old, c)
}

func searchTermsEqual(a, b *Client) bool {
	return a.ClientName == b.ClientName && a.OrgName == b.OrgName && a.LegalEntityName == b.LegalEntityName && a.SoftwareID == b.SoftwareID
}

// SetClientStatus moves a client from one status to another inside tx, with a
// reason. Leaving active frees the duplicate-rule slot; returning to active takes
// it again (ErrDuplicate when another active registration holds it). ErrNotFound
// when the client is not in status from.
func SetClientStatus(tx *Tx, id, from, to, reason string, at time.Time, allowDuplicate bool) error {
	updates := map[string]any{"status": to, "status_reason": reason, "status_changed_at": at, "updated_at": at}
	if to == StatusActive {
		if allowDuplicate {
			updates["active_software_id"] = nil
		} else {
			updates["active_software_id"] = gorm.Expr("lower(software_id)")
		}
	} else {
		updates["active_software_id"] = nil
	}
	return savepoint(tx, func(tx *Tx) error {
		res := tx.g.Model(&Client{}).Where("id = ? AND status = ?", id, from).Updates(updates)
		if res.Error != nil {
			if IsUniqueViolation(res.Error) {
				return ErrDuplicate
			}
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// ActiveClientIDsForSoftware lists the active clients of a software product.
func (db *DB) ActiveClientIDsForSoftware(ctx context.Context, softwareID string) ([]string, error) {
	var ids []string
	// IN over the spellings keeps to the software_id index (ids are UUIDs, whose
	// case the Register and SSAs agree on in practice).
	err := db.r.WithContext(ctx).Model(&Client{}).Where("software_id IN (?, ?, ?) AND status = ?", softwareID, strings.ToLower(softwareID), strings.ToUpper(softwareID), StatusActive).
		Order("id").Pluck("id", &ids).Error
	return ids, err
}

// TouchLastToken records that a token was issued to the client.
func TouchLastToken(tx *Tx, id string, at time.Time) error {
	return tx.g.Model(&Client{}).Where("id = ?", id).UpdateColumn("last_token_at", at).Error
}

// ClientRowID is the client's SQLite rowid: the stable number the processing API
// reports as Authlete's numeric clientId.
func (db *DB) ClientRowID(ctx context.Context, id string) (int64, error) {
	var n int64
	// sqlite-only: rowid is SQLite's implicit row number; PostgreSQL has the identity column row_id.
	q := `SELECT rowid FROM clients WHERE id = ?`
	if db.pg {
		q = `SELECT row_id FROM clients WHERE id = ?`
	}
	err := db.r.WithContext(ctx).Raw(q, id).Scan(&n).Error
	return n, err
}
