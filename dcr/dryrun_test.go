package dcr

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/dcrconsole/dcrconsole/cdrsim"
	"github.com/dcrconsole/dcrconsole/store"
)

type blockEverything struct{}

func (blockEverything) SoftwareBlock(_ context.Context, id string) (*store.BlockedSoftware, error) {
	return &store.BlockedSoftware{SoftwareID: id, Reason: "abuse", BlockedBy: "user:ops"}, nil
}

type fixedActiveClients struct {
	exists bool
	err    error
}

func (f fixedActiveClients) HasActiveClient(context.Context, string) (bool, error) {
	return f.exists, f.err
}

// dryRunEnv is what one case may change before the pipeline is built.
type dryRunEnv struct {
	eco          *cdrsim.Ecosystem
	adr          *cdrsim.ADR
	product      *cdrsim.Product
	dir          memoryDirectory
	ledger       *memoryLedger
	jtis         JTILedger // replaces ledger when set
	blocks       BlockList
	dups         ActiveClients
	registerJWKS string
	checkStatus  bool
}

func (e *dryRunEnv) pipeline(t *testing.T) *Pipeline {
	t.Helper()
	f, err := NewFetcher(FetchOptions{RootCAs: e.eco.CA.Pool(), AllowPrivateNetworks: true, Timeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	keys := NewJWKSCache(f, time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var jtis JTILedger = e.ledger
	if e.jtis != nil {
		jtis = e.jtis
	}
	return NewPipeline(PipelineConfig{
		Issuer: "https://dh.example", ScopesSupported: []string{"openid", "cdr:registration"},
		ResponseTypesSupported: []string{"code"}, ClockSkew: 30 * time.Second, CheckStatus: e.checkStatus,
		RegisterJWKSURI: e.registerJWKS,
	}, keys, keys, e.dir, jtis, e.blocks, f)
}

// request signs a registration request, with optional edits of the SSA and the request claims.
func (e *dryRunEnv) request(t *testing.T, editSSA func(claims, header map[string]any), editReq func(map[string]any)) string {
	t.Helper()
	ssa, err := e.eco.Register.SignSSA(e.product, editSSA)
	if err != nil {
		t.Fatal(err)
	}
	claims := e.adr.RequestClaims(ssa, "https://dh.example", e.product.ID)
	if editReq != nil {
		editReq(claims)
	}
	body, err := e.adr.SignRequest(claims, jwa.PS256)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func TestDryRun(t *testing.T) {
	eco, err := cdrsim.NewEcosystem(nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eco.Close)
	adr, p := eco.ADRs[0], eco.Products[0]
	past := time.Now().Add(-time.Hour).Unix()

	cases := []struct {
		name     string
		setup    func(t *testing.T, e *dryRunEnv) string
		wantStep Step // "" means every step passes
		wantDesc string
	}{
		{"valid", func(t *testing.T, e *dryRunEnv) string { return e.request(t, nil, nil) }, "", ""},
		{"not a JWT", func(*testing.T, *dryRunEnv) string { return "garbage" }, StepRequest, DescRequestEmpty},
		{"no software_statement", func(t *testing.T, e *dryRunEnv) string {
			return e.request(t, nil, func(c map[string]any) { delete(c, "software_statement") })
		}, StepSoftwareStmt, DescSSAEmpty},
		{"Register JWKS unreachable", func(t *testing.T, e *dryRunEnv) string {
			e.registerJWKS = e.eco.Register.URL() + "/no-such-jwks"
			return e.request(t, nil, nil)
		}, StepRegisterJWKS, "ERR-GEN-022: Could not load SSA JWKS from Register endpoint: "},
		{"SSA expired", func(t *testing.T, e *dryRunEnv) string {
			return e.request(t, func(c, _ map[string]any) { c["exp"] = past }, nil)
		}, StepSSA, DescSSAInvalid},
		{"product unknown", func(t *testing.T, e *dryRunEnv) string {
			e.dir = memoryDirectory{}
			return e.request(t, nil, nil)
		}, StepRegisterStatus, DescProductNotFound},
		{"product inactive", func(t *testing.T, e *dryRunEnv) string {
			e.dir = memoryDirectory{strings.ToLower(p.ID): {SoftwareProductID: p.ID, Status: "INACTIVE", BrandStatus: "ACTIVE", LegalEntityStatus: "ACTIVE"}}
			return e.request(t, nil, nil)
		}, StepRegisterStatus, "ERR-GEN-002: Software product status is INACTIVE"},
		{"blocked here", func(t *testing.T, e *dryRunEnv) string {
			e.blocks = blockEverything{}
			return e.request(t, nil, nil)
		}, StepBlocked, DescSoftwareBlocked},
		{"jwks_uri not https", func(t *testing.T, e *dryRunEnv) string {
			return e.request(t, func(c, _ map[string]any) { c["jwks_uri"] = "http://adr.example/jwks" }, nil)
		}, StepJWKSURI, DescJWKSURIInvalid},
		{"ADR JWKS down", func(t *testing.T, e *dryRunEnv) string {
			e.adr.SetJWKSDown(true)
			t.Cleanup(func() { e.adr.SetJWKSDown(false) })
			return e.request(t, nil, nil)
		}, StepADRJWKS, "ERR-GEN-021: Could not load JWKS from Data Recipient endpoint: "},
		{"wrong audience", func(t *testing.T, e *dryRunEnv) string {
			return e.request(t, nil, func(c map[string]any) { c["aud"] = "https://elsewhere.example" })
		}, StepRequestSignature, DescRequestInvalid},
		{"jti replayed", func(t *testing.T, e *dryRunEnv) string {
			return e.request(t, nil, func(c map[string]any) {
				c["jti"] = "used-jti"
				e.ledger.Store("registration_request\x00used-jti", true)
			})
		}, StepRequestSignature, DescRequestInvalid},
		{"sector identifier fails", func(t *testing.T, e *dryRunEnv) string {
			e.adr.SetSectorStatus(500)
			t.Cleanup(func() { e.adr.SetSectorStatus(0) })
			return e.request(t, func(c, _ map[string]any) { c["sector_identifier_uri"] = e.adr.SectorIdentifierURI() }, nil)
		}, StepSectorIdentifier, DescSectorIdentifier},
		{"metadata", func(t *testing.T, e *dryRunEnv) string {
			return e.request(t, nil, func(c map[string]any) { c["token_endpoint_auth_method"] = "client_secret_basic" })
		}, StepMetadata, "The 'token_endpoint_auth_method' claim value must be one of 'private_key_jwt'."},
		{"redirect URI", func(t *testing.T, e *dryRunEnv) string {
			return e.request(t, nil, func(c map[string]any) { c["redirect_uris"] = []any{"https://evil.example/cb"} })
		}, StepRedirectURIs, "ERR-DCR-003: The redirect_uri 'https://evil.example/cb' is not valid as it is not included in the software_statement"},
		{"duplicate", func(t *testing.T, e *dryRunEnv) string {
			e.dups = fixedActiveClients{exists: true}
			return e.request(t, nil, nil)
		}, StepDuplicate, DescDuplicate},
		{"duplicate check fails", func(t *testing.T, e *dryRunEnv) string {
			e.dups = fixedActiveClients{err: errors.New("disk on fire")}
			return e.request(t, nil, nil)
		}, StepDuplicate, "The server could not process the registration; try again later."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := &dryRunEnv{eco: eco, adr: adr, product: p, ledger: &memoryLedger{}, dups: fixedActiveClients{},
				registerJWKS: eco.Register.JWKSURI(), checkStatus: true,
				dir: memoryDirectory{strings.ToLower(p.ID): {SoftwareProductID: p.ID, Status: "ACTIVE", BrandStatus: "ACTIVE", LegalEntityStatus: "ACTIVE"}}}
			body := tc.setup(t, env)
			res := env.pipeline(t).DryRun(context.Background(), []byte(body), env.dups)
			if len(res.Steps) != len(requestSteps) {
				t.Fatalf("%d steps", len(res.Steps))
			}
			if tc.wantStep == "" {
				if !res.Passed() {
					t.Fatalf("failed: %v", res.Err)
				}
				for _, s := range res.Steps {
					if s.State != StatePass {
						t.Errorf("%s: %s", s.Title, s.State)
					}
				}
				return
			}
			if res.Passed() || res.Err.Step != tc.wantStep || !strings.HasPrefix(res.Err.Description, tc.wantDesc) {
				t.Fatalf("got %v, want step %s %q", res.Err, tc.wantStep, tc.wantDesc)
			}
			f := res.Failed()
			if f == nil || f.Step != tc.wantStep || f.Detail != res.Err.Detail {
				t.Fatalf("failed step %+v", f)
			}
			seen := false
			for _, s := range res.Steps {
				switch {
				case s.Step == tc.wantStep:
					seen = true
				case !seen && s.State != StatePass:
					t.Errorf("before the failure, %s is %s", s.Title, s.State)
				case seen && s.State == StateFail:
					t.Errorf("after the failure, %s failed too", s.Title)
				case seen && s.State == StatePass && !(tc.wantStep == StepMetadata && s.Step == StepRedirectURIs):
					t.Errorf("after the failure, %s passed", s.Title)
				}
			}
			if used, _ := env.ledger.JTIUsed(context.Background(), "registration_request", res.Registration.JTI); used && tc.name != "jti replayed" {
				t.Error("the dry run consumed the jti")
			}
		})
	}
}

func TestDryRunRedirectURIWinsOverMetadata(t *testing.T) {
	eco, err := cdrsim.NewEcosystem(nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eco.Close)
	env := &dryRunEnv{eco: eco, adr: eco.ADRs[0], product: eco.Products[0], ledger: &memoryLedger{}, registerJWKS: eco.Register.JWKSURI()}
	body := env.request(t, nil, func(c map[string]any) {
		c["redirect_uris"] = []any{"https://evil.example/cb"}
		c["token_endpoint_auth_method"] = "none"
	})
	res := env.pipeline(t).DryRun(context.Background(), []byte(body), nil)
	if res.Err == nil || res.Err.Step != StepRedirectURIs {
		t.Fatalf("%v", res.Err)
	}
	if f := res.Failed(); f == nil || f.Step != StepRedirectURIs {
		t.Fatalf("the failure is not step 11's: %+v", f)
	}
	for _, s := range res.Steps {
		switch s.Step {
		case StepMetadata:
			if s.State != StateFail || !strings.Contains(s.Detail, "step 11 takes precedence") {
				t.Errorf("metadata step: %+v", s)
			}
		case StepRegisterStatus:
			if s.State != StateSkipped { // status checks off
				t.Errorf("status step: %+v", s)
			}
		}
	}
}

func TestCheckSSA(t *testing.T) {
	eco, err := cdrsim.NewEcosystem(nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eco.Close)
	p := eco.Products[0]
	env := &dryRunEnv{eco: eco, adr: eco.ADRs[0], product: p, ledger: &memoryLedger{}, registerJWKS: eco.Register.JWKSURI(), checkStatus: true,
		dir: memoryDirectory{strings.ToLower(p.ID): {SoftwareProductID: p.ID, Status: "ACTIVE", BrandStatus: "ACTIVE", LegalEntityStatus: "ACTIVE"}}}
	pl := env.pipeline(t)
	ssa, err := eco.Register.SignSSA(p)
	if err != nil {
		t.Fatal(err)
	}
	res := pl.CheckSSA(context.Background(), ssa+"\n")
	if !res.Passed() || len(res.Steps) != 4 || res.Registration.SSAKeyID != eco.Register.KeyID() {
		t.Fatalf("%v %+v", res.Err, res.Steps)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	forged, err := eco.Register.SignSSAWith(jwa.PS256, other, eco.Register.SSAClaims(p), map[string]any{"kid": eco.Register.KeyID()})
	if err != nil {
		t.Fatal(err)
	}
	res = pl.CheckSSA(context.Background(), forged)
	if res.Err == nil || res.Err.Step != StepSSA || res.Registration.SSAKeyID != "" || res.Steps[3].State != StateSkipped {
		t.Fatalf("forged SSA: %v %+v", res.Err, res.Steps)
	}
	if res := pl.CheckSSA(context.Background(), "not.a.jwt"); res.Err == nil || res.Err.Step != StepSoftwareStmt {
		t.Fatalf("garbage: %v", res.Err)
	}
}
