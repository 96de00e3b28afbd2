package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/dcrconsole/dcrconsole/cdrsim"
)

// loadRun is one run of the command: the options, the simulated ecosystem
// and the server under load.
type loadRun struct {
	o   options
	w   io.Writer
	eco *ecosystem
	srv *server
}

// client is one acknowledged (201) registration.
type client struct {
	product *cdrsim.Product
	id      string
	token   atomic.Pointer[string] // last access token issued to it
}

// putPoolSize bounds how many clients get a fresh SSA for the PUT phase.
const putPoolSize = 2000

// measured runs ph and adds the server's CPU time and peak RSS during it.
// The peak is reset first (clear_refs 5), so it is the phase's own.
func (l *loadRun) measured(ctx context.Context, r *runner, ph phase) phaseResult {
	pid := l.srv.pid()
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
	before, _ := sampleProc(pid)
	res := r.run(ctx, ph)
	after, err := sampleProc(pid)
	if err == nil {
		res.serverCPU, res.peakRSSKB = after.cpu-before.cpu, after.hwmKB
	}
	return res
}

// poolSize is how many requests to pre-sign for a timed phase.
func (l *loadRun) poolSize(clients int) int {
	switch {
	case l.o.count > 0:
		return l.o.count
	case l.o.duration > 0:
		return max(clients, int(l.o.duration.Seconds()*float64(l.o.presignRate)))
	}
	return clients
}

// registrationPhase registers every product once and returns the
// acknowledged registrations. With -kill9 it kills the server halfway.
func (l *loadRun) registrationPhase(ctx context.Context) ([]*client, error) {
	products, issuer := l.eco.products, l.srv.baseURL
	bodies := make([]string, len(products))
	began := time.Now()
	if err := signAll(bodies, func(i int) (string, error) { return l.eco.registrationRequest(products[i], issuer) }); err != nil {
		return nil, err
	}
	fmt.Fprintf(l.w, "pre-signed %d registration requests (SSA PS256 + request ES256) in %s\n", len(bodies), time.Since(began).Round(time.Millisecond))
	ids := make([]string, len(products))
	var ok atomic.Int64
	ph := phase{name: "register",
		next: func(i int) (request, bool) {
			if i >= len(bodies) {
				return request{}, false
			}
			return request{method: http.MethodPost, path: "/register", contentType: "application/jwt", body: bodies[i], wantStatus: http.StatusCreated}, true
		},
		onOK: func(i int, body []byte) {
			var out struct {
				ClientID string `json:"client_id"`
			}
			if json.Unmarshal(body, &out) == nil {
				ids[i] = out.ClientID
			}
			ok.Add(1)
		},
	}
	r := newRunner(l.srv.baseURL, l.o.concurrency)
	var res phaseResult
	if l.o.kill9 {
		res = l.killedMidway(ctx, r, ph, &ok, int64(len(products)/2))
	} else {
		res = l.measured(ctx, r, ph)
	}
	res.print(l.w)
	var acked []*client
	for i, id := range ids {
		if id != "" {
			acked = append(acked, &client{product: products[i], id: id})
		}
	}
	return acked, nil
}

// tokenPhase posts pre-signed client assertions for the clients in turn and
// keeps the access tokens for the GET and PUT phases.
func (l *loadRun) tokenPhase(ctx context.Context, clients []*client) error {
	if len(clients) == 0 {
		return fmt.Errorf("no acknowledged registrations")
	}
	forms := make([]string, l.poolSize(len(clients)))
	began := time.Now()
	if err := signAll(forms, func(i int) (string, error) {
		return l.eco.tokenForm(clients[i%len(clients)].id, l.srv.baseURL)
	}); err != nil {
		return err
	}
	fmt.Fprintf(l.w, "pre-signed %d client assertions (ES256) in %s\n", len(forms), time.Since(began).Round(time.Millisecond))
	ph := phase{name: "token", duration: l.o.duration,
		next: func(i int) (request, bool) {
			if i >= len(forms) {
				return request{}, false
			}
			return request{method: http.MethodPost, path: "/token", contentType: "application/x-www-form-urlencoded", body: forms[i], wantStatus: http.StatusOK}, true
		},
		onOK: func(i int, body []byte) { storeToken(clients[i%len(clients)], body) },
	}
	res := l.measured(ctx, newRunner(l.srv.baseURL, l.o.concurrency), ph)
	res.note = exhaustedNote(res, len(forms), l.o.duration)
	res.print(l.w)
	return nil
}

