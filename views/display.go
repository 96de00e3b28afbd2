package views

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// The console shows times in one display time zone (console.display_timezone),
// with the UTC time on hover; exports and messages for ADRs stay in UTC. The
// zone travels in the render context, so view models keep plain time.Time.

type zoneKey struct{}

// WithZone returns ctx carrying the display time zone for Time and WhenIn.
func WithZone(ctx context.Context, loc *time.Location) context.Context {
	return context.WithValue(ctx, zoneKey{}, loc)
}

// Zone is the display time zone in ctx (UTC when none was set).
func Zone(ctx context.Context) *time.Location {
	if loc, ok := ctx.Value(zoneKey{}).(*time.Location); ok && loc != nil {
		return loc
	}
	return time.UTC
}

// WhenIn formats t for operators in loc, to the second, with the zone's
// abbreviation (AEDT, AEST): "2026-03-04 15:04:05 AEDT".
func WhenIn(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format("2006-01-02 15:04:05 MST")
}

// ShortID cuts a long identifier or hash to its head and tail for a list;
// the full value goes in the title and behind the copy button.
func ShortID(v string) string {
	r := []rune(v)
	if len(r) <= shortIDMax {
		return v
	}
	return string(r[:8]) + "…" + string(r[len(r)-4:])
}

// shortIDMax is the longest value ShortID leaves whole ("client:alice", a
// kid); a UUID (36) is cut to its first 8 and last 4 characters, enough to
// tell rows apart.
const shortIDMax = 20

// Grouped writes n with thousands separators: 3,204.
func Grouped(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// ReasonText is a refusal's reason as two labelled parts: what the caller was
// told and the precise internal detail. A detail that only repeats the
// description is dropped, so a sentence never shows twice.
type ReasonText struct {
	Description string
	Detail      string
}

// NewReason builds a ReasonText, without the repetition.
func NewReason(description, detail string) ReasonText {
	description, detail = strings.TrimSpace(description), strings.TrimSpace(detail)
	if detail == description {
		detail = ""
	}
	return ReasonText{Description: description, Detail: detail}
}

// reasonClampRunes is from how long a part is clamped to a few lines with an expander.
const reasonClampRunes = 140

func longText(s string) bool { return len([]rune(s)) > reasonClampRunes }
