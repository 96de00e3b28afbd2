package store

import (
	"strings"
	"unicode"
)

// The console searches clients by words of their names and by their ids. Each
// client's search terms (lower-case words of client, brand/org and legal entity
// names, and whole ids) are kept in client_search, so a search is a few index
// range scans whatever the number of clients, and a query word matches every
// term it is a prefix of ("westp" finds "Westpac", "6f7d7e42" a client_id).

// searchTerms returns the distinct terms of a client.
func searchTerms(c *Client) []string {
	seen := map[string]bool{}
	var out []string
	add := func(t string) {
		t = strings.ToLower(strings.TrimSpace(t))
		if t != "" && !seen[t] && len(t) <= 200 {
			seen[t] = true
			out = append(out, t)
		}
	}
	for _, name := range []string{c.ClientName, c.OrgName, c.LegalEntityName} {
		for _, w := range SearchWords(name) {
			add(w)
		}
	}
	for _, id := range []string{c.ID, c.SoftwareID} {
		add(id)
	}
	return out
}

// SearchWords splits text into lower-case search words: runs of letters, digits,
// and the '-', '_', '.' and ':' that ids are made of.
func SearchWords(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' || r == '.' || r == ':')
	})
}

// indexClient adds the search terms of a new client c inside tx. Each term is a
// row written at a random place of the index: keep them few.
func indexClient(tx *Tx, c *Client) error {
	terms := searchTerms(c)
	if len(terms) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString(`INSERT INTO client_search(term, client_id) VALUES `)
	args := make([]any, 0, 2*len(terms))
	for i, t := range terms {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?)")
		args = append(args, t, c.ID)
	}
	b.WriteString(` ON CONFLICT DO NOTHING`)
	return tx.g.Exec(b.String(), args...).Error
}

// reindexClient replaces the terms of a client whose names changed from old to c.
func reindexClient(tx *Tx, old, c *Client) error {
	for _, t := range searchTerms(old) {
		if err := tx.g.Exec(`DELETE FROM client_search WHERE term = ? AND client_id = ?`, t, old.ID).Error; err != nil {
			return err
		}
	}
	return indexClient(tx, c)
}
