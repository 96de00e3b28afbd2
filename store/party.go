package store

import (
	"context"
	"errors"

	"gorm.io/gorm"
)

// A party is a brand (org_id, org_name) or a legal entity (legal_entity_id,
// legal_entity_name) of the ADRs whose registrations the clients table holds.
// The console's global search, per-ADR page and bulk actions read clients by
// party through idx_clients_org and idx_clients_legal_entity (migration 45).

// Party kinds.
const (
	PartyBrand       = "brand"
	PartyLegalEntity = "legal_entity"
)

// ErrBadParty is returned for a party kind that is neither PartyBrand nor
// PartyLegalEntity, or an empty party id.
var ErrBadParty = errors.New("store: unknown party kind or empty party id")

// Party is a brand or legal entity as its registrations name it.
type Party struct {
	ID   string
	Name string
}

func partyColumns(kind string) (id, name string, err error) {
	switch kind {
	case PartyBrand:
		return "org_id", "org_name", nil
	case PartyLegalEntity:
		return "legal_entity_id", "legal_entity_name", nil
	}
	return "", "", ErrBadParty
}

// PartiesByIDPrefix lists up to limit parties of kind whose id starts with
// prefix (as stored, case-sensitively), in id order: a range scan of the
// party's index that stops after limit distinct ids.
func (db *DB) PartiesByIDPrefix(ctx context.Context, kind, prefix string, limit int) ([]Party, error) {
	idCol, nameCol, err := partyColumns(kind)
	if err != nil || prefix == "" {
		return nil, err
	}
	var out []Party
	err = db.r.WithContext(ctx).Raw(`SELECT `+idCol+` AS id, MIN(`+nameCol+`) AS name FROM clients
		WHERE `+idCol+` >= ? AND `+idCol+` < ? GROUP BY `+idCol+` ORDER BY `+idCol+` LIMIT ?`,
		prefix, prefix+"\U0010FFFF", limit).Scan(&out).Error
	return out, err
}

// PartyName is the name the newest registration of a party gives it ("" when
// it has none here).
func (db *DB) PartyName(ctx context.Context, kind, id string) (string, error) {
	idCol, nameCol, err := partyColumns(kind)
	if err != nil || id == "" {
		return "", ErrBadParty
	}
	var names []string
	err = db.r.WithContext(ctx).Raw(`SELECT `+nameCol+` FROM clients WHERE `+idCol+` = ? ORDER BY id DESC LIMIT 1`, id).Scan(&names).Error
	if err != nil || len(names) == 0 {
		return "", err
	}
	return names[0], nil
}

// ClientsOfParty lists a party's clients in id order after the id after ("" for
// the first page), at most limit, only those in status when it is not "".
func (db *DB) ClientsOfParty(ctx context.Context, kind, id, status, after string, limit int) ([]ClientSummary, error) {
	idCol, _, err := partyColumns(kind)
	if err != nil || id == "" {
		return nil, ErrBadParty
	}
	q := db.r.WithContext(ctx).Table("clients").Select(clientSummaryColumns).Where(idCol+" = ? AND id > ?", id, after)
	if status != "" {
		q = q.Where("status = ?", status)
	}
	var rows []ClientSummary
	err = q.Order("id").Limit(limit).Scan(&rows).Error
	return rows, err
}

// CountClientsOfParty counts a party's clients in each status.
func (db *DB) CountClientsOfParty(ctx context.Context, kind, id string) ([]ClientCount, error) {
	idCol, _, err := partyColumns(kind)
	if err != nil || id == "" {
		return nil, ErrBadParty
	}
	var out []ClientCount
	err = db.r.WithContext(ctx).Raw(`SELECT status, COUNT(*) AS n FROM clients WHERE `+idCol+` = ? GROUP BY status ORDER BY status`, id).Scan(&out).Error
	return out, err
}

// PartySoftwareIDs lists the distinct software_ids of a party's clients.
func (db *DB) PartySoftwareIDs(ctx context.Context, kind, id string) ([]string, error) {
	idCol, _, err := partyColumns(kind)
	if err != nil || id == "" {
		return nil, ErrBadParty
	}
	var out []string
	err = db.r.WithContext(ctx).Raw(`SELECT DISTINCT software_id FROM clients WHERE `+idCol+` = ? ORDER BY software_id`, id).Scan(&out).Error
	return out, err
}

// ClientForUpdate reads the identity of a client inside tx (id, software_id,
// org_id), for the audit event of a change made in that transaction.
func ClientForUpdate(tx *Tx, id string) (*Client, error) {
	var c Client
	err := tx.g.Select("id, software_id, org_id, status").Where("id = ?", id).Take(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &c, err
}
