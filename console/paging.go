package console

import (
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/views"
)

// The lists' shared paging: the page size choice and the position shown
// ("51–100 of 3,204"). Pages are keyset-paginated (a cursor, never an
// OFFSET), so the position of a page travels in its link as "start": it only
// labels the page and selects nothing.

// pageSizes are the page size choices of every list.
var pageSizes = []int{25, 50, 100, 200}

// pageStart reads the 1-based position of the page's first row (1 when
// absent or not a positive number).
func pageStart(c *gin.Context) int64 {
	n, err := strconv.ParseInt(c.Query("start"), 10, 64)
	if err != nil || n < 1 || c.Query("start") == "" {
		return 1
	}
	return n
}

// listLimit reads the page size: one of pageSizes, else def.
func listLimit(c *gin.Context, def int) int {
	n, err := strconv.Atoi(c.Query("limit"))
	if err != nil {
		return def
	}
	for _, s := range pageSizes {
		if n == s {
			return n
		}
	}
	return def
}

// sizeLinks are the page size choices for path with the filter q (from the
// first page: a new size starts the list again).
func sizeLinks(path string, q url.Values, current, def int) []views.PageSize {
	out := make([]views.PageSize, 0, len(pageSizes))
	for _, n := range pageSizes {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Del("limit")
		if n != def {
			nq.Set("limit", strconv.Itoa(n))
		}
		out = append(out, views.PageSize{N: n, Href: withQuery(path, nq), Current: n == current})
	}
	return out
}

// nextStart adds the next page's position to its link.
func nextStart(href string, start int64, shown int) string {
	if href == "" {
		return ""
	}
	u, err := url.Parse(href)
	if err != nil {
		return href
	}
	q := u.Query()
	q.Set("start", strconv.FormatInt(start+int64(shown), 10))
	u.RawQuery = q.Encode()
	return u.String()
}
