package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"sync"
	"time"

	"github.com/dcrconsole/dcrconsole/store"
)

// hashVersion opens every encoding, so that a future change of the field set or
// of the encoding can be told apart from v1 instead of silently colliding with it.
const hashVersion = "v1"

// Hash is e's hash: lowercase hex SHA-256 over the canonical encoding of every
// content field and PrevHash (Hash itself excluded). The encoding is a sequence of
// netstrings ("<len>:<bytes>,") in a fixed field order, opened by the version tag:
//
//	v1, ID, Time (RFC 3339 with nanoseconds, UTC), Type, Actor, Outcome, ErrorCode,
//	Step, Reason, SoftwareID, OrgID, ClientID, JTI, RemoteAddr, CertThumbprint,
//	RequestID, DurationUS, Data, PrevHash
//
// Every field carries its length, so no two different events encode alike (moving
// a character from Actor to Outcome changes the encoding). Integers are decimal.
// Changing any of this breaks verification of every stored event; it needs a new
// version tag, with the old encoding kept for old events.
func Hash(e *store.AuditEvent) string {
	bp := bufPool.Get().(*[]byte)
	h := hashTo(bp, e)
	if cap(*bp) <= maxPooledBuf {
		bufPool.Put(bp)
	}
	return h
}

// maxPooledBuf keeps an occasional huge Data field from pinning its buffer in the pool.
const maxPooledBuf = 64 << 10

// bufPool holds encoding buffers: Append runs on the registration hot path, and a
// reused buffer makes hashing cost one allocation (the returned string).
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// hashTo encodes e into *buf (reusing its capacity) and returns the hex digest.
func hashTo(buf *[]byte, e *store.AuditEvent) string {
	*buf = appendCanonical((*buf)[:0], e)
	sum := sha256.Sum256(*buf)
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], sum[:])
	return string(out[:])
}

// appendCanonical appends the v1 encoding of e to b.
func appendCanonical(b []byte, e *store.AuditEvent) []byte {
	b = appendString(b, hashVersion)
	b = appendInt(b, e.ID)
	b = appendTime(b, e.Time)
	b = appendString(b, string(e.Type))
	b = appendString(b, e.Actor)
	b = appendString(b, string(e.Outcome))
	b = appendString(b, e.ErrorCode)
	b = appendString(b, e.Step)
	b = appendString(b, e.Reason)
	b = appendString(b, e.SoftwareID)
	b = appendString(b, e.OrgID)
	b = appendString(b, e.ClientID)
	b = appendString(b, e.JTI)
	b = appendString(b, e.RemoteAddr)
	b = appendString(b, e.CertThumbprint)
	b = appendString(b, e.RequestID)
	b = appendInt(b, e.DurationUS)
	b = appendString(b, e.Data)
	b = appendString(b, e.PrevHash)
	return b
}

// appendString appends s as a netstring.
func appendString(b []byte, s string) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, ':')
	b = append(b, s...)
	return append(b, ',')
}

// appendInt appends n's decimal form as a netstring, without an intermediate string.
func appendInt(b []byte, n int64) []byte {
	var digits [20]byte // len("-9223372036854775808")
	d := strconv.AppendInt(digits[:0], n, 10)
	b = strconv.AppendInt(b, int64(len(d)), 10)
	b = append(b, ':')
	b = append(b, d...)
	return append(b, ',')
}

// appendTime appends t in UTC as an RFC 3339 netstring, so the same instant hashes
// alike whatever zone the caller or the database driver attached to it.
func appendTime(b []byte, t time.Time) []byte {
	var text [64]byte
	d := t.UTC().AppendFormat(text[:0], time.RFC3339Nano)
	b = strconv.AppendInt(b, int64(len(d)), 10)
	b = append(b, ':')
	b = append(b, d...)
	return append(b, ',')
}
