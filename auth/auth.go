// Package auth is the console's operator accounts: passwords (argon2id), roles,
// server-side sessions with idle and absolute timeouts, and login throttling.
// Every account change is an audit event in the caller's transaction.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dcrconsole/dcrconsole/store"
)

// Auditor appends an audit event inside the caller's transaction (Append), or in
// a transaction of its own when nothing else changes (Record). *audit.Log implements it.
type Auditor interface {
	Append(tx *store.Tx, e *store.AuditEvent) error
	Record(ctx context.Context, e *store.AuditEvent, before ...func(tx *store.Tx) error) error
}

// Errors callers map to messages.
var (
	ErrInvalidCredentials = errors.New("auth: invalid username or password")
	ErrThrottled          = errors.New("auth: too many failed logins; try again later")
	ErrWeakPassword       = errors.New("auth: password too weak")
	ErrNoSession          = errors.New("auth: no valid session")
	// ErrLastAdmin keeps at least one enabled administrator.
	ErrLastAdmin = errors.New("auth: this is the last enabled administrator; make another one first")
)

// Options tune the service.
type Options struct {
	IdleTimeout     time.Duration // a session unused this long ends (default 30m)
	AbsoluteTimeout time.Duration // a session ends this long after login (default 12h)
	// Hash is the argon2id cost of new password hashes (default
	// DefaultHashParams; tests use CheapHashParams).
	Hash HashParams
	// LocalLoginAdminsOnly refuses password sign-in to all but administrators
	// (console.oidc.allow_local_login = false: break-glass accounts only).
	LocalLoginAdminsOnly bool
	// RequireMFA is which local accounts must have a second factor: MFANone,
	// MFAAdmin (default) or MFAAll (console.require_mfa).
	RequireMFA string
	// MFAKey seals TOTP secrets and keys recovery-code hashes (see secret.go);
	// empty: a random key for this process only (tests).
	MFAKey []byte
	// MFAIssuer names the console in authenticator apps (default "dcrconsole").
	MFAIssuer string
	// PasskeyOrigin is the console's public origin (scheme://host[:port]); its
	// host is the passkeys' relying party id. Empty: passkeys are off.
	PasskeyOrigin string
}

// Service manages operator accounts and sessions.
type Service struct {
	db       *store.DB
	audit    Auditor
	opts     Options
	throttle *throttle
	secrets  *secrets
	passkeys *passkeys // nil when Options.PasskeyOrigin is empty or unusable
	// dummyHash makes a login for an unknown user cost as much as a real one,
	// so response time does not reveal which usernames exist. It is made
	// without hashing (see unmatchableHash): nothing to compute at start.
	dummyHash string
	// hashSlots bounds concurrent password hashes, and so the memory they take
	// (GOMAXPROCS × Hash.MemoryKiB): a burst of sign-ins queues instead.
	hashSlots chan struct{}
	Now       func() time.Time
}

// New returns the service.
func New(db *store.DB, a Auditor, opts Options) *Service {
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 30 * time.Minute
	}
	if opts.AbsoluteTimeout <= 0 {
		opts.AbsoluteTimeout = 12 * time.Hour
	}
	if opts.Hash == (HashParams{}) {
		opts.Hash = DefaultHashParams
	}
	if opts.RequireMFA == "" {
		opts.RequireMFA = MFAAdmin
	}
	if opts.MFAIssuer == "" {
		opts.MFAIssuer = "dcrconsole"
	}
	s := &Service{db: db, audit: a, opts: opts, throttle: newThrottle(db), secrets: newSecrets(opts.MFAKey),
		dummyHash: unmatchableHash(opts.Hash),
		hashSlots: make(chan struct{}, runtime.GOMAXPROCS(0)), Now: time.Now}
	s.passkeys = newPasskeys(opts.PasskeyOrigin, opts.MFAIssuer)
	return s
}

// Options returns the effective options.
func (s *Service) Options() Options { return s.opts }

// RandomPassword returns a new random password (20 characters, ~120 bits).
func RandomPassword() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// CheckPassword enforces the password policy: 12 to 256 characters, not the username.
func CheckPassword(username, password string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < 12:
		return fmt.Errorf("%w: use at least 12 characters", ErrWeakPassword)
	case n > 256:
		return fmt.Errorf("%w: use at most 256 characters", ErrWeakPassword)
	case strings.EqualFold(password, username):
		return fmt.Errorf("%w: it must not be the username", ErrWeakPassword)
	}
	return nil
}

// ValidRole reports whether role is one of the three roles.
func ValidRole(role string) bool {
	return role == store.RoleViewer || role == store.RoleOperator || role == store.RoleAdmin
}

// RoleAtLeast reports whether role has at least the privileges of want.
func RoleAtLeast(role, want string) bool {
	rank := map[string]int{store.RoleViewer: 1, store.RoleOperator: 2, store.RoleAdmin: 3}
	return rank[role] >= rank[want] && rank[want] > 0
}

