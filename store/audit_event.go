package store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// AuditEvent is one row of the tamper-evident audit log. The audit package owns
// the hash chain (PrevHash, Hash) and the meaning of the fields; the store only keeps them.
type AuditEvent struct {
	ID             int64 `gorm:"primaryKey"`
	Time           time.Time
	Type           EventType
	Actor          string
	Outcome        Outcome
	ErrorCode      string
	Step           string
	Reason         string
	SoftwareID     string
	OrgID          string
	ClientID       string
	JTI            string `gorm:"column:jti"`
	RemoteAddr     string
	CertThumbprint string
	RequestID      string
	DurationUS     int64 `gorm:"column:duration_us"`
	// Data is a JSON object with event-specific detail (for a rejected registration:
	// the request as received, so an operator can show the ADR what to fix).
	Data     string
	PrevHash string
	Hash     string
}

// TableName is the audit_events table.
func (AuditEvent) TableName() string { return "audit_events" }

// reasonSeparator parts the public description of a refusal from its internal
// detail in AuditEvent.Reason.
const reasonSeparator = " | "

// Refused records a refusal on e: its outcome, error code, pipeline step, and the
// reason "description | detail" (the description alone when there is no detail).
// The description is what the caller was told; the detail is for operators only.
func (e *AuditEvent) Refused(outcome Outcome, code, step, description, detail string) {
	e.Outcome, e.ErrorCode, e.Step = outcome, code, step
	e.Reason = description
	if detail != "" {
		e.Reason += reasonSeparator + detail
	}
}

// PublicReason is the part of Reason the caller was told: the text before the
// first " | ", or all of it when there is none (operator actions). It reads every
// variant ever written, and never changes them (they are hashed):
//   - "description | detail" (registrations, tokens, the processing API);
//   - "description" (an operator action, a refusal without detail);
//   - "401 description | detail", the management endpoints' refusals (Step
//     "authorization"), with the HTTP status first; the status stays part of the
//     public reason, as the console has always shown it;
//   - "description | " (a token refusal written with an empty detail).
func (e AuditEvent) PublicReason() string {
	description, _ := e.ReasonParts()
	return description
}

// ReasonParts splits Reason into PublicReason and the internal detail after the
// first " | " ("" when there is none).
func (e AuditEvent) ReasonParts() (description, detail string) {
	description, detail, _ = strings.Cut(e.Reason, reasonSeparator)
	return description, detail
}

// MaxPayloadPrefix bounds what the audit log keeps of any untrusted input (a
// rejected request body, a long form value): its first 8 KiB, with the SHA-256
// and length of the whole. An anonymous caller can send the body limit on every
// request; storing all of it would let a flood of refused requests grow the
// database by that much each time.
const MaxPayloadPrefix = 8 << 10

// Payload is the bounded record of untrusted bytes: at most MaxPayloadPrefix
// bytes of valid UTF-8 from the start, and the length and SHA-256 of all that was
// received, so an operator can still prove what was sent (the ADR hashes its copy).
type Payload struct {
	Prefix string `json:"prefix,omitempty"`
	Bytes  int    `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// NewPayload records b: its bounded prefix, length and SHA-256.
func NewPayload(b []byte) Payload {
	sum := sha256.Sum256(b)
	return Payload{Prefix: PayloadPrefix(b), Bytes: len(b), SHA256: hex.EncodeToString(sum[:])}
}

// PayloadPrefix is at most MaxPayloadPrefix bytes from the start of b, cut on a
// character boundary, with invalid UTF-8 replaced (SQLite stores TEXT, and the
// console shows it), so its length never exceeds the bound.
func PayloadPrefix(b []byte) string {
	if len(b) > MaxPayloadPrefix {
		cut := MaxPayloadPrefix
		for i := 0; i < utf8.UTFMax && cut > 0 && !utf8.RuneStart(b[cut]); i++ {
			cut-- // do not split the character that straddles the bound
		}
		b = b[:cut]
	}
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	for len(s) > MaxPayloadPrefix {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// ClipText bounds a free-text audit field (a reason quoting what a client sent, a
// jti): longer than max bytes, it keeps the first max bytes and says how long the
// whole was and its SHA-256.
func ClipText(s string, max int) string {
	if len(s) <= max {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… [first %d of %d bytes, SHA-256 %s]", s[:cut], cut, len(s), hex.EncodeToString(sum[:]))
}

// StorableText is s with what a PostgreSQL text column refuses replaced by
// U+FFFD: NUL bytes and invalid UTF-8 (SQLite would store them). The audit log
// applies it before hashing, so an event reads back exactly as it was hashed on
// either backend. Text without those is returned unchanged.
func StorableText(s string) string {
	if utf8.ValidString(s) && !strings.Contains(s, "\x00") {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// AuditData encodes v as an audit event's Data: compact JSON without HTML
// escaping, which would turn every '<' of a hostile body into six bytes.
func AuditData(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "{}"
	}
	return strings.TrimSuffix(b.String(), "\n")
}
