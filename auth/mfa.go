package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/dcrconsole/dcrconsole/store"
)

// MFA policies: which local accounts must have a second factor (console.require_mfa).
const (
	MFANone  = "none"
	MFAAdmin = "admin"
	MFAAll   = "all"
)

// Errors of second factors, for messages a user can act on.
var (
	// ErrInvalidCode is a wrong, expired or already used code (TOTP or recovery).
	ErrInvalidCode = errors.New("auth: the code is wrong, expired or used already")
	// ErrLastFactor refuses removing the only second factor of an account that must have one.
	ErrLastFactor = errors.New("auth: this is your only second factor and your role requires one; add another first")
	// ErrNoPendingTOTP is a confirmation without a set-up in progress.
	ErrNoPendingTOTP = errors.New("auth: start the authenticator app set-up again")
	// ErrNotLocked is an unlock of an account or address that is not throttled.
	ErrNotLocked = errors.New("auth: that account or address is not locked")
)

// recoveryCodeCount recovery codes are made at a time, each of
// recoveryCodeLen characters from recoveryAlphabet (50 bits).
const (
	recoveryCodeCount = 10
	recoveryCodeLen   = 10
	recoveryAlphabet  = "abcdefghijkmnpqrstuvwxyz23456789" // 32 symbols; no l, o, 0, 1
	totpPeriod        = 30
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// MFARequired reports whether a local account of role must have a second factor.
func (s *Service) MFARequired(role string) bool {
	switch s.opts.RequireMFA {
	case MFAAll:
		return true
	case MFAAdmin:
		return role == store.RoleAdmin
	}
	return false
}

// Factors are the second factors an account has.
type Factors struct {
	TOTP         bool  // a confirmed authenticator app
	Passkeys     int64 // registered passkeys
	RecoveryLeft int64 // unused recovery codes
}

// Any reports whether the account has a second factor to sign in with.
func (f Factors) Any() bool { return f.TOTP || f.Passkeys > 0 }

// Factors reads the second factors of an account.
func (s *Service) Factors(ctx context.Context, userID int64) (Factors, error) {
	var f Factors
	t, err := s.db.TOTPByUser(ctx, userID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return f, err
	}
	f.TOTP = t != nil && t.ConfirmedAt != nil
	if f.Passkeys, err = s.db.CountPasskeys(ctx, userID); err != nil {
		return f, err
	}
	f.RecoveryLeft, err = s.db.UnusedRecoveryCodes(ctx, userID)
	return f, err
}

// TOTPSetup is what the enrolment page shows: the secret as text, the
// otpauth:// URL and its QR code as a data: URL of a PNG.
type TOTPSetup struct {
	Secret string
	URL    string
	QR     string
}

// StartTOTP makes a new authenticator-app secret for u, pending until
// ConfirmTOTP; an app already set up must be removed first (store.ErrTOTPConfirmed).
func (s *Service) StartTOTP(ctx context.Context, u *store.User) (*TOTPSetup, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.opts.MFAIssuer, AccountName: u.Username, Period: totpPeriod,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return nil, err
	}
	row := &store.TOTP{UserID: u.ID, Secret: s.secrets.seal(u.ID, key.Secret()), CreatedAt: s.Now().UTC()}
	if err := s.db.Tx(ctx, func(tx *store.Tx) error { return store.PutPendingTOTP(tx, row) }); err != nil {
		return nil, err
	}
	return totpSetup(key)
}

// PendingTOTP shows the set-up in progress again (after a wrong code).
func (s *Service) PendingTOTP(ctx context.Context, u *store.User) (*TOTPSetup, error) {
	secret, err := s.pendingTOTPSecret(ctx, u)
	if err != nil {
		return nil, err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.opts.MFAIssuer, AccountName: u.Username, Period: totpPeriod,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1, Secret: mustBase32(secret)})
	if err != nil {
		return nil, err
	}
	return totpSetup(key)
}

// pendingTOTPSecret is u's authenticator secret that is set up but not yet
// confirmed (ErrNoPendingTOTP when there is none).
func (s *Service) pendingTOTPSecret(ctx context.Context, u *store.User) (string, error) {
	row, err := s.db.TOTPByUser(ctx, u.ID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && row.ConfirmedAt != nil) {
		return "", ErrNoPendingTOTP
	}
	if err != nil {
		return "", err
	}
	return s.secrets.open(u.ID, row.Secret)
}

