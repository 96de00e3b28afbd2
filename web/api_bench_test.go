package web

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dcrconsole/dcrconsole/cdrsim"
	"github.com/dcrconsole/dcrconsole/config"
)

// BenchmarkAPIRegister is the processing API's registration with RFC 7591 JSON
// carrying an SSA, end to end over loopback HTTP into a real SQLite file, one
// software product per call, SSAs signed before the timer. Compare with
// BenchmarkRegister:
//
//	go test ./web -run '^$' -bench 'BenchmarkAPIRegister|BenchmarkRegister' -benchtime 4000x
func BenchmarkAPIRegister(b *testing.B) {
	h := newHarness(b, func(c *config.Config) {
		c.Outbound.MaxResponseBytes = 64 << 20
		c.API.Enabled, c.API.ServiceID = true, "svc-1"
	})
	key, err := h.app.Auth.NewAPIKey(b.Context(), "bench", "as-bench", "")
	if err != nil {
		b.Fatal(err)
	}
	adr := h.eco.ADRs[0]
	products := make([]*cdrsim.Product, b.N)
	for i := range products {
		products[i] = adr.NewProduct("", fmt.Sprintf("API bench product %d", i))
	}
	h.eco.Register.AddLegalEntity(adr.NewLegalEntity(append(products, h.eco.Products[0])...))
	if err := h.app.RegisterData.Sync(b.Context()); err != nil {
		b.Fatal(err)
	}
	bodies := make([]string, b.N)
	var wg sync.WaitGroup
	var next atomic.Int64
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < b.N; i = int(next.Add(1) - 1) {
				ssa, err := h.eco.Register.SignSSA(products[i])
				if err != nil {
					b.Error(err)
					return
				}
				m := adr.RequestClaims(ssa, testIssuer, products[i].ID)
				for _, k := range []string{"iss", "aud", "iat", "exp", "jti"} {
					delete(m, k)
				}
				meta, _ := json.Marshal(m)
				call, _ := json.Marshal(map[string]string{"json": string(meta)})
				bodies[i] = string(call)
			}
		}()
	}
	wg.Wait()
	srv := httptest.NewServer(h.app.Engine)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}
	do := func(body string) string {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+apiBase, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := client.Do(req)
		if err != nil {
			b.Error(err)
			return ""
		}
		defer resp.Body.Close()
		var out struct{ Action string }
		raw, _ := io.ReadAll(resp.Body)
		_ = json.Unmarshal(raw, &out)
		return out.Action
	}
	warm := metadataFor(b, h, adr, h.eco.Products[0], nil)
	if a := do(string(mustJSONBytes(map[string]string{"json": warm}))); a != "CREATED" {
		b.Fatalf("warm-up: %q", a)
	}
	var idx, failures atomic.Int64
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if do(bodies[idx.Add(1)-1]) != "CREATED" {
				failures.Add(1)
			}
		}
	})
	b.StopTimer()
	if f := failures.Load(); f > 0 {
		b.Fatalf("%d registrations failed", f)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "registrations/s")
}

func mustJSONBytes(v any) []byte {
	raw, _ := json.Marshal(v)
	return raw
}
