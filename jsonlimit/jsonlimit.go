// Package jsonlimit bounds how far untrusted JSON is expanded: how deep it may
// nest before it is decoded, and how much text it may become when it is shown.
//
// Indenting JSON costs about two bytes per nesting level per line, so 25 KB of
// nested arrays becomes hundreds of megabytes of pretty text. Depth and the size
// of the indented result are measured by one pass over the bytes, before any
// decoding or indenting: nothing is expanded to find out that it is too big.
package jsonlimit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// MaxDepth is how deeply arrays and objects may nest in JSON that dcrconsole
// decodes or pretty-prints on a client's behalf. A JWT's claims object is the
// first level; CDR registration metadata needs three.
const MaxDepth = 32

// ErrTooDeep is returned (wrapped) for JSON nesting deeper than allowed.
var ErrTooDeep = errors.New("nesting deeper")

// CheckDepth returns an error wrapping ErrTooDeep when arrays and objects in b
// nest deeper than limit. It reads b once and allocates nothing; b need not be
// valid JSON (the decoder that runs next says so).
func CheckDepth(b []byte, limit int) error {
	if s := scan(b, limit); s.depth > limit {
		return fmt.Errorf("%w than %d levels", ErrTooDeep, limit)
	}
	return nil
}

// Limits bound the text JSON may become on a page.
type Limits struct {
	MaxDepth  int // deeper nesting is shown raw
	MaxPretty int // JSON whose indented form could exceed this is shown raw
	MaxRaw    int // raw text is cut after this many bytes
}

// Display are the console's limits for one block of JSON. A page shows at most
// four blocks (a request and its SSA, header and claims each), so a page stays
// well under 1 MiB whatever a client sent.
var Display = Limits{MaxDepth: MaxDepth, MaxPretty: 128 << 10, MaxRaw: 64 << 10}

// View is JSON as a page shows it: Text is either the whole of it, indented,
// or the raw text, perhaps cut; Note then says which and why, e.g.
// "shown raw, first 64 KiB of 1.2 MiB: nesting deeper than 32 levels".
type View struct {
	Text string
	Note string
}

// Show indents b for reading when it is JSON within l, keeping member order;
// otherwise it returns the raw text, cut at l.MaxRaw bytes, with a note. Empty
// (or all-space) input gives an empty View.
func Show(b []byte, l Limits) View {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return View{}
	}
	s := scan(b, l.MaxDepth)
	switch {
	case s.depth > l.MaxDepth:
		return raw(b, l, fmt.Sprintf("nesting deeper than %d levels", l.MaxDepth))
	case s.pretty > l.MaxPretty:
		if !json.Valid(b) {
			return raw(b, l, "not JSON")
		}
		return raw(b, l, "indented it could exceed "+Size(l.MaxPretty))
	}
	var out bytes.Buffer
	out.Grow(s.pretty)
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return raw(b, l, "not JSON")
	}
	return View{Text: out.String()}
}

// raw is b cut at l.MaxRaw bytes (never inside a UTF-8 sequence), with a note.
func raw(b []byte, l Limits, why string) View {
	if len(b) <= l.MaxRaw {
		return View{Text: string(b), Note: "shown raw (all " + Size(len(b)) + "): " + why}
	}
	n := l.MaxRaw
	for i := 0; i < utf8.UTFMax && n > 0 && !utf8.RuneStart(b[n]); i++ {
		n--
	}
	return View{Text: string(b[:n]), Note: "shown raw, first " + Size(n) + " of " + Size(len(b)) + ": " + why}
}

// Size says n bytes the way the notes do: "900 bytes", "64 KiB", "1.2 MiB".
func Size(n int) string {
	switch {
	case n < 1<<10:
		return strconv.Itoa(n) + " bytes"
	case n < 1<<20:
		return unit(float64(n)/(1<<10)) + " KiB"
	default:
		return unit(float64(n)/(1<<20)) + " MiB"
	}
}

// unit is f with one decimal, or none when it is whole.
func unit(f float64) string {
	s := strconv.FormatFloat(f, 'f', 1, 64)
	if len(s) > 2 && s[len(s)-2:] == ".0" {
		return s[:len(s)-2]
	}
	return s
}

// stats is what one pass over JSON text learns.
type stats struct {
	depth  int // deepest nesting seen; limit+1 when it went past limit (the pass stops there)
	pretty int // an upper bound of the size json.Indent with a two-space indent gives
}

// scan measures b's nesting and bounds its indented size in one pass, skipping
// strings. json.Indent drops insignificant space and writes, at most, a newline
// and two spaces per level after each bracket and comma, and a space after each
// colon; pretty adds exactly that to len(b), so it is never below the real size.
func scan(b []byte, limit int) stats {
	s := stats{pretty: len(b)}
	depth, inString, escaped := 0, false, false
	for _, c := range b {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			depth++
			if depth > s.depth {
				s.depth = depth
			}
			if depth > limit {
				return s
			}
			s.pretty += 1 + 2*depth
		case ']', '}':
			if depth > 0 {
				depth--
			}
			s.pretty += 1 + 2*depth
		case ',':
			s.pretty += 1 + 2*depth
		case ':':
			s.pretty++
		}
	}
	return s
}
