package dcr

import (
	"strconv"
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
	if path, found := nulIn(claims); found {
		return fail(step, CodeInvalidClientMetadata, DescRequestInvalid,
			"%s claim %q contains a NUL character (U+0000)", whose, path)
	}
	return nil
}

// nulIn finds the first string under v containing a NUL and returns its path
// below v (claim, claim[2], claim.member; shown with %q by the caller). The
// path is built only on the way back from a find: the common case allocates
// nothing.
func nulIn(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return "", strings.IndexByte(t, 0) >= 0
	case map[string]any:
		for k, e := range t {
			if strings.IndexByte(k, 0) >= 0 {
				return k, true
			}
			if p, ok := nulIn(e); ok {
				return joinPath(k, p), true
			}
		}
	case []any:
		for i, e := range t {
			if p, ok := nulIn(e); ok {
				return joinPath("["+strconv.Itoa(i)+"]", p), true
			}
		}
	case []string:
		for i, e := range t {
			if strings.IndexByte(e, 0) >= 0 {
				return "[" + strconv.Itoa(i) + "]", true
			}
		}
	}
	return "", false
}

// joinPath puts a path below head: head.member, head[i].
func joinPath(head, below string) string {
	if below == "" || strings.HasPrefix(below, "[") {
		return head + below
	}
	return head + "." + below
}
