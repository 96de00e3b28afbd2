package authz

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dcrconsole/dcrconsole/dcr"
	"github.com/dcrconsole/dcrconsole/jose"
	"github.com/dcrconsole/dcrconsole/store"
)

// expiredLayout prints token expiry times the way the reference implementation does.
const expiredLayout = "01/02/2006 15:04:05"

func bearerChallenge(code, desc string) string {
	return fmt.Sprintf(`Bearer error=%q, error_description=%q`, code, desc)
}

func invalidToken(detail, desc string) *dcr.AuthError {
	return &dcr.AuthError{Status: http.StatusUnauthorized, WWWAuthenticate: bearerChallenge("invalid_token", desc), Detail: detail}
}

// clientUnknown is the one answer for a token of another client, an unknown
// client, and a revoked, deleted or removed one: nothing reveals which.
func clientUnknown(detail string) *dcr.AuthError {
	return &dcr.AuthError{Status: http.StatusUnauthorized, WWWAuthenticate: bearerChallenge("invalid_request", dcr.DescClientUnknown),
		Code: "invalid_request", Description: dcr.DescClientUnknown, Detail: detail}
}

// AccessVerifier checks the holder's access tokens on the management endpoints.
type AccessVerifier struct {
	issuer string
	skew   time.Duration
	mtls   bool
	keys   *KeyRing
	db     *store.DB
	Now    func() time.Time

	// verified caches tokens whose signature and claims checked out, so a client
	// polling its registration does not pay for a signature check each time.
	// Expiry, the signing key still being published, and everything after step
	// 2 are checked on every use.
	mu       sync.Mutex
	verified map[[32]byte]verifiedToken
}

type verifiedToken struct {
	claims map[string]any
	kid    string
	exp    time.Time
}

// maxVerifiedTokens bounds the cache; tokens live at most 10 minutes.
const maxVerifiedTokens = 10_000

// NewAccessVerifier wires the verifier.
func NewAccessVerifier(issuer string, skew time.Duration, mtls bool, keys *KeyRing, db *store.DB) *AccessVerifier {
	return &AccessVerifier{issuer: issuer, skew: skew, mtls: mtls, keys: keys, db: db, Now: time.Now,
		verified: make(map[[32]byte]verifiedToken)}
}

// Authorize applies the authorization order to a request for pathClientID. It
// returns the active client, the token's client id (for the audit log), or the refusal.
func (v *AccessVerifier) Authorize(ctx context.Context, authorization, certThumbprint, pathClientID string) (*store.Client, string, *dcr.AuthError) {
	// 1. a bearer token
	scheme, token, _ := strings.Cut(strings.TrimSpace(authorization), " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return nil, "", &dcr.AuthError{Status: http.StatusUnauthorized, WWWAuthenticate: "Bearer", Detail: "no bearer token"}
	}
	// 2. well formed, signed by us, for us, current
	claims, aerr := v.verify(token)
	if aerr != nil {
		return nil, "", aerr
	}
	tokenClient, _ := claims["client_id"].(string)
	// 3. holder of key
	if v.mtls {
		cnf, _ := claims["cnf"].(map[string]any)
		bound, _ := cnf["x5t#S256"].(string)
		if certThumbprint == "" || bound == "" || subtle.ConstantTimeCompare([]byte(bound), []byte(certThumbprint)) != 1 {
			return nil, tokenClient, &dcr.AuthError{Status: http.StatusUnauthorized, WWWAuthenticate: bearerChallenge("invalid_token", dcr.DescHolderOfKey),
				Code: "invalid_token", Description: dcr.DescHolderOfKey,
				Detail: fmt.Sprintf("certificate thumbprint %q, token bound to %q", certThumbprint, bound)}
		}
	}
	// 4. scope
	scope, _ := claims["scope"].(string)
	if !slices.Contains(strings.Fields(scope), ScopeRegistration) {
		return nil, tokenClient, &dcr.AuthError{Status: http.StatusForbidden, WWWAuthenticate: bearerChallenge("insufficient_scope", "The token lacks the cdr:registration scope"),
			Code: "insufficient_scope", Detail: fmt.Sprintf("token scope %q", scope)}
	}
	// 5. the token's own, active client
	if tokenClient == "" || tokenClient != pathClientID {
		return nil, tokenClient, clientUnknown(fmt.Sprintf("token of client %q used for %q", tokenClient, pathClientID))
	}
	c, err := v.db.GetClient(ctx, pathClientID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, tokenClient, clientUnknown("client " + pathClientID + " does not exist")
	}
	if err != nil {
		return nil, tokenClient, &dcr.AuthError{Status: http.StatusInternalServerError, Code: dcr.CodeServerError, Description: "internal error", Detail: err.Error()}
	}
	if c.Status != store.StatusActive {
		return nil, tokenClient, clientUnknown(fmt.Sprintf("client %s is %s", c.ID, c.Status))
	}
	return c, tokenClient, nil
}

