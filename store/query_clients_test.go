package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestListClientsPlansAgree checks every plan ListClients may choose (terms or
// software_ids driving, or the sort index walked) against a brute-force filter
// and sort, page by page: a plan changes the speed, never the answer.
func TestListClientsPlansAgree(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	const n = 2600 // "common" is on every client: more than denseMatches terms, so it is walked
	words := []string{"Alpha", "Bravo", "Charlie", "Delta"}
	base := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	var all []*Client
	err := db.Tx(ctx, func(tx *Tx) error {
		for i := range n {
			c := testClient(fmt.Sprintf("c-%05d", i), fmt.Sprintf("SW-%03d", i%300))
			c.ActiveSoftwareID = nil
			c.ClientName = fmt.Sprintf("%s common %s", words[i%4], words[(i/4)%4])
			c.OrgName = fmt.Sprintf("org %d", i%7)
			c.CreatedAt = base.Add(time.Duration(i/3) * time.Second) // ties: the id breaks them
			if i%5 == 0 {
				c.Status = StatusRevoked
			}
			if err := CreateClient(tx, c); err != nil {
				return err
			}
			all = append(all, c)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ids := func(from, to int) []string {
		var out []string
		for i := from; i < to; i++ {
			out = append(out, fmt.Sprintf("SW-%03d", i))
		}
		return out
	}
	filters := map[string]ClientFilter{
		"all":                      {},
		"dense word":               {Query: "common"},
		"rare words":               {Query: "alpha bra"},
		"dense and rare word":      {Query: "common delta", Sort: SortName, Asc: true},
		"dense word revoked":       {Query: "comm", Status: StatusRevoked, Sort: SortOrg},
		"id":                       {Query: "c-0001"},
		"no match":                 {Query: "zulu"},
		"few products":             {SoftwareIDs: ids(0, 3)},
		"most products":            {SoftwareIDs: ids(10, 300), Sort: SortName},
		"no product":               {SoftwareIDs: []string{}},
		"most products and word":   {SoftwareIDs: ids(10, 300), Query: "common charlie", Asc: true},
		"few products, dense word": {SoftwareIDs: ids(0, 30), Query: "common", Sort: SortOrg, Asc: true},
		"not products":             {NotSoftwareIDs: ids(0, 290)},
	}
	// Both ways of running a page are exercised below.
	for name, walk := range map[string]bool{"dense word": true, "rare words": false, "dense and rare word": false,
		"most products": true, "few products": false, "few products, dense word": false, "all": true} {
		if p, err := db.planClients(ctx, filters[name], true); err != nil || p.walk != walk {
			t.Errorf("%s: walk %v %v, want %v", name, p.walk, err, walk)
		}
	}
	for name, f := range filters {
		t.Run(name, func(t *testing.T) {
			want := bruteForce(all, f)
			f.Limit = 97
			var got []string
			if err := db.EachClient(ctx, f, func(c ClientSummary) error { got = append(got, c.ID); return nil }); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("got %d clients, want %d; first difference at %d", len(got), len(want), firstDiff(got, want))
			}
			// Pages of another size join up to the same list.
			f.Limit = 50
			got = got[:0]
			for {
				page, next, err := db.ListClients(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range page {
					got = append(got, c.ID)
				}
				if next == "" {
					break
				}
				f.After = next
			}
			if !slices.Equal(got, want) {
				t.Fatalf("paged: got %d clients, want %d", len(got), len(want))
			}
			count, err := db.CountClients(ctx, f)
			if err != nil || count != int64(len(want)) {
				t.Fatalf("count %d %v, want %d", count, err, len(want))
			}
		})
	}
}

func bruteForce(all []*Client, f ClientFilter) []string {
	var sel []*Client
	for _, c := range all {
		if f.Status != "" && c.Status != f.Status || f.SoftwareIDs != nil && !slices.Contains(f.SoftwareIDs, c.SoftwareID) ||
			slices.ContainsFunc(f.NotSoftwareIDs, func(s string) bool { return strings.EqualFold(s, c.SoftwareID) }) {
			continue
		}
		terms := searchTerms(c)
		match := true
		for _, w := range SearchWords(f.Query) {
			match = match && slices.ContainsFunc(terms, func(t string) bool { return strings.HasPrefix(t, w) })
		}
		if match {
			sel = append(sel, c)
		}
	}
	key := func(c *Client) string {
		switch f.Sort {
		case SortName:
			return strings.ToLower(c.ClientName)
		case SortOrg:
			return strings.ToLower(c.OrgName)
		}
		return c.CreatedAt.Format(time.RFC3339Nano)
	}
	slices.SortFunc(sel, func(a, b *Client) int {
		r := cmp.Or(cmp.Compare(key(a), key(b)), cmp.Compare(a.ID, b.ID))
		if !f.Asc {
			r = -r
		}
		return r
	})
	out := make([]string, len(sel))
	for i, c := range sel {
		out[i] = c.ID
	}
	return out
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestClientSoftwareIDs(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	err := db.Tx(ctx, func(tx *Tx) error {
		for i, sid := range []string{"SW-A", "SW-B", "SW-A"} {
			c := testClient(fmt.Sprintf("c%d", i), sid)
			c.ActiveSoftwareID = nil
			if err := CreateClient(tx, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.ClientSoftwareIDs(ctx)
	slices.Sort(got)
	if err != nil || !slices.Equal(got, []string{"SW-A", "SW-B"}) {
		t.Fatalf("%v %v", got, err)
	}
}
