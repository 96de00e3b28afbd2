package dcr

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/dcrconsole/dcrconsole/cdrsim"
	"github.com/dcrconsole/dcrconsole/fetch"
	"github.com/dcrconsole/dcrconsole/register"
)

// memoryDirectory and memoryLedger stand in for the Register data and the jti
// table, which live in SQLite: BenchmarkValidate measures the pipeline alone.
type memoryDirectory map[string]register.ProductStatus

func (d memoryDirectory) LookupRefreshing(_ context.Context, id string) (register.ProductStatus, bool, error) {
	p, ok := d[strings.ToLower(id)]
	return p, ok, nil
}

type memoryLedger struct{ sync.Map }

func (l *memoryLedger) JTIUsed(_ context.Context, kind, jti string) (bool, error) {
	_, used := l.Load(kind + "\x00" + jti)
	return used, nil
}

// BenchmarkValidate is the registration pipeline (steps 1 to 12) without HTTP or
// database: parse, two signature checks with warm JWKS caches, status, metadata.
//
//	go test ./dcr -run '^$' -bench BenchmarkValidate -benchmem
func BenchmarkValidate(b *testing.B) {
	for _, alg := range []jwa.SignatureAlgorithm{jwa.PS256, jwa.ES256} {
		b.Run(alg.String(), func(b *testing.B) {
			eco, err := cdrsim.NewEcosystem(nil, 1)
			if err != nil {
				b.Fatal(err)
			}
			defer eco.Close()
			adr, p := eco.ADRs[0], eco.Products[0]
			f, err := fetch.NewFetcher(fetch.Options{RootCAs: eco.CA.Pool(), AllowPrivateNetworks: true, Timeout: 5 * time.Second})
			if err != nil {
				b.Fatal(err)
			}
			keys := fetch.NewJWKSCache(f, time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)))
			dir := memoryDirectory{strings.ToLower(p.ID): {SoftwareProductID: p.ID, Status: "ACTIVE", BrandStatus: "ACTIVE", LegalEntityStatus: "ACTIVE"}}
			pl := NewPipeline(PipelineConfig{
				Issuer: "https://dh.example", ScopesSupported: []string{"openid", "cdr:registration", "bank:accounts.basic:read"},
				ResponseTypesSupported: []string{"code"}, ClockSkew: 30 * time.Second, CheckStatus: true,
				RegisterJWKSURI: eco.Register.JWKSURI(),
			}, keys, keys, dir, &memoryLedger{}, nil, f)
			ssa, err := eco.Register.SignSSA(p)
			if err != nil {
				b.Fatal(err)
			}
			body, err := adr.SignRequest(adr.RequestClaims(ssa, "https://dh.example", p.ID), alg)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			if _, derr := pl.Validate(ctx, []byte(body)); derr != nil { // warms the caches
				b.Fatal(derr)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, derr := pl.Validate(ctx, []byte(body)); derr != nil {
					b.Fatal(derr)
				}
			}
		})
	}
}
