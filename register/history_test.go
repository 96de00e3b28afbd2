package register

import (
	"testing"
	"time"
)

func TestHistoryRows(t *testing.T) {
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	active := ProductStatus{SoftwareProductID: "SP-1", SoftwareProductName: "App", Status: "ACTIVE", BrandID: "b", BrandStatus: "ACTIVE",
		LegalEntityID: "le", LegalEntityStatus: "ACTIVE"}
	renamed := active
	renamed.SoftwareProductName = "App 2"
	suspended := active
	suspended.LegalEntityStatus = "SUSPENDED"
	cases := []struct {
		name          string
		change        ProductChange
		want          bool
		oldEff, newEf string
	}{
		{"first seen", ProductChange{New: active}, true, "", "ACTIVE"},
		{"renamed only", ProductChange{Old: active, New: renamed}, false, "", ""},
		{"legal entity suspended", ProductChange{Old: active, New: suspended}, true, "ACTIVE", "SUSPENDED"},
		{"gone from the Register", ProductChange{Old: active, Gone: true}, true, "ACTIVE", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rows := historyRows([]ProductChange{tc.change}, at)
			if (len(rows) == 1) != tc.want {
				t.Fatalf("%d rows", len(rows))
			}
			if !tc.want {
				return
			}
			r := rows[0]
			if r.SoftwareID != "SP-1" || r.OldEffective != tc.oldEff || r.NewEffective != tc.newEf || !r.ChangedAt.Equal(at) {
				t.Errorf("row %+v", r)
			}
		})
	}
}
