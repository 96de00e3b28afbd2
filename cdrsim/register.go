package cdrsim

import (
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/lestrrat-go/jwx/v2/jwa"
)

// SSAIssuer is the iss claim of every SSA the Register signs.
const SSAIssuer = "cdr-register"

// ssaLifetime is how long an SSA signed by the Register is valid.
const ssaLifetime = 10 * time.Minute

// Register is the simulated CDR Register: an HTTPS server publishing its SSA
// signing keys and its data recipient data, and a signer of Software Statement
// Assertions. All methods are safe for concurrent use, also while it serves.
type Register struct {
	srv      *tlsServer
	requests requestCounter

	mu        sync.RWMutex
	key       *rsa.PrivateKey
	kid       string
	jwks      []byte
	extraJWKs []json.RawMessage
	entities  []*LegalEntity        // deep copies owned by the Register, in insertion order
	updated   map[string]time.Time  // legal entity ID → lastUpdated
	refs      map[string]productRef // software product ID → owner when last registered
	down      bool
	delay     time.Duration
}

// productRef is what an SSA says about a product's owner.
type productRef struct {
	brandID, brandName, legalEntityID, legalEntityName string
}

// NewRegister starts a simulated Register on 127.0.0.1 with a fresh RSA-2048
// PS256 signing key whose kid is its RFC 7638 thumbprint. The server's
// certificate is issued by ca. It holds no data recipients until
// AddLegalEntity is called.
func NewRegister(ca *CA) (*Register, error) {
	r := &Register{
		updated: make(map[string]time.Time),
		refs:    make(map[string]productRef),
	}
	if err := r.RotateKey(); err != nil {
		return nil, err
	}
	srv, err := newServer(ca)
	if err != nil {
		return nil, err
	}
	r.srv = srv
	srv.serve(r.handler())
	return r, nil
}

// Close stops the server and closes its connections.
func (r *Register) Close() { r.srv.close() }

// URL returns the server's base URL, https://127.0.0.1:PORT.
func (r *Register) URL() string { return r.srv.url }

// BaseURI returns the base of the Register API, URL()+"/cdr-register/v1".
func (r *Register) BaseURI() string { return r.srv.url + "/cdr-register/v1" }

// JWKSURI returns the URL of the SSA signing keys, BaseURI()+"/jwks".
func (r *Register) JWKSURI() string { return r.BaseURI() + "/jwks" }

// DataRecipientsURI returns the data recipients URL for industry ("all" when
// empty).
func (r *Register) DataRecipientsURI(industry string) string {
	if industry == "" {
		industry = "all"
	}
	return r.BaseURI() + "/" + industry + "/data-recipients"
}

// KeyID returns the kid of the current SSA signing key.
func (r *Register) KeyID() string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.kid
}

// SigningKey returns the current SSA signing key, for tests that sign SSAs
// themselves (for instance with RS256 through SignSSAWith).
func (r *Register) SigningKey() *rsa.PrivateKey {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.key
}

// RotateKey replaces the SSA signing key with a new RSA-2048 key and a new
// kid. The JWKS publishes only the new key from then on.
func (r *Register) RotateKey() error {
	key, kid, err := newRSAKey()
	if err != nil {
		return err
	}
	pub, err := publicJWK(&key.PublicKey, kid, jwa.PS256)
	if err != nil {
		return err
	}
	body, err := marshalJWKS(pub)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.key, r.kid, r.jwks = key, kid, body
	return nil
}

// AddLegalEntity publishes a copy of le, replacing any legal entity with the
// same ID (in place, keeping the published order). Software product IDs are
// expected to be unique across the Register.
func (r *Register) AddLegalEntity(le LegalEntity) {
	c := le.clone()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.updated[c.ID] = time.Now()
	for _, b := range c.Brands {
		for _, p := range b.Products {
			r.refs[p.ID] = productRef{brandID: b.ID, brandName: b.Name, legalEntityID: c.ID, legalEntityName: c.Name}
		}
	}
	if i := slices.IndexFunc(r.entities, func(e *LegalEntity) bool { return e.ID == c.ID }); i >= 0 {
		r.entities[i] = c
		return
	}
	r.entities = append(r.entities, c)
}

