package metrics

import (
	"context"
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dcrconsole/dcrconsole/audit"
	"github.com/dcrconsole/dcrconsole/authz"
	"github.com/dcrconsole/dcrconsole/dcr"
	"github.com/dcrconsole/dcrconsole/register"
	"github.com/dcrconsole/dcrconsole/store"
)

// The read functions the collector calls at scrape time; each owner implements
// its own. A nil source in Sources leaves its metrics out.
type (
	// RegistrarTally is *dcr.Registrar.
	RegistrarTally interface{ Tally() dcr.Tally }
	// TokenTally is *authz.TokenService.
	TokenTally interface {
		Tally() map[authz.TokenKey]uint64
	}
	// RegisterHealth is *register.Data.
	RegisterHealth interface {
		Health() register.SyncHealth
		StatusCounts() map[string]int
	}
	// AuditChain is *audit.Log.
	AuditChain interface {
		Head(ctx context.Context) (int64, string, error)
		LastVerification(ctx context.Context) (*audit.Verification, error)
	}
	// SigningKey is *authz.KeyRing.
	SigningKey interface {
		SigningKey() (kid string, created time.Time)
	}
	// WriteStats is *store.DB.
	WriteStats interface{ WriteStats() store.WriteStats }
)

// Sources are what the metrics read at scrape time.
type Sources struct {
	Registrar RegistrarTally
	Tokens    TokenTally
	// Register is nil when the Register is not polled (register.check_status off):
	// its sync metrics would then only say it never synced.
	Register RegisterHealth
	Audit    AuditChain
	Keys     SigningKey
	Store    WriteStats
}

// readTimeout bounds the database reads of one scrape (the audit chain's head
// and last verification).
const readTimeout = 5 * time.Second

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, labels, nil)
}

var (
	descRegistrations = desc("registrations_total",
		"Registration attempts (POST /register and the processing API) by outcome (success, rejected, error), error code and failed step.",
		"outcome", "code", "step")
	descManagement = desc("management_calls_total",
		"Management calls (GET, PUT, DELETE /register/{client_id}: read, update, delete; the processing API's too) by operation, outcome and error code.",
		"operation", "outcome", "code")
	descTokens = desc("tokens_total",
		"POST /token attempts by outcome (success: a token issued; rejected: refused; error: failed on our side) and error code.",
		"outcome", "code")
	descSyncAge = desc("register_sync_age_seconds",
		"Seconds since the last successful Register sync (+Inf before the first).")
	descSyncSuccess = desc("register_last_success_timestamp_seconds",
		"Unix time of the last successful Register sync (0: none yet).")
	descSyncAttempt = desc("register_last_attempt_timestamp_seconds",
		"Unix time of the last Register sync attempt (0: none yet).")
	descSyncFails = desc("register_sync_consecutive_failures",
		"Register syncs failed in a row since the last success.")
	descProducts = desc("register_products",
		"Software products in the Register data in use, by effective status (product, brand and legal entity together).",
		"status")
	descHeadID = desc("audit_chain_head_id",
		"Id of the newest audit event: the head of the hash chain.")
	descVerifyTime = desc("audit_last_verification_timestamp_seconds",
		"Unix time of the last audit chain verification (absent: none yet).")
	descVerifyOK = desc("audit_last_verification_ok",
		"1 when the last audit chain verification found the chain intact, 0 when it found it broken or could not finish.")
	descKeyAge = desc("signing_key_age_seconds",
		"Age of the holder's key that signs new access tokens.")
	descTransactions = desc("db_transactions_total",
		"Write transactions run by the database's single writer.")
	descWriteFailures = desc("db_write_failures_total",
		"Write transactions refused by a failure of the database itself (I/O, disk full, a failed commit), not by a refusal or a constraint.")
	descLastWriteFailure = desc("db_last_write_failure_timestamp_seconds",
		"Unix time of the last database write failure (0: none since start).")
)

// stateCollector reads Sources at every scrape.
type stateCollector struct{ src Sources }

// Watch makes every scrape read src.
func (m *Metrics) Watch(src Sources) {
	m.reg.MustRegister(&stateCollector{src: src})
}