// hash returns the argon2id hash of password under the service's parameters.
func (s *Service) hash(password string) string {
	s.hashSlots <- struct{}{}
	defer func() { <-s.hashSlots }()
	return hashPassword(password, s.opts.Hash)
}

// matches reports whether password matches the stored hash.
func (s *Service) matches(encoded, password string) (bool, error) {
	s.hashSlots <- struct{}{}
	defer func() { <-s.hashSlots }()
	return VerifyPasswordHash(encoded, password)
}

func operatorEvent(action store.EventType, actor string, outcome store.Outcome, reason, remote string) *store.AuditEvent {
	return &store.AuditEvent{Type: action, Actor: actor, Outcome: outcome, Reason: reason, RemoteAddr: remote}
}

// EnsureAdmin creates the account "admin" with a random one-time password when
// no account exists, and returns that password ("" when accounts exist).
func (s *Service) EnsureAdmin(ctx context.Context) (string, error) {
	n, err := s.db.CountUsers(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	password := RandomPassword()
	_, err = s.CreateUser(ctx, "system", "admin", password, store.RoleAdmin, true, "")
	if errors.Is(err, store.ErrUsernameTaken) {
		return "", nil
	}
	return password, err
}

// CreateUser adds an account; mustChange forces a password change at first login.
func (s *Service) CreateUser(ctx context.Context, actor, username, password, role string, mustChange bool, remote string) (*store.User, error) {
	username = strings.TrimSpace(username)
	if username == "" || len(username) > 64 || strings.ContainsAny(username, " \t\r\n") {
		return nil, errors.New("auth: username must be 1 to 64 characters without spaces")
	}
	if !ValidRole(role) {
		return nil, fmt.Errorf("auth: role %q is not viewer, operator or admin", role)
	}
	if err := CheckPassword(username, password); err != nil {
		return nil, err
	}
	h := s.hash(password)
	now := s.Now().UTC()
	u := &store.User{Username: username, PasswordHash: h, Role: role, MustChangePassword: mustChange, CreatedAt: now, UpdatedAt: now}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := store.CreateUser(tx, u); err != nil {
			return err
		}
		return s.audit.Append(tx, operatorEvent(store.EventOperatorUserCreate, actor, store.OutcomeSuccess, fmt.Sprintf("created user %s with role %s", username, role), remote))
	})
	return u, err
}

// SetPassword sets a user's password; mustChange forces another change at the
// next login (an administrator's reset). Every session of the user ends.
func (s *Service) SetPassword(ctx context.Context, actor string, userID int64, password string, mustChange bool, remote string) error {
	u, err := s.db.UserByID(ctx, userID)
	if err != nil {
		return err
	}
	if u.IsSSO() {
		return ErrSSOOnly
	}
	if err := CheckPassword(u.Username, password); err != nil {
		return err
	}
	if same, _ := s.matches(u.PasswordHash, password); same {
		return fmt.Errorf("%w: choose a password different from the current one", ErrWeakPassword)
	}
	h := s.hash(password)
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := store.SetUserPassword(tx, u.ID, h, mustChange, s.Now().UTC()); err != nil {
			return err
		}
		if _, err := store.DeleteUserSessions(tx, u.ID); err != nil {
			return err
		}
		return s.audit.Append(tx, operatorEvent(store.EventOperatorUserPassword, actor, store.OutcomeSuccess, "password changed for "+u.Username, remote))
	})
}

// UpdateUser changes a user's role and disabled flag; disabling ends every session.
func (s *Service) UpdateUser(ctx context.Context, actor string, userID int64, role string, disabled bool, remote string) error {
	if !ValidRole(role) {
		return fmt.Errorf("auth: role %q is not viewer, operator or admin", role)
	}
	u, err := s.db.UserByID(ctx, userID)
	if err != nil {
		return err
	}
	before := fmt.Sprintf("role %s disabled %v", u.Role, u.Disabled)
	losesAdmin := u.Role == store.RoleAdmin && !u.Disabled && (role != store.RoleAdmin || disabled)
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		if losesAdmin {
			// Checked inside the transaction: two concurrent demotions cannot both pass.
			admins, err := store.CountEnabledAdmins(tx, u.ID)
			if err != nil {
				return err
			}
			if admins == 0 {
				return ErrLastAdmin
			}
		}
		if err := store.SetUserRole(tx, u.ID, role, disabled, s.Now().UTC()); err != nil {
			return err
		}
		if disabled {
			if _, err := store.DeleteUserSessions(tx, u.ID); err != nil {
				return err
			}
		}
		return s.audit.Append(tx, operatorEvent(store.EventOperatorUserUpdate, actor, store.OutcomeSuccess,
			fmt.Sprintf("user %s: %s -> role %s disabled %v", u.Username, before, role, disabled), remote))
	})
}

