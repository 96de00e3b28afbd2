package cdrsim

import "slices"

// Statuses used by the CDR Register. The simulator accepts any non-empty
// status string, so tests can also feed values a holder does not expect.
const (
	StatusActive      = "ACTIVE"      // legal entity, brand or software product
	StatusSuspended   = "SUSPENDED"   // legal entity
	StatusRevoked     = "REVOKED"     // legal entity
	StatusSurrendered = "SURRENDERED" // legal entity
	StatusInactive    = "INACTIVE"    // brand or software product
	StatusRemoved     = "REMOVED"     // brand or software product
)

// SoftwareRole is the software_roles value of every data recipient SSA.
const SoftwareRole = "data-recipient-software-product"

// DefaultScope is the scope of products made by ADR.NewProduct: a typical CDR
// banking data recipient scope.
const DefaultScope = "openid profile bank:accounts.basic:read bank:transactions:read common:customer.basic:read cdr:registration"

// LegalEntity is an accredited data recipient legal entity as published by the
// Register. Register.AddLegalEntity copies it: later changes to the value
// passed in are not seen by the Register; use the Register's setters.
type LegalEntity struct {
	ID                  string
	Name                string
	Status              string
	AccreditationNumber string
	AccreditationLevel  string
	LogoURI             string
	Brands              []*Brand
}

// Brand is a data recipient brand of a legal entity.
type Brand struct {
	ID       string
	Name     string
	Status   string
	LogoURI  string
	Products []*Product
}

// Product is a data recipient software product: the Register data about it
// and the metadata its SSAs carry.
type Product struct {
	ID                  string
	Name                string
	Description         string
	Status              string
	LogoURI             string
	ClientURI           string
	TOSURI              string
	PolicyURI           string
	RevocationURI       string
	RecipientBaseURI    string
	RedirectURIs        []string
	Scope               string // space separated
	JWKSURI             string // usually the owning ADR's JWKSURI()
	SectorIdentifierURI string // optional

	// adr is the simulated ADR that made the product (ADR.NewProduct), if any.
	// It supplies org and legal entity claims for a product the Register does
	// not know, so that "unknown product" SSAs are otherwise well formed.
	adr *ADR
}

// clone returns a deep copy of le.
func (le *LegalEntity) clone() *LegalEntity {
	c := *le
	c.Brands = make([]*Brand, 0, len(le.Brands))
	for _, b := range le.Brands {
		if b == nil {
			continue
		}
		bc := *b
		bc.Products = make([]*Product, 0, len(b.Products))
		for _, p := range b.Products {
			if p == nil {
				continue
			}
			pc := *p
			pc.RedirectURIs = slices.Clone(p.RedirectURIs)
			bc.Products = append(bc.Products, &pc)
		}
		c.Brands = append(c.Brands, &bc)
	}
	return &c
}

// Wire format of the Register's data recipient endpoints.

type softwareProductJSON struct {
	SoftwareProductID          string `json:"softwareProductId"`
	SoftwareProductName        string `json:"softwareProductName"`
	SoftwareProductDescription string `json:"softwareProductDescription"`
	LogoURI                    string `json:"logoUri"`
	Status                     string `json:"status"`
}

type brandJSON struct {
	DataRecipientBrandID string                `json:"dataRecipientBrandId"`
	BrandName            string                `json:"brandName"`
	LogoURI              string                `json:"logoUri"`
	SoftwareProducts     []softwareProductJSON `json:"softwareProducts"`
	Status               string                `json:"status"`
}

type legalEntityJSON struct {
	LegalEntityID       string      `json:"legalEntityId"`
	LegalEntityName     string      `json:"legalEntityName"`
	AccreditationNumber string      `json:"accreditationNumber"`
	AccreditationLevel  string      `json:"accreditationLevel"`
	LogoURI             string      `json:"logoUri"`
	DataRecipientBrands []brandJSON `json:"dataRecipientBrands"`
	Status              string      `json:"status"`
	LastUpdated         string      `json:"lastUpdated"`
}

type legalEntityStatusJSON struct {
	LegalEntityID string `json:"legalEntityId"`
	Status        string `json:"status"`
}

type productStatusJSON struct {
	SoftwareProductID string `json:"softwareProductId"`
	Status            string `json:"status"`
}

type linksJSON struct {
	Self string `json:"self"`
}

// envelope is the {"data","links","meta"} body of every data endpoint.
type envelope struct {
	Data  any            `json:"data"`
	Links linksJSON      `json:"links"`
	Meta  map[string]any `json:"meta"`
}