// SetLegalEntityStatus changes a legal entity's status (ACTIVE, SUSPENDED,
// REVOKED, SURRENDERED, or anything non-empty).
func (r *Register) SetLegalEntityStatus(legalEntityID, status string) error {
	if status == "" {
		return fmt.Errorf("cdrsim: empty status for legal entity %q", legalEntityID)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, le := range r.entities {
		if le.ID == legalEntityID {
			le.Status = status
			r.updated[le.ID] = time.Now()
			return nil
		}
	}
	return fmt.Errorf("cdrsim: unknown legal entity %q", legalEntityID)
}

// SetBrandStatus changes a brand's status (ACTIVE, INACTIVE, REMOVED, or
// anything non-empty).
func (r *Register) SetBrandStatus(brandID, status string) error {
	if status == "" {
		return fmt.Errorf("cdrsim: empty status for brand %q", brandID)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, le := range r.entities {
		for _, b := range le.Brands {
			if b.ID == brandID {
				b.Status = status
				r.updated[le.ID] = time.Now()
				return nil
			}
		}
	}
	return fmt.Errorf("cdrsim: unknown brand %q", brandID)
}

// SetProductStatus changes a software product's status (ACTIVE, INACTIVE,
// REMOVED, or anything non-empty).
func (r *Register) SetProductStatus(softwareProductID, status string) error {
	if status == "" {
		return fmt.Errorf("cdrsim: empty status for software product %q", softwareProductID)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, le := range r.entities {
		for _, b := range le.Brands {
			for _, p := range b.Products {
				if p.ID == softwareProductID {
					p.Status = status
					r.updated[le.ID] = time.Now()
					return nil
				}
			}
		}
	}
	return fmt.Errorf("cdrsim: unknown software product %q", softwareProductID)
}

// RemoveProduct deletes a software product from every endpoint, so that it
// becomes unknown to holders. SignSSA still works for it (with its last
// known brand and legal entity), which is how tests make SSAs for unknown
// products. Removing an unknown product does nothing.
func (r *Register) RemoveProduct(softwareProductID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, le := range r.entities {
		for _, b := range le.Brands {
			n := len(b.Products)
			b.Products = slices.DeleteFunc(b.Products, func(p *Product) bool { return p.ID == softwareProductID })
			if len(b.Products) != n {
				r.updated[le.ID] = time.Now()
			}
		}
	}
}

// ProductStatus returns the published status of a software product and
// whether the Register knows it.
func (r *Register) ProductStatus(softwareProductID string) (string, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, le := range r.entities {
		for _, b := range le.Brands {
			for _, p := range b.Products {
				if p.ID == softwareProductID {
					return p.Status, true
				}
			}
		}
	}
	return "", false
}

// SetDown makes every endpoint answer 503 Service Unavailable while down is
// true.
func (r *Register) SetDown(down bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.down = down
}

// SetDelay makes every response wait d first (0 disables), for timeout tests.
// A waiting request ends early when its client goes away or the server closes.
func (r *Register) SetDelay(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.delay = d
}

// Requests returns how many requests the exact URL path (for instance
// "/cdr-register/v1/jwks") has received, including failed and 304 ones.
func (r *Register) Requests(path string) int { return r.requests.get(path) }

// ref returns what SSAs say about p's owner: the brand and legal entity it was
// last registered under, else those of the ADR that made it.
func (r *Register) ref(p *Product) productRef {
	r.mu.RLock()
	ref, ok := r.refs[p.ID]
	r.mu.RUnlock()
	if !ok && p.adr != nil {
		ref = productRef{
			brandID:         p.adr.BrandID(),
			brandName:       p.adr.Name(),
			legalEntityID:   p.adr.LegalEntityID(),
			legalEntityName: p.adr.LegalEntityName(),
		}
	}
	return ref
}

// SSAClaims returns the standard SSA claims for p: iss "cdr-register", iat
// now, exp now+10m, a random jti, the org_* and legal_entity_* claims of the
// brand and legal entity p was registered under (or of the ADR that made it,
// if the Register never saw it), and p's metadata. Required claims are always
// present; the optional legal_entity_id, legal_entity_name, tos_uri,
// policy_uri and sector_identifier_uri are omitted when empty. Lists are
// []any, like decoded JSON. The map is the caller's to edit.
func (r *Register) SSAClaims(p *Product) map[string]any {
	if p == nil {
		p = &Product{}
	}
	ref := r.ref(p)
	now := time.Now()
	claims := map[string]any{
		"iss":                SSAIssuer,
		"iat":                now.Unix(),
		"exp":                now.Add(ssaLifetime).Unix(),
		"jti":                uuid.NewString(),
		"org_id":             ref.brandID,
		"org_name":           ref.brandName,
		"client_name":        p.Name,
		"client_description": p.Description,
		"client_uri":         p.ClientURI,
		"redirect_uris":      stringsToAny(p.RedirectURIs),
		"logo_uri":           p.LogoURI,
		"jwks_uri":           p.JWKSURI,
		"revocation_uri":     p.RevocationURI,
		"recipient_base_uri": p.RecipientBaseURI,
		"software_id":        p.ID,
		"software_roles":     SoftwareRole,
		"scope":              strings.Join(strings.Fields(p.Scope), " "),
	}
	for name, value := range map[string]string{
		"legal_entity_id":       ref.legalEntityID,
		"legal_entity_name":     ref.legalEntityName,
		"tos_uri":               p.TOSURI,
		"policy_uri":            p.PolicyURI,
		"sector_identifier_uri": p.SectorIdentifierURI,
	} {
		if value != "" {
			claims[name] = value
		}
	}
	return claims
}

// SignSSA signs SSAClaims(p) with the current key. The header starts as
// {"alg":"PS256","kid":KeyID(),"typ":"JWT"}; edits (nil ones are skipped) may
// change both maps before signing, and the header is serialised exactly as
// edited. The signature algorithm follows the edited header's alg when that is
// "none" (the token is then unsigned) or another RSA algorithm (RS256, PS384,
// ...); for any other header alg, or none at all, the token is signed with
// PS256 anyway, giving a header that lies about its signature.
func (r *Register) SignSSA(p *Product, edit ...func(claims map[string]any, header map[string]any)) (string, error) {
	claims := r.SSAClaims(p)
	r.mu.RLock()
	key, kid := r.key, r.kid
	r.mu.RUnlock()
	header := map[string]any{"alg": string(jwa.PS256), "kid": kid, "typ": "JWT"}
	for _, e := range edit {
		if e != nil {
			e(claims, header)
		}
	}
	alg := jwa.PS256
	if a, ok := header["alg"].(string); ok && (isNone(jwa.SignatureAlgorithm(a)) || isRSAAlg(jwa.SignatureAlgorithm(a))) {
		alg = jwa.SignatureAlgorithm(a)
	}
	return signCompact(alg, key, header, claims)
}

// SignSSAWith signs claims with alg and key, for hostile tests: HS256 keyed
// with the Register's public key bytes, "none" (an unsigned "header.payload."
// token; key is ignored), an ES256 key absent from the JWKS, and so on. A nil
// key with an RSA alg means the Register's current key. header is used as
// given (a nil header means {"typ":"JWT"}), with "alg" added when absent; no
// kid is added.
func (r *Register) SignSSAWith(alg jwa.SignatureAlgorithm, key any, claims, header map[string]any) (string, error) {
	if key == nil && isRSAAlg(alg) {
		key = r.SigningKey()
	}
	return signCompact(alg, key, withAlg(header, alg), claims)
}
