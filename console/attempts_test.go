package console

import (
	"testing"

	"github.com/dcrconsole/dcrconsole/dcr"
)

// TestAttemptStepFilterIsThePipelineTable pins that the step filter and its
// labels come from dcr.Steps(), in pipeline order, with the stages an attempt
// can fail at (the order the console showed before the table existed).
func TestAttemptStepFilterIsThePipelineTable(t *testing.T) {
	want := []dcr.Step{dcr.StepTransport, dcr.StepRequest, dcr.StepSoftwareStmt, dcr.StepRegisterJWKS, dcr.StepSSA,
		dcr.StepRegisterStatus, dcr.StepBlocked, dcr.StepJWKSURI, dcr.StepADRJWKS, dcr.StepRequestSignature,
		dcr.StepSectorIdentifier, dcr.StepMetadata, dcr.StepRedirectURIs, dcr.StepSoftwareID, dcr.StepDuplicate,
		dcr.StepAuthorization, dcr.StepStore}
	opts := stepOptions("")
	if len(opts) != len(want)+1 || opts[0].Value != "" {
		t.Fatalf("%d options: %+v", len(opts), opts)
	}
	explain := map[dcr.Step]string{}
	for _, st := range dcr.Steps() {
		explain[st.ID] = st.Explain
	}
	for i, st := range want {
		if o := opts[i+1]; o.Value != string(st) || o.Label != explain[st] || o.Label != stepText(string(st)) {
			t.Errorf("option %d: %+v, want %s %q", i+1, o, st, explain[st])
		}
	}
	if got := stepText(string(dcr.StepRedirectURIs)); got != "Step 11: a redirect_uri is not in the SSA" {
		t.Errorf("step 11 reads %q", got)
	}
}
