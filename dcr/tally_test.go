package dcr

import (
	"testing"

	"github.com/dcrconsole/dcrconsole/store"
)

// TestTallyKeysAreClosedSets: what a caller sends never becomes a key of the
// tally: an unknown code or step is counted as "other", a success carries none.
func TestTallyKeysAreClosedSets(t *testing.T) {
	for _, s := range Steps() {
		if BoundStep(s.ID) != s.ID {
			t.Errorf("step %s of the table is not kept", s.ID)
		}
	}
	for _, c := range ErrorCodes {
		if BoundCode(c) != c {
			t.Errorf("code %s is not kept", c)
		}
	}
	if BoundCode("urn:attacker:"+string(make([]byte, 100))) != "other" || BoundStep("client-chosen") != "other" {
		t.Error("an unknown code or step is kept as it is")
	}
	r := &Registrar{}
	tl := &r.tally
	tl.count(store.EventRegistrationCreate, store.OutcomeRejected, "made-up", "made-up")
	tl.count(store.EventRegistrationCreate, store.OutcomeSuccess, CodeServerError, StepStore)
	tl.count(store.EventRegistrationDelete, store.OutcomeSuccess, "", "")
	tl.count(store.EventClientStatus, store.OutcomeSuccess, "", "") // not a call the tally counts
	got := r.Tally()
	want := map[RegistrationKey]uint64{{store.OutcomeRejected, "other", "other"}: 1, {store.OutcomeSuccess, "", ""}: 1}
	if len(got.Registrations) != len(want) || got.Registrations[RegistrationKey{store.OutcomeRejected, "other", "other"}] != 1 ||
		got.Registrations[RegistrationKey{Outcome: store.OutcomeSuccess}] != 1 {
		t.Errorf("registrations %v, want %v", got.Registrations, want)
	}
	if len(got.Management) != 1 || got.Management[ManagementKey{Operation: "delete", Outcome: store.OutcomeSuccess}] != 1 {
		t.Errorf("management %v", got.Management)
	}
}
