package register

import "time"

// ProductStatus is everything the holder knows about one software product.
// Statuses are upper case, as the Register spells them.
type ProductStatus struct {
	SoftwareProductID, SoftwareProductName, Status    string
	BrandID, BrandName, BrandStatus                   string
	LegalEntityID, LegalEntityName, LegalEntityStatus string
}

// Levels named by EffectiveStatus.
const (
	LevelSoftwareProduct = "software product"
	LevelBrand           = "brand"
	LevelLegalEntity     = "legal entity"
)

// EffectiveStatus returns "ACTIVE" when the product, its brand and its legal
// entity are all ACTIVE; otherwise the status of the first one that is not
// (product, then brand, then legal entity; "UNKNOWN" when the Register gave
// none) and its level (LevelSoftwareProduct, LevelBrand, LevelLegalEntity).
func (p ProductStatus) EffectiveStatus() (status, level string) {
	for _, s := range [...]struct{ status, level string }{
		{p.Status, LevelSoftwareProduct}, {p.BrandStatus, LevelBrand}, {p.LegalEntityStatus, LevelLegalEntity},
	} {
		if s.status != "ACTIVE" {
			if s.status == "" {
				return "UNKNOWN", s.level
			}
			return s.status, s.level
		}
	}
	return "ACTIVE", ""
}

// StatusSubject names what a level's status belongs to, for a reason:
// "software product sp-1" for the product itself, "brand of software product
// sp-1" for its brand, never "software product of software product sp-1".
func StatusSubject(level, softwareID string) string {
	if level == LevelSoftwareProduct || level == "" {
		return LevelSoftwareProduct + " " + softwareID
	}
	return level + " of " + LevelSoftwareProduct + " " + softwareID
}

// ProductChange is one product whose status changed in a sync. A product new
// to the holder has a zero Old; a product that disappeared from the Register
// has Gone set and a zero New (unlike one the Register marks REMOVED).
type ProductChange struct {
	Old, New ProductStatus
	Gone     bool
}

// SyncHealth is the state of the Register synchronisation, for the console.
type SyncHealth struct {
	LastAttempt, LastSuccess time.Time
	LastError                string    // the most recent failure, kept after recovery
	LastErrorAt              time.Time // compare with LastSuccess to tell if it is current
	ConsecutiveFails         int
	DataAge                  time.Duration // since LastSuccess; 0 before the first success
	Products, Brands         int
	LegalEntities            int
}
