package register

import (
	"cmp"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
)

// The Register's JSON documents, decoded into the immutable index the holder
// reads on every registration and token request.

// registerIndex is the Register data in use; immutable once built.
type registerIndex struct {
	products              map[string]int // position in sorted, by lower-case product id
	sorted                []ProductStatus
	brands, legalEntities int
}

// The Register's JSON. Statuses are strings; any other type is a decoding error.
type (
	drLegalEntity struct {
		LegalEntityID   string    `json:"legalEntityId"`
		LegalEntityName string    `json:"legalEntityName"`
		Status          string    `json:"status"`
		Brands          []drBrand `json:"dataRecipientBrands"`
	}
	drBrand struct {
		BrandID  string `json:"dataRecipientBrandId"`
		Name     string `json:"brandName"`
		Status   string `json:"status"`
		Products []struct {
			ID     string `json:"softwareProductId"`
			Name   string `json:"softwareProductName"`
			Status string `json:"status"`
		} `json:"softwareProducts"`
	}
	// idStatus is one row of a status list, in the current shape (id, status)
	// or the x-v 1 shape (dataRecipientId/softwareProductId, *Status).
	idStatus struct {
		LegalEntityID   string `json:"legalEntityId"`
		DataRecipientID string `json:"dataRecipientId"`
		ProductID       string `json:"softwareProductId"`
		Status          string `json:"status"`
		V1Recipient     string `json:"dataRecipientStatus"`
		V1Product       string `json:"softwareProductStatus"`
	}
)

func decodeDataRecipients(body []byte) (any, error) {
	var doc struct {
		Data []drLegalEntity `json:"data"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, err
	}
	if doc.Data == nil {
		return nil, errNotRegisterShape
	}
	return doc.Data, nil
}

// decodeStatuses returns upper-cased statuses by lower-case id.
func decodeStatuses(body []byte, v1Field string, id, status func(idStatus) string) (map[string]string, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, err
	}
	raw, ok := doc["data"]
	if !ok {
		raw, ok = doc[v1Field]
	}
	var rows []idStatus
	if ok {
		if err := json.Unmarshal(raw, &rows); err != nil {
			return nil, err
		}
	}
	if rows == nil {
		return nil, errNotRegisterShape
	}
	out := make(map[string]string, len(rows))
	for _, row := range rows {
		if k, s := id(row), status(row); k != "" && s != "" {
			out[strings.ToLower(k)] = strings.ToUpper(s)
		}
	}
	return out, nil
}

func decodeLegalEntityStatuses(body []byte) (any, error) {
	return decodeStatuses(body, "dataRecipients",
		func(r idStatus) string { return cmp.Or(r.LegalEntityID, r.DataRecipientID) },
		func(r idStatus) string { return cmp.Or(r.Status, r.V1Recipient) })
}

func decodeProductStatuses(body []byte) (any, error) {
	return decodeStatuses(body, "softwareProducts",
		func(r idStatus) string { return r.ProductID },
		func(r idStatus) string { return cmp.Or(r.Status, r.V1Product) })
}

// buildIndex builds the index from the bodies of data-recipients, then
// overrides statuses with the (fresher) status lists. Empty status bodies are skipped.
//
// Decoding a large Register is tens of megabytes that are garbage once the index
// (a few megabytes) is built: they are handed back to the OS on return rather
// than kept by an idle process. Only a load or a sync with a changed answer
// builds an index, so an unchanged sync costs nothing here.
func (r *Data) buildIndex(bodies [3][]byte) (*registerIndex, error) {
	defer debug.FreeOSMemory()
	var decoded [3]any
	for i, b := range bodies {
		if b == nil && i > 0 {
			continue
		}
		v, err := registerEndpoints[i].decode(b)
		if err != nil {
			return nil, fmt.Errorf("%s: decoding: %w", registerEndpoints[i].name, err)
		}
		decoded[i] = v
	}
	leStatus, _ := decoded[1].(map[string]string)
	spStatus, _ := decoded[2].(map[string]string)
	byID := map[string]ProductStatus{}
	idx := &registerIndex{}
	for _, le := range decoded[0].([]drLegalEntity) {
		if le.LegalEntityID == "" {
			continue
		}
		idx.legalEntities++
		leS := cmp.Or(leStatus[strings.ToLower(le.LegalEntityID)], strings.ToUpper(le.Status))
		for _, b := range le.Brands {
			if b.BrandID == "" {
				continue
			}
			idx.brands++
			for _, sp := range b.Products {
				key := strings.ToLower(sp.ID)
				if key == "" {
					continue
				}
				if _, dup := byID[key]; dup {
					continue // first listing wins
				}
				byID[key] = ProductStatus{
					SoftwareProductID: sp.ID, SoftwareProductName: sp.Name,
					Status:  cmp.Or(spStatus[key], strings.ToUpper(sp.Status)),
					BrandID: b.BrandID, BrandName: b.Name, BrandStatus: strings.ToUpper(b.Status),
					LegalEntityID: le.LegalEntityID, LegalEntityName: le.LegalEntityName, LegalEntityStatus: leS,
				}
			}
		}
	}
	idx.sorted = make([]ProductStatus, 0, len(byID))
	for _, p := range byID {
		idx.sorted = append(idx.sorted, p)
	}
	slices.SortFunc(idx.sorted, func(a, b ProductStatus) int {
		return cmp.Or(cmp.Compare(a.LegalEntityName, b.LegalEntityName), cmp.Compare(a.BrandName, b.BrandName),
			cmp.Compare(a.SoftwareProductName, b.SoftwareProductName), cmp.Compare(a.SoftwareProductID, b.SoftwareProductID))
	})
	// One copy of each product: the map holds positions in sorted.
	idx.products = make(map[string]int, len(idx.sorted))
	for i, p := range idx.sorted {
		idx.products[strings.ToLower(p.SoftwareProductID)] = i
	}
	return idx, nil
}

// product returns the product with a lower-case id.
func (idx *registerIndex) product(key string) (ProductStatus, bool) {
	i, ok := idx.products[key]
	if !ok {
		return ProductStatus{}, false
	}
	return idx.sorted[i], true
}

// diffProducts lists the products that are new, changed or gone, in the order of next then old.
func diffProducts(old, next *registerIndex) []ProductChange {
	var out []ProductChange
	for _, p := range next.sorted {
		if o, ok := old.product(strings.ToLower(p.SoftwareProductID)); !ok || o != p {
			out = append(out, ProductChange{Old: o, New: p})
		}
	}
	for _, o := range old.sorted {
		if _, ok := next.products[strings.ToLower(o.SoftwareProductID)]; !ok {
			out = append(out, ProductChange{Old: o, Gone: true})
		}
	}
	return out
}
