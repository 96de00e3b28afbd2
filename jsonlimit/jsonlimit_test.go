package jsonlimit

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

func nested(depth int) string { return strings.Repeat("[", depth) + strings.Repeat("]", depth) }

func TestCheckDepth(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		limit   int
		tooDeep bool
	}{
		{"empty", "", 1, false},
		{"scalar", `42`, 0, false},
		{"flat object at its limit", `{"a":1,"b":"x"}`, 1, false},
		{"object over its limit", `{"a":{}}`, 1, true},
		{"32 levels", nested(32), 32, false},
		{"33 levels", nested(33), 32, true},
		{"9,000 levels", nested(9000), 32, true},
		{"brackets inside strings do not count", `{"a":"[[[[{{{{"}`, 1, false},
		{"escaped quote keeps the string open", `{"a":"\"[[[["}`, 1, false},
		{"escaped backslash closes it", `["\\",[[]]]`, 2, true},
		{"unbalanced closers do not go negative", `]]]][[`, 2, false},
		{"not JSON but deep", `{{{{`, 3, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckDepth([]byte(tc.in), tc.limit)
			if got := errors.Is(err, ErrTooDeep); got != tc.tooDeep {
				t.Fatalf("CheckDepth = %v, want too deep %v", err, tc.tooDeep)
			}
		})
	}
}

func TestShow(t *testing.T) {
	small := Limits{MaxDepth: 4, MaxPretty: 200, MaxRaw: 16}
	for _, tc := range []struct {
		name, in  string
		l         Limits
		text      string
		note      string
		textIsRaw bool
	}{
		{"empty", "  ", small, "", "", false},
		{"object indented, order kept", `{"b":1,"a":[1,2]}`, small, "{\n  \"b\": 1,\n  \"a\": [\n    1,\n    2\n  ]\n}", "", false},
		{"surrounding space dropped", " [] \n", small, "[]", "", false},
		{"too deep, whole", nested(5), small, nested(5), "shown raw (all 10 bytes): nesting deeper than 4 levels", true},
		{"too deep, cut", nested(9000), small, strings.Repeat("[", 16),
			"shown raw, first 16 bytes of 17.6 KiB: nesting deeper than 4 levels", true},
		{"not JSON", `{"a":`, small, `{"a":`, "shown raw (all 5 bytes): not JSON", true},
		{"indented too large", "[" + strings.Repeat("[1],", 40) + "1]", small, "[" + strings.Repeat("[1],", 3) + "[1]",
			"shown raw, first 16 bytes of 163 bytes: indented it could exceed 200 bytes", true},
		{"cut never splits a character", `"` + strings.Repeat("é", 20) + `"`, Limits{MaxDepth: 4, MaxPretty: 10, MaxRaw: 16},
			`"` + strings.Repeat("é", 7), "shown raw, first 15 bytes of 42 bytes: indented it could exceed 10 bytes", true},
		{"display limits: 1.2 MiB of nesting", nested(600 << 10), Display, strings.Repeat("[", 64<<10),
			"shown raw, first 64 KiB of 1.2 MiB: nesting deeper than 32 levels", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := Show([]byte(tc.in), tc.l)
			if v.Text != tc.text || v.Note != tc.note {
				t.Fatalf("Show = %q / %q,\nwant %q / %q", v.Text, v.Note, tc.text, tc.note)
			}
		})
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int]string{0: "0 bytes", 1023: "1023 bytes", 1024: "1 KiB", 1536: "1.5 KiB", 64 << 10: "64 KiB",
		1 << 20: "1 MiB", 1258291: "1.2 MiB"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}

// tokenDepth is b's nesting as encoding/json's tokenizer sees it, the reference
// the fuzz target holds scan to.
func tokenDepth(b []byte) int {
	dec := json.NewDecoder(bytes.NewReader(b))
	depth, deepest := 0, 0
	for {
		tok, err := dec.Token()
		if err == io.EOF || err != nil {
			return deepest
		}
		switch tok {
		case json.Delim('['), json.Delim('{'):
			depth++
			deepest = max(deepest, depth)
		case json.Delim(']'), json.Delim('}'):
			depth--
		}
	}
}

// FuzzShow holds Show and CheckDepth to their promises on any input: the text
// is bounded, the note is set exactly when the text is not the indented whole,
// raw text is a prefix of the input, and for valid JSON the measured depth and
// the indented-size bound agree with encoding/json.
func FuzzShow(f *testing.F) {
	for _, s := range []string{``, `{}`, `{"a":[1,2,{"b":null}]}`, nested(40), `"\"[["`, `{"a":"é"}`, `[1,`, "\xff[[", ` [ ] `} {
		f.Add([]byte(s))
	}
	l := Limits{MaxDepth: 8, MaxPretty: 512, MaxRaw: 64}
	f.Fuzz(func(t *testing.T, b []byte) {
		v := Show(b, l)
		if len(v.Text) > max(l.MaxPretty, l.MaxRaw) {
			t.Fatalf("text of %d bytes", len(v.Text))
		}
		trimmed := bytes.TrimSpace(b)
		if v.Note == "" {
			var want bytes.Buffer
			if len(trimmed) > 0 {
				if err := json.Indent(&want, trimmed, "", "  "); err != nil {
					t.Fatalf("no note on invalid JSON: %v", err)
				}
			}
			if v.Text != want.String() {
				t.Fatalf("text %q is not the indented input %q", v.Text, want.String())
			}
		} else if !bytes.HasPrefix(trimmed, []byte(v.Text)) {
			t.Fatalf("raw text %q is not a prefix of the input", v.Text)
		}
		if !json.Valid(trimmed) {
			return
		}
		d := tokenDepth(trimmed)
		if tooDeep := CheckDepth(trimmed, l.MaxDepth) != nil; tooDeep != (d > l.MaxDepth) {
			t.Fatalf("CheckDepth too deep = %v, but depth is %d", tooDeep, d)
		}
		if d <= l.MaxDepth {
			var out bytes.Buffer
			_ = json.Indent(&out, trimmed, "", "  ")
			if s := scan(trimmed, l.MaxDepth); out.Len() > s.pretty {
				t.Fatalf("indented %d bytes, bound said %d", out.Len(), s.pretty)
			}
		}
		if v.Note == "" && utf8.Valid(trimmed) && !utf8.ValidString(v.Text) {
			t.Fatal("indenting broke UTF-8")
		}
	})
}