// Describe sends every descriptor the collector may use.
func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRegistrations, descManagement, descTokens, descSyncAge, descSyncSuccess,
		descSyncAttempt, descSyncFails, descProducts, descHeadID, descVerifyTime, descVerifyOK, descKeyAge,
		descTransactions, descWriteFailures, descLastWriteFailure} {
		ch <- d
	}
}

// Collect reads each source.
func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	if c.src.Registrar != nil {
		collectRegistrar(ch, c.src.Registrar.Tally())
	}
	if c.src.Tokens != nil {
		counts := c.src.Tokens.Tally()
		if counts == nil {
			counts = map[authz.TokenKey]uint64{}
		}
		zero(counts, authz.TokenKey{Outcome: store.OutcomeSuccess})
		for k, n := range counts {
			ch <- prometheus.MustNewConstMetric(descTokens, prometheus.CounterValue, float64(n), string(k.Outcome), k.Code)
		}
	}
	if c.src.Register != nil {
		collectRegister(ch, c.src.Register)
	}
	if c.src.Audit != nil {
		collectAudit(ch, c.src.Audit)
	}
	if c.src.Keys != nil {
		_, created := c.src.Keys.SigningKey()
		ch <- gauge(descKeyAge, time.Since(created).Seconds())
	}
	if c.src.Store != nil {
		s := c.src.Store.WriteStats()
		ch <- prometheus.MustNewConstMetric(descTransactions, prometheus.CounterValue, float64(s.Transactions))
		ch <- prometheus.MustNewConstMetric(descWriteFailures, prometheus.CounterValue, float64(s.Failures))
		ch <- gauge(descLastWriteFailure, unixSeconds(s.LastFailure))
	}
}

func collectRegistrar(ch chan<- prometheus.Metric, t dcr.Tally) {
	if t.Registrations == nil {
		t.Registrations = map[dcr.RegistrationKey]uint64{}
	}
	if t.Management == nil {
		t.Management = map[dcr.ManagementKey]uint64{}
	}
	zero(t.Registrations, dcr.RegistrationKey{Outcome: store.OutcomeSuccess})
	for _, op := range []string{"read", "update", "delete"} {
		zero(t.Management, dcr.ManagementKey{Operation: op, Outcome: store.OutcomeSuccess})
	}
	for k, n := range t.Registrations {
		ch <- prometheus.MustNewConstMetric(descRegistrations, prometheus.CounterValue, float64(n),
			string(k.Outcome), k.Code, string(k.Step))
	}
	for k, n := range t.Management {
		ch <- prometheus.MustNewConstMetric(descManagement, prometheus.CounterValue, float64(n),
			k.Operation, string(k.Outcome), k.Code)
	}
}

func collectRegister(ch chan<- prometheus.Metric, r RegisterHealth) {
	h := r.Health()
	age := math.Inf(1)
	if !h.LastSuccess.IsZero() {
		age = time.Since(h.LastSuccess).Seconds()
	}
	ch <- gauge(descSyncAge, age)
	ch <- gauge(descSyncSuccess, unixSeconds(h.LastSuccess))
	ch <- gauge(descSyncAttempt, unixSeconds(h.LastAttempt))
	ch <- gauge(descSyncFails, float64(h.ConsecutiveFails))
	for status, n := range r.StatusCounts() {
		ch <- prometheus.MustNewConstMetric(descProducts, prometheus.GaugeValue, float64(n), status)
	}
}

func collectAudit(ch chan<- prometheus.Metric, a AuditChain) {
	ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	id, _, err := a.Head(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descHeadID, err)
	} else {
		ch <- gauge(descHeadID, float64(id))
	}
	v, err := a.LastVerification(ctx)
	switch {
	case err != nil:
		ch <- prometheus.NewInvalidMetric(descVerifyOK, err)
	case v != nil:
		ok := 0.0
		if v.OK {
			ok = 1
		}
		ch <- gauge(descVerifyOK, ok)
		ch <- gauge(descVerifyTime, unixSeconds(v.Time))
	}
}

// zero makes the series of k exist before its first count: a rate over a
// counter that appears only at its first increment misses that increment.
func zero[K comparable](counts map[K]uint64, k K) {
	if _, ok := counts[k]; !ok {
		counts[k] = 0
	}
}

func gauge(d *prometheus.Desc, v float64) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
}

// unixSeconds is t as Unix time with sub-second precision; 0 for the zero time.
func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}