// storeToken keeps the access token of a token answer for c.
func storeToken(c *client, body []byte) {
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if json.Unmarshal(body, &out) == nil && out.AccessToken != "" {
		c.token.Store(&out.AccessToken)
	}
}

// withTokens returns the clients that hold an access token.
func withTokens(clients []*client) []*client {
	var out []*client
	for _, c := range clients {
		if c.token.Load() != nil {
			out = append(out, c)
		}
	}
	return out
}

// getPhase reads the registrations in turn with their access tokens.
func (l *loadRun) getPhase(ctx context.Context, clients []*client) {
	clients = withTokens(clients)
	limit := l.poolSize(len(clients))
	if l.o.count == 0 && l.o.duration > 0 {
		limit = int(^uint(0) >> 1) // unbounded: nothing to pre-sign
	}
	ph := phase{name: "get", duration: l.o.duration,
		next: func(i int) (request, bool) {
			if i >= limit || len(clients) == 0 {
				return request{}, false
			}
			c := clients[i%len(clients)]
			return request{method: http.MethodGet, path: "/register/" + c.id, bearer: *c.token.Load(), wantStatus: http.StatusOK}, true
		},
	}
	l.measured(ctx, newRunner(l.srv.baseURL, l.o.concurrency), ph).print(l.w)
}

// putPhase updates the registrations of up to putPoolSize clients in turn,
// each with a pre-signed request around a fresh SSA.
func (l *loadRun) putPhase(ctx context.Context, clients []*client) error {
	clients = withTokens(clients)
	if len(clients) == 0 {
		return fmt.Errorf("no client holds an access token")
	}
	clients = clients[:min(len(clients), putPoolSize)]
	began := time.Now()
	ssas := make([]string, len(clients))
	if err := signAll(ssas, func(i int) (string, error) { return l.eco.register.SignSSA(clients[i].product) }); err != nil {
		return err
	}
	bodies := make([]string, l.poolSize(len(clients)))
	if err := signAll(bodies, func(i int) (string, error) {
		k := i % len(clients)
		return l.eco.requestWithSSA(ssas[k], clients[k].product, l.srv.baseURL)
	}); err != nil {
		return err
	}
	fmt.Fprintf(l.w, "pre-signed %d update requests (ES256, %d fresh SSAs) in %s\n", len(bodies), len(ssas), time.Since(began).Round(time.Millisecond))
	ph := phase{name: "put", duration: l.o.duration,
		next: func(i int) (request, bool) {
			if i >= len(bodies) {
				return request{}, false
			}
			c := clients[i%len(clients)]
			return request{method: http.MethodPut, path: "/register/" + c.id, contentType: "application/jwt",
				body: bodies[i], bearer: *c.token.Load(), wantStatus: http.StatusOK}, true
		},
	}
	res := l.measured(ctx, newRunner(l.srv.baseURL, l.o.concurrency), ph)
	res.note = exhaustedNote(res, len(bodies), l.o.duration)
	res.print(l.w)
	return nil
}

// exhaustedNote says when a timed phase ran out of pre-signed requests
// before its duration (raise -presign-rate).
func exhaustedNote(res phaseResult, pool int, d time.Duration) string {
	if d > 0 && res.requests >= int64(pool) && res.elapsed < d {
		return fmt.Sprintf("pre-signed pool of %d used up before -duration; raise -presign-rate", pool)
	}
	return ""
}
