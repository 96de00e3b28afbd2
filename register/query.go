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

// registerStatuses are the statuses the Register uses for products, brands and
// legal entities, and UNKNOWN (EffectiveStatus of a status the Register left out).
var registerStatuses = []string{"ACTIVE", "INACTIVE", "SUSPENDED", "REMOVED", "REVOKED", "SURRENDERED", "UNKNOWN"}

// StatusCounts counts the products of the data in use by effective status (see
// ProductStatus.EffectiveStatus), for monitoring. Every status of
// registerStatuses is present, zero or not; a status outside them is counted as
// OTHER, so the keys stay a small closed set whatever the Register sends.
func (r *Data) StatusCounts() map[string]int {
	counts := make(map[string]int, len(registerStatuses)+1)
	for _, s := range registerStatuses {
		counts[s] = 0
	}
	for _, p := range r.current().sorted {
		st, _ := p.EffectiveStatus()
		if _, known := counts[st]; !known {
			st = "OTHER"
		}
		counts[st]++
	}
	return counts
}
