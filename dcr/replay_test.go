package dcr

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dcrconsole/dcrconsole/cdrsim"
	"github.com/dcrconsole/dcrconsole/register"
)

// fixedHistory answers StatusAt with then (when set) and Product with now.
type fixedHistory struct{ then, now *register.ProductStatus }

func (h fixedHistory) StatusAt(context.Context, string, time.Time) (register.ProductStatus, bool, error) {
	if h.then == nil {
		return register.ProductStatus{}, false, nil
	}
	return *h.then, true, nil
}

func (h fixedHistory) Product(string) (register.ProductStatus, bool) {
	if h.now == nil {
		return register.ProductStatus{}, false
	}
	return *h.now, true
}

func TestReplay(t *testing.T) {
	eco, err := cdrsim.NewEcosystem(nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eco.Close)
	adr, p := eco.ADRs[0], eco.Products[0]
	at := time.Now().Add(-6 * time.Hour).Truncate(time.Second)
	then := func(c map[string]any) { c["iat"], c["nbf"], c["exp"] = at.Unix()-60, at.Unix()-60, at.Unix()+600 }
	active := register.ProductStatus{SoftwareProductID: p.ID, Status: "ACTIVE", BrandStatus: "ACTIVE", LegalEntityStatus: "ACTIVE"}
	inactive := active
	inactive.Status = "INACTIVE"

	cases := []struct {
		name       string
		warm       bool // a dry run first, so the keys are cached
		history    fixedHistory
		ssa, req   func(map[string]any)
		wantFailed []Step // every failing step, in order
		fromHist   bool
	}{
		{"current at its time, expired now", true, fixedHistory{now: &active}, then, then, nil, false},
		{"several failures at once", true, fixedHistory{now: &active}, then, func(c map[string]any) {
			then(c)
			c["aud"] = "https://elsewhere.example"
			c["token_endpoint_auth_method"] = "client_secret_basic"
			c["redirect_uris"] = []any{"https://evil.example/cb"}
		}, []Step{StepRequestSignature, StepMetadata, StepRedirectURIs}, false},
		{"keys never cached", false, fixedHistory{now: &active}, then, then, []Step{StepRegisterJWKS}, false},
		{"ACTIVE then, INACTIVE now", true, fixedHistory{then: &active, now: &inactive}, then, then, nil, true},
		{"INACTIVE then, ACTIVE now", true, fixedHistory{then: &inactive, now: &active}, then, then, []Step{StepRegisterStatus}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := &dryRunEnv{eco: eco, adr: adr, product: p, ledger: &memoryLedger{}, registerJWKS: eco.Register.JWKSURI(), checkStatus: true,
				dir: memoryDirectory{strings.ToLower(p.ID): active}}
			body := env.request(t, func(c, _ map[string]any) { tc.ssa(c) }, tc.req)
			pl := env.pipeline(t)
			if tc.warm { // a current request caches the Register's and the ADR's keys
				if warm := pl.DryRun(context.Background(), []byte(env.request(t, nil, nil)), nil); !warm.Passed() {
					t.Fatalf("warm-up: %v", warm.Err)
				}
				now := pl.DryRun(context.Background(), []byte(body), nil)
				if now.Passed() || now.Err.Step != StepSSA {
					t.Fatalf("now, the SSA should have expired: %v", now.Err)
				}
			}
			res := pl.Replay(context.Background(), []byte(body), at, tc.history)
			var failed []Step
			for _, st := range res.Steps {
				if st.State == StateFail {
					failed = append(failed, st.Step)
					if st.Code == "" || st.Description == "" || st.Detail == "" {
						t.Errorf("%s fails without its error: %+v", st.Step, st)
					}
				}
			}
			if strings.Join(stepStrings(failed), ",") != strings.Join(stepStrings(tc.wantFailed), ",") {
				t.Fatalf("failed %v, want %v (steps %+v)", failed, tc.wantFailed, res.Steps)
			}
			if (len(tc.wantFailed) == 0) != res.Passed() || (res.Err != nil && res.Err.Step != tc.wantFailed[0]) {
				t.Errorf("first failure %v", res.Err)
			}
			if res.StatusesFromHistory != tc.fromHist {
				t.Errorf("statuses from history %v", res.StatusesFromHistory)
			}
			if tc.warm && res.KeysCachedAt[eco.Register.JWKSURI()].IsZero() {
				t.Errorf("the Register keys used are not reported: %v", res.KeysCachedAt)
			}
		})
	}
	t.Run("keys never cached: later steps say why they did not run", func(t *testing.T) {
		env := &dryRunEnv{eco: eco, adr: adr, product: p, ledger: &memoryLedger{}, registerJWKS: eco.Register.JWKSURI(), checkStatus: true,
			dir: memoryDirectory{strings.ToLower(p.ID): active}}
		res := env.pipeline(t).Replay(context.Background(), []byte(env.request(t, nil, nil)), at, nil)
		for _, st := range res.Steps {
			if st.Step == StepSSA && (st.State != StateSkipped || !strings.Contains(st.Detail, "not run")) {
				t.Errorf("step 4: %+v", st)
			}
		}
	})
}

func stepStrings(steps []Step) []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = string(s)
	}
	return out
}
