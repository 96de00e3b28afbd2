package dcr

import (
	"context"
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dcrconsole/dcrconsole/cdrsim"
	"github.com/dcrconsole/dcrconsole/store"
)

// stepConstants are the values of every constant of type Step declared in the
// package's source, wherever it is declared.
func stepConstants(t *testing.T) map[Step]string {
	t.Helper()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	found := map[Step]string{}
	for _, de := range entries {
		if !strings.HasSuffix(de.Name(), ".go") || strings.HasSuffix(de.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), de.Name(), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Step" {
					continue
				}
				for i, name := range vs.Names {
					v, err := strconv.Unquote(vs.Values[i].(*ast.BasicLit).Value)
					if err != nil {
						t.Fatalf("%s: %v", name.Name, err)
					}
					found[Step(v)] = name.Name
				}
			}
		}
	}
	if len(found) < 10 {
		t.Fatalf("found only %d Step constants: %v", len(found), found)
	}
	return found
}

func TestEveryStepHasExactlyOneTableEntry(t *testing.T) {
	consts := stepConstants(t)
	count := map[Step]int{}
	for _, st := range steps {
		count[st.ID]++
		if _, ok := consts[st.ID]; !ok {
			t.Errorf("table entry %q is not a Step constant", st.ID)
		}
		if st.Title == "" || st.Explain == "" {
			t.Errorf("%s: a step needs a title and an explanation", st.ID)
		}
		if st.run != nil && st.passed == nil {
			t.Errorf("%s: a step that runs needs the dry run's passed detail", st.ID)
		}
	}
	for v, name := range consts {
		if count[v] != 1 {
			t.Errorf("%s (%q) has %d table entries, want exactly 1", name, v, count[v])
		}
	}
}

func ids[T any](list []T, id func(T) Step) []Step {
	out := make([]Step, len(list))
	for i, v := range list {
		out[i] = id(v)
	}
	return out
}

// TestSelectionsDeriveFromTable pins that every list of steps (Validate's,
// ValidateMetadata's, CheckSSA's, the dry run's, the console's) is the table,
// filtered: adding a step is one entry.
func TestSelectionsDeriveFromTable(t *testing.T) {
	var runnable, json, ssa []Step
	for _, st := range steps {
		if st.run == nil {
			continue
		}
		runnable = append(runnable, st.ID)
		if !st.JWTOnly {
			json = append(json, st.ID)
		}
		if st.InSSACheck {
			ssa = append(ssa, st.ID)
		}
	}
	byID := func(st *step) Step { return st.ID }
	for name, c := range map[string]struct{ got, want []Step }{
		"request (Validate, Register, DryRun)": {ids(requestSteps, byID), runnable},
		"RFC 7591 JSON (ValidateMetadata)":     {ids(metadataSteps, byID), json},
		"SSA alone (CheckSSA)":                 {ids(ssaSteps, byID), ssa},
		"console (Steps)":                      {ids(Steps(), func(s StepInfo) Step { return s.ID }), ids(steps, func(s step) Step { return s.ID })},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s: %v, want %v", name, c.got, c.want)
		}
	}
	if len(json) != len(runnable)-2 || slices.Contains(json, StepADRJWKS) || slices.Contains(json, StepRequestSignature) {
		t.Errorf("RFC 7591 JSON skips exactly steps 7 and 8: %v", json)
	}

	p := NewPipeline(PipelineConfig{}, nil, nil, nil, &memoryLedger{}, nil, nil)
	byDry := func(d DryRunStep) Step { return d.Step }
	if got := ids(p.DryRun(context.Background(), []byte("garbage"), nil).Steps, byDry); !slices.Equal(got, runnable) {
		t.Errorf("dry run lists %v, want %v", got, runnable)
	}
	if got := ids(p.CheckSSA(context.Background(), "garbage").Steps, byDry); !slices.Equal(got, ssa) {
		t.Errorf("SSA check lists %v, want %v", got, ssa)
	}
}

type failingBlocks struct{}

func (failingBlocks) SoftwareBlock(context.Context, string) (*store.BlockedSoftware, error) {
	return nil, errors.New("disk on fire")
}

type failingLedger struct{}

func (failingLedger) JTIUsed(context.Context, string, string) (bool, error) {
	return false, errors.New("disk on fire")
}

