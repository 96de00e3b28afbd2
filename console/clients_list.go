package console

import (
	"strconv"

	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/views"
)

// The client list's pager and sortable headers. Only the columns a store
// index orders can sort: created (idx_clients_created), client name
// (idx_clients_name) and brand (idx_clients_org_name), each with id as the
// tie-break the keyset cursor needs.

// clientsPage is the list's pager: position, first and next page, page sizes.
func clientsPage(q clientQuery, next string, start int64, shown int, total int64) views.PageInfo {
	limit := q.Limit
	if limit == 0 {
		limit = clientsDefaultLimit
	}
	p := views.PageInfo{Start: start, Shown: shown, Total: total}
	if q.After != "" {
		p.FirstHref = "/console/clients?" + q.values("").Encode()
	}
	if next != "" {
		nq := q.values(next)
		nq.Set("start", strconv.FormatInt(start+int64(shown), 10))
		p.NextHref = "/console/clients?" + nq.Encode()
	}
	base := q.values("")
	base.Del("limit")
	p.Sizes = sizeLinks("/console/clients", base, limit, clientsDefaultLimit)
	return p
}

// clientSortHeaders are the sortable columns' headers: a click sorts by the
// column, a second click reverses it. Names sort A to Z first, dates newest first.
func clientSortHeaders(q clientQuery) map[string]views.SortHeader {
	current := q.Sort
	if current == "" {
		current = store.SortCreated
	}
	asc := q.Dir == "asc"
	out := map[string]views.SortHeader{}
	for _, col := range []struct{ sort, label string }{
		{store.SortName, "Client name"}, {store.SortOrg, "Brand / org"}, {store.SortCreated, "Created"},
	} {
		h := views.SortHeader{Label: col.label, Current: col.sort == current, Asc: asc}
		dir := "asc"
		switch {
		case h.Current && asc:
			dir = "desc"
		case h.Current:
			dir = "asc"
		case col.sort == store.SortCreated:
			dir = "desc"
		}
		nq := q
		nq.Sort, nq.Dir = col.sort, dir
		h.Href = "/console/clients?" + nq.values("").Encode()
		out[col.sort] = h
	}
	return out
}
