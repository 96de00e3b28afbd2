package dcr

import (
	"fmt"
	"strings"
)

// A NUL character (U+0000) in client text is refused before anything reads or
// stores it: PostgreSQL's text columns cannot hold one (SQLSTATE 22021), and no
// CDR metadata has a use for it. The answer is the one cdr-dcr.md gives for a
// registration request whose content does not validate, on both backends:
// invalid_client_metadata / ERR-DCR-004. The detail names the claim for the
// audit log.

// refuseNUL fails step with that error when claims hold a NUL in any string,
// at any depth (values, list items, nested objects and their member names);
// whose names the document ("request", "SSA", "client metadata").
func refuseNUL(step Step, whose string, claims map[string]any) *Error {
	if path, found := nulIn(claims, ""); found {
		return fail(step, CodeInvalidClientMetadata, DescRequestInvalid,
			"%s claim %q contains a NUL character (U+0000)", whose, path)
	}
	return nil
}

// nulIn finds the first string under v containing a NUL and returns its path
// (claim, claim[2], claim.member), with NUL shown as \x00 by the caller's %q.
func nulIn(v any, path string) (string, bool) {
	switch t := v.(type) {
	case string:
		return path, strings.IndexByte(t, 0) >= 0
	case map[string]any:
		for k, e := range t {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if strings.IndexByte(k, 0) >= 0 {
				return p, true
			}
			if found, ok := nulIn(e, p); ok {
				return found, true
			}
		}
	case []any:
		for i, e := range t {
			if found, ok := nulIn(e, fmt.Sprintf("%s[%d]", path, i)); ok {
				return found, true
			}
		}
	case []string:
		for i, e := range t {
			if strings.IndexByte(e, 0) >= 0 {
				return fmt.Sprintf("%s[%d]", path, i), true
			}
		}
	}
	return "", false
}
