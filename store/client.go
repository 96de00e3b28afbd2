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
	StatusReason      string
	StatusChangedAt   *time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// TableName is the clients table.
func (Client) TableName() string { return "clients" }

// CreateClient inserts c inside tx. It returns ErrDuplicate when the duplicate rule
// (the UNIQUE index on active_software_id) refuses it.
func CreateClient(tx *gorm.DB, c *Client) error {
	if err := tx.Create(c).Error; err != nil {
		if IsUniqueViolation(err) {
			return ErrDuplicate
		}
		return err
	}
	return nil
}

// HasActiveClient reports whether an active registration holds the duplicate-rule
// slot of softwareID (compared case-insensitively, like the UNIQUE index it reads).
func (db *DB) HasActiveClient(ctx context.Context, softwareID string) (bool, error) {
	var n int64
	err := db.R.WithContext(ctx).Model(&Client{}).
		Where("active_software_id = ?", strings.ToLower(softwareID)).Limit(1).Count(&n).Error
	return n > 0, err
}

// GetClient returns the client with id, whatever its status.
func (db *DB) GetClient(ctx context.Context, id string) (*Client, error) {
	var c Client
	err := db.R.WithContext(ctx).Where("id = ?", id).Take(&c).Error
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
	err := db.R.WithContext(ctx).Model(&Client{}).Select("status, COUNT(*) AS n").Group("status").Order("status").Scan(&out).Error
	return out, err
}