// verify is step 2: the token is a JWS of ours, typ at+jwt, our iss and aud, current.
func (v *AccessVerifier) verify(token string) (map[string]any, *dcr.AuthError) {
	sum := sha256.Sum256([]byte(token))
	v.mu.Lock()
	hit, ok := v.verified[sum]
	v.mu.Unlock()
	if ok {
		if _, published := v.keys.Key(hit.kid); published {
			if v.Now().After(hit.exp.Add(v.skew)) {
				return nil, expired(hit.exp)
			}
			return hit.claims, nil
		}
	}
	claims, kid, exp, aerr := v.verifySignature(token)
	if aerr != nil {
		return nil, aerr
	}
	v.mu.Lock()
	if len(v.verified) >= maxVerifiedTokens {
		now := v.Now()
		for k, t := range v.verified {
			if now.After(t.exp.Add(v.skew)) {
				delete(v.verified, k)
			}
		}
		if len(v.verified) >= maxVerifiedTokens {
			clear(v.verified)
		}
	}
	v.verified[sum] = verifiedToken{claims: claims, kid: kid, exp: exp}
	v.mu.Unlock()
	return claims, nil
}

func expired(exp time.Time) *dcr.AuthError {
	return invalidToken("expired at "+exp.Format(time.RFC3339), fmt.Sprintf("The token expired at '%s'", exp.Format(expiredLayout)))
}

// verifySignature does the full check of step 2.
func (v *AccessVerifier) verifySignature(token string) (map[string]any, string, time.Time, *dcr.AuthError) {
	jwt, err := jose.ParseJWT(token)
	if err != nil {
		return nil, "", time.Time{}, invalidToken("malformed token: "+err.Error(), "The token is malformed")
	}
	key, ok := v.keys.Key(jwt.KeyID())
	if !ok {
		return nil, "", time.Time{}, invalidToken(fmt.Sprintf("no holder key %q", jwt.KeyID()), "The signature key was not found")
	}
	if err := jwt.Verify(key); err != nil {
		return nil, "", time.Time{}, invalidToken(err.Error(), "The signature is invalid")
	}
	if typ, _ := jwt.Header["typ"].(string); !strings.EqualFold(typ, TypeAccessToken) {
		return nil, "", time.Time{}, invalidToken(fmt.Sprintf("typ %q", typ), "The token is not an access token")
	}
	if iss, _ := jwt.String("iss"); iss != v.issuer {
		return nil, "", time.Time{}, invalidToken(fmt.Sprintf("iss %q", iss), "The issuer is invalid")
	}
	if !jose.AudienceContains(jwt.Claims["aud"], v.issuer) {
		return nil, "", time.Time{}, invalidToken(fmt.Sprintf("aud %v", jwt.Claims["aud"]), "The audience is invalid")
	}
	expF, ok := jwt.Claims["exp"].(float64)
	if !ok {
		return nil, "", time.Time{}, invalidToken("exp missing", "The token has no expiry")
	}
	exp := time.Unix(int64(expF), 0).UTC()
	if v.Now().After(exp.Add(v.skew)) {
		return nil, "", time.Time{}, expired(exp)
	}
	return jwt.Claims, jwt.KeyID(), exp, nil
}