// TestRunnerReportsFailedStep fails each step of the table in turn and checks
// that the runner names it, whatever the error's own Step (an internal error is
// StepStore for the audit log) and wherever the run stopped.
func TestRunnerReportsFailedStep(t *testing.T) {
	eco, err := cdrsim.NewEcosystem(nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eco.Close)
	adr, p := eco.ADRs[0], eco.Products[0]
	active := memoryDirectory{strings.ToLower(p.ID): {SoftwareProductID: p.ID, Status: "ACTIVE", BrandStatus: "ACTIVE", LegalEntityStatus: "ACTIVE"}}
	asJSON := func(t *testing.T, e *dryRunEnv, edit func(map[string]any)) string {
		ssa, err := e.eco.Register.SignSSA(e.product)
		if err != nil {
			t.Fatal(err)
		}
		claims := e.adr.RequestClaims(ssa, "https://dh.example", e.product.ID)
		if edit != nil {
			edit(claims)
		}
		b, _ := json.Marshal(claims)
		return string(b)
	}

	cases := []struct {
		name     string
		metadata bool // RFC 7591 JSON rather than a request JWT
		setup    func(t *testing.T, e *dryRunEnv) string
		failed   Step
		errStep  Step // the error's own Step, when it is not failed
	}{
		{"1 not a JWT", false, func(*testing.T, *dryRunEnv) string { return "garbage" }, StepRequest, ""},
		{"1 not JSON", true, func(*testing.T, *dryRunEnv) string { return "[1]" }, StepRequest, ""},
		{"2 no software_statement", true, func(t *testing.T, e *dryRunEnv) string {
			return asJSON(t, e, func(c map[string]any) { delete(c, "software_statement") })
		}, StepSoftwareStmt, ""},
		{"3 Register JWKS unreachable", false, func(t *testing.T, e *dryRunEnv) string {
			e.registerJWKS = e.eco.Register.URL() + "/no-such-jwks"
			return e.request(t, nil, nil)
		}, StepRegisterJWKS, ""},
		{"4 SSA not from the Register", false, func(t *testing.T, e *dryRunEnv) string {
			return e.request(t, func(c, _ map[string]any) { c["iss"] = "someone-else" }, nil)
		}, StepSSA, ""},
		{"5 product unknown", false, func(t *testing.T, e *dryRunEnv) string {
			e.dir = memoryDirectory{}
			return e.request(t, nil, nil)
		}, StepRegisterStatus, ""},
		{"5b block lookup fails", false, func(t *testing.T, e *dryRunEnv) string {
			e.blocks = failingBlocks{}
			return e.request(t, nil, nil)
		}, StepBlocked, StepStore},
		{"6 jwks_uri not https", false, func(t *testing.T, e *dryRunEnv) string {
			return e.request(t, func(c, _ map[string]any) { c["jwks_uri"] = "http://adr.example/jwks" }, nil)
		}, StepJWKSURI, ""},
		{"7 ADR JWKS down", false, func(t *testing.T, e *dryRunEnv) string {
			e.adr.SetJWKSDown(true)
			t.Cleanup(func() { e.adr.SetJWKSDown(false) })
			return e.request(t, nil, nil)
		}, StepADRJWKS, ""},
		{"8 jti lookup fails", false, func(t *testing.T, e *dryRunEnv) string {
			e.jtis = failingLedger{}
			return e.request(t, nil, nil)
		}, StepRequestSignature, StepStore},
		{"9 sector identifier fails", false, func(t *testing.T, e *dryRunEnv) string {
			e.adr.SetSectorStatus(500)
			t.Cleanup(func() { e.adr.SetSectorStatus(0) })
			return e.request(t, func(c, _ map[string]any) { c["sector_identifier_uri"] = e.adr.SectorIdentifierURI() }, nil)
		}, StepSectorIdentifier, ""},
		{"10/12 metadata, reported after 11 held", true, func(t *testing.T, e *dryRunEnv) string {
			return asJSON(t, e, func(c map[string]any) { c["token_endpoint_auth_method"] = "none" })
		}, StepMetadata, ""},
		{"11 redirect URI wins over 10", false, func(t *testing.T, e *dryRunEnv) string {
			return e.request(t, nil, func(c map[string]any) {
				c["redirect_uris"] = []any{"https://evil.example/cb"}
				c["token_endpoint_auth_method"] = "none"
			})
		}, StepRedirectURIs, ""},
		{"13 duplicate check fails", true, func(t *testing.T, e *dryRunEnv) string {
			e.dups = fixedActiveClients{err: errors.New("disk on fire")}
			return asJSON(t, e, nil)
		}, StepDuplicate, StepStore},
	}
	covered := map[Step]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := &dryRunEnv{eco: eco, adr: adr, product: p, ledger: &memoryLedger{}, dups: fixedActiveClients{},
				registerJWKS: eco.Register.JWKSURI(), checkStatus: true, dir: active}
			body := tc.setup(t, env)
			o := env.pipeline(t).check(context.Background(), []byte(body), tc.metadata, env.dups)
			want := tc.errStep
			if want == "" {
				want = tc.failed
			}
			if o.err == nil || o.failed != tc.failed || o.err.Step != want {
				t.Fatalf("failed %q with %v, want step %q (error step %q)", o.failed, o.err, tc.failed, want)
			}
			covered[tc.failed] = true
		})
	}
	for _, st := range requestSteps {
		if !covered[st.ID] {
			t.Errorf("no case fails step %s", st.ID)
		}
	}
}
