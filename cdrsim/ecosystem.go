package cdrsim

import "fmt"

// Ecosystem is a running Register with ADRs whose products it publishes.
// ADRs[i] owns Products[i].
type Ecosystem struct {
	CA       *CA
	Register *Register
	ADRs     []*ADR
	Products []*Product
}

// NewEcosystem starts a Register and nADRs ADRs, all with certificates from ca
// (a new CA when ca is nil). Each ADR gets one ACTIVE legal entity, one ACTIVE
// brand and one ACTIVE product (ADR.NewProduct), published by the Register.
// On error everything started is closed again.
func NewEcosystem(ca *CA, nADRs int) (*Ecosystem, error) {
	if nADRs < 0 {
		return nil, fmt.Errorf("cdrsim: negative number of ADRs %d", nADRs)
	}
	if ca == nil {
		var err error
		if ca, err = NewCA(); err != nil {
			return nil, err
		}
	}
	e := &Ecosystem{CA: ca}
	reg, err := NewRegister(ca)
	if err != nil {
		return nil, err
	}
	e.Register = reg
	for i := range nADRs {
		adr, err := NewADR(ca, fmt.Sprintf("Simulated ADR %d", i+1))
		if err != nil {
			e.Close()
			return nil, fmt.Errorf("cdrsim: start ADR %d: %w", i+1, err)
		}
		e.ADRs = append(e.ADRs, adr)
		p := adr.NewProduct("", fmt.Sprintf("Simulated ADR %d app", i+1))
		e.Products = append(e.Products, p)
		reg.AddLegalEntity(adr.NewLegalEntity(p))
	}
	return e, nil
}

// Close stops the Register and every ADR.
func (e *Ecosystem) Close() {
	if e.Register != nil {
		e.Register.Close()
	}
	for _, a := range e.ADRs {
		a.Close()
	}
}
