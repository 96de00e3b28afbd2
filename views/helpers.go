// Package views holds the console's templ components: a layout, one file per
// page, and small shared components. Components take view models (plain
// structs built by the web handlers), never database rows.
package views

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// SafeLink reports whether href may be rendered as a link: only absolute https
// URLs, so a javascript:, data: or relative URL from a client never becomes one.
func SafeLink(href string) bool {
	if href == "" {
		return false
	}
	u, err := url.Parse(href)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil
}

func badgeKind(status string) string {
	switch strings.ToLower(status) {
	case "active", "success", "ok", "intact":
		return "ok"
	case "revoked", "removed", "rejected", "error", "broken", "blocked", "deleted":
		return "bad"
	case "inactive", "suspended", "unknown", "stale":
		return "warn"
	}
	return "neutral"
}

// When formats a time for operators: UTC, to the second.
func When(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// Ago says how long ago t was, roughly.
func Ago(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return "in the future"
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute") + " ago"
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour") + " ago"
	default:
		return plural(int(d/(24*time.Hour)), "day") + " ago"
	}
}

func plural(n int, unit string) string {
	s := strconv.Itoa(n) + " " + unit
	if n != 1 {
		s += "s"
	}
	return s
}

// recoveryLeft says how many recovery codes an account has left.
func recoveryLeft(n int64) string {
	switch n {
	case 0:
		return "No recovery codes left: make new ones."
	case 1:
		return "1 recovery code left."
	}
	return strconv.FormatInt(n, 10) + " recovery codes left."
}

func itoa(n int) string { return strconv.Itoa(n) }