func totpSetup(key *otp.Key) (*TOTPSetup, error) {
	img, err := key.Image(240, 240)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return &TOTPSetup{Secret: key.Secret(), URL: key.URL(),
		QR: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())}, nil
}

// ConfirmTOTP makes the pending secret u's second factor when code is one of
// its current codes, and returns a new set of recovery codes (shown once).
func (s *Service) ConfirmTOTP(ctx context.Context, u *store.User, code, remote string) ([]string, error) {
	secret, err := s.pendingTOTPSecret(ctx, u)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	step, ok := matchTOTP(secret, normalizeCode(code), now)
	if !ok {
		return nil, ErrInvalidCode
	}
	codes, hashes := s.newRecoveryCodes(u.ID)
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := store.ConfirmTOTP(tx, u.ID, step, now.UTC()); err != nil {
			return err
		}
		if err := store.ReplaceRecoveryCodes(tx, u.ID, hashes, now.UTC()); err != nil {
			return err
		}
		return s.audit.Append(tx, operatorEvent(store.EventOperatorMFAEnrol, "user:"+u.Username, store.OutcomeSuccess,
			fmt.Sprintf("authenticator app set up; %d new recovery codes", len(codes)), remote))
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoPendingTOTP
	}
	return codes, err
}

// matchTOTP finds the 30-second step (now, or one either side for clock
// drift) whose code is code.
func matchTOTP(secret, code string, now time.Time) (int64, bool) {
	if len(code) != 6 {
		return 0, false
	}
	for _, off := range []int64{0, -1, 1} {
		t := now.Add(time.Duration(off*totpPeriod) * time.Second)
		want, err := totp.GenerateCodeCustom(secret, t, totpOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return t.Unix() / totpPeriod, true
		}
	}
	return 0, false
}

// normalizeCode drops the spaces and dashes people type or paste with a code.
func normalizeCode(code string) string {
	code = strings.ToLower(strings.TrimSpace(code))
	if len(code) > 64 {
		return ""
	}
	return strings.NewReplacer(" ", "", "-", "").Replace(code)
}

// NewRecoveryCodes replaces u's recovery codes with a new set, shown once.
func (s *Service) NewRecoveryCodes(ctx context.Context, u *store.User, remote string) ([]string, error) {
	codes, hashes := s.newRecoveryCodes(u.ID)
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := store.ReplaceRecoveryCodes(tx, u.ID, hashes, s.Now().UTC()); err != nil {
			return err
		}
		return s.audit.Append(tx, operatorEvent(store.EventOperatorMFAEnrol, "user:"+u.Username, store.OutcomeSuccess,
			fmt.Sprintf("%d new recovery codes; the old ones no longer work", len(codes)), remote))
	})
	return codes, err
}

func (s *Service) newRecoveryCodes(userID int64) (codes, hashes []string) {
	for range recoveryCodeCount {
		var raw [recoveryCodeLen]byte
		_, _ = rand.Read(raw[:])
		var b strings.Builder
		for i, r := range raw {
			if i == recoveryCodeLen/2 {
				b.WriteByte('-')
			}
			b.WriteByte(recoveryAlphabet[int(r)%len(recoveryAlphabet)])
		}
		codes = append(codes, b.String())
		hashes = append(hashes, s.secrets.codeHash(userID, normalizeCode(b.String())))
	}
	return codes, hashes
}

// RemoveTOTP removes u's authenticator app (and the pending set-up), unless it
// is the only second factor of an account that must have one (ErrLastFactor).
func (s *Service) RemoveTOTP(ctx context.Context, u *store.User, remote string) error {
	f, err := s.Factors(ctx, u.ID)
	if err != nil {
		return err
	}
	if f.TOTP && f.Passkeys == 0 && s.MFARequired(u.Role) {
		return ErrLastFactor
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := store.DeleteTOTP(tx, u.ID); err != nil {
			return err
		}
		return s.audit.Append(tx, operatorEvent(store.EventOperatorMFARemove, "user:"+u.Username, store.OutcomeSuccess, "authenticator app removed", remote))
	})
}

func mustBase32(secret string) []byte {
	b, err := base32NoPad.DecodeString(strings.ToUpper(secret))
	if err != nil {
		return nil
	}
	return b
}
