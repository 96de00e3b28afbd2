package register

import "strings"

// Questions the console asks of the Register data in memory, answered here so
// that the console does not need to know how product ids are spelled.

// SoftwareIDsWithStatus is every software_id whose effective Register status
// (product, brand and legal entity together) is status, in each spelling a
// client may have stored it in: the Register's ids are GUIDs, and a client
// stores one as the Register spells it, or in one case.
func (r *Data) SoftwareIDsWithStatus(status string) []string {
	ids := []string{} // non-nil: when no product has the status, nothing matches
	for _, p := range r.current().sorted {
		if st, _ := p.EffectiveStatus(); st == status {
			id := p.SoftwareProductID
			ids = append(ids, id, strings.ToLower(id), strings.ToUpper(id))
		}
	}
	return ids
}

// UnknownSoftwareIDs is the subset of ids (as given) that the Register data
// does not know; non-nil, so an empty result still filters.
func (r *Data) UnknownSoftwareIDs(ids []string) []string {
	unknown := []string{}
	for _, id := range ids {
		if _, known := r.Product(id); !known {
			unknown = append(unknown, id)
		}
	}
	return unknown
}