// Session is an authenticated console session.
type Session struct {
	Token string // the cookie value; only its hash is stored
	User  store.User
	// IDHash identifies the session in the store.
	IDHash string
	// Stage is "" for a signed-in session, or the sign-in step a
	// half-authenticated one may still take (store.StageSecondFactor,
	// store.StageEnrol); the console lets such a session reach nothing else.
	Stage string
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Verify checks a username and password, throttled per account and per
// address, auditing failures; it opens no session.
func (s *Service) Verify(ctx context.Context, username, password, remote string) (*store.User, error) {
	username = strings.TrimSpace(username)
	now := s.Now()
	// The attempt is reserved before the password is checked, so a burst of
	// concurrent guesses counts against the limit as it arrives.
	wait, err := s.throttle.begin(ctx, username, remote, now)
	if err != nil {
		return nil, err
	}
	if wait > 0 {
		s.recordLogin(ctx, username, store.OutcomeRejected, fmt.Sprintf("throttled for %s", wait.Round(time.Second)), remote)
		return nil, ErrThrottled
	}
	ok := false
	defer func() { _ = s.throttle.end(ctx, username, remote, s.Now(), ok) }()
	u, err := s.db.UserByName(ctx, username)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if u == nil {
		_, _ = s.matches(s.dummyHash, password)
		s.recordLogin(ctx, username, store.OutcomeRejected, "unknown user", remote)
		return nil, ErrInvalidCredentials
	}
	match, err := s.matches(u.PasswordHash, password)
	if err != nil {
		// A stored hash nobody can match locks the account out: say why in the audit log.
		s.recordLogin(ctx, username, store.OutcomeRejected, "stored password hash unusable: "+err.Error()+"; reset the password", remote)
		return nil, ErrInvalidCredentials
	}
	if !match {
		s.recordLogin(ctx, username, store.OutcomeRejected, "wrong password", remote)
		return nil, ErrInvalidCredentials
	}
	ok = true
	if u.Disabled {
		s.recordLogin(ctx, username, store.OutcomeRejected, "account disabled", remote)
		return nil, ErrInvalidCredentials
	}
	if s.opts.LocalLoginAdminsOnly && u.Role != store.RoleAdmin {
		s.recordLogin(ctx, username, store.OutcomeRejected, "password sign-in is for administrators only (console.oidc.allow_local_login = false)", remote)
		return nil, ErrLocalLoginOff
	}
	return u, nil
}

// Login checks credentials (see Verify) and opens a session. A password hash
// in an older format (bcrypt) or with other parameters is replaced by an
// argon2id hash under the current parameters in the same transaction.
// An account with a second factor gets a session in store.StageSecondFactor,
// one that must have a second factor and has none a session in
// store.StageEnrol (see Session.Stage); the others are signed in.
func (s *Service) Login(ctx context.Context, username, password, remote, userAgent string) (*Session, error) {
	u, err := s.Verify(ctx, username, password, remote)
	if err != nil {
		return nil, err
	}
	stage, err := s.nextStage(ctx, u)
	if err != nil {
		return nil, err
	}
	upgraded, reason := "", "logged in"
	if stage != "" {
		reason = "password accepted; " + map[string]string{store.StageSecondFactor: "second factor asked",
			store.StageEnrol: "a second factor must be set up first"}[stage]
	}
	if needsRehash(u.PasswordHash, s.opts.Hash) {
		// Hashed before the transaction: the writer is never held for a hash.
		upgraded, reason = s.hash(password), reason+"; password hash upgraded to argon2id"
	}
	at := s.Now().UTC()
	token, sess := s.newSession(u.ID, stage, remote, userAgent, at)
	event := store.EventOperatorLogin
	if stage != "" {
		event = store.EventOperatorLoginStep
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		// Guarded: if the account was disabled or its password changed since it
		// was checked, the sign-in fails and no session is made.
		if err := s.recordSignIn(tx, u, stage, at); err != nil {
			return err
		}
		if upgraded != "" {
			if err := store.UpgradePasswordHash(tx, u.ID, u.PasswordHash, upgraded); err != nil {
				return err
			}
		}
		if err := store.CreateSession(tx, sess); err != nil {
			return err
		}
		return s.audit.Append(tx, operatorEvent(event, "user:"+u.Username, store.OutcomeSuccess, reason, remote))
	})
	if errors.Is(err, store.ErrNotFound) {
		s.recordLogin(ctx, u.Username, store.OutcomeRejected, "account changed during sign-in", remote)
		return nil, ErrInvalidCredentials
	}
	if err != nil {
		return nil, err
	}
	if upgraded != "" {
		u.PasswordHash = upgraded
	}
	return &Session{Token: token, User: *u, IDHash: sess.IDHash, Stage: stage}, nil
}

func (s *Service) recordLogin(ctx context.Context, username string, outcome store.Outcome, reason, remote string) {
	ev := operatorEvent(store.EventOperatorLogin, "user:"+truncate(username, 64), outcome, reason, remote)
	_ = s.audit.Record(context.WithoutCancel(ctx), ev)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
