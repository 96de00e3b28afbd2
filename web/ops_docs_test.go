package web

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	dto "github.com/prometheus/client_model/go"

	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/store/storetest"
)

// The files of docs/ops, which operators load into Prometheus and Grafana.
var (
	alertRulesFile = filepath.Join("..", "docs", "ops", "prometheus-alerts.yml")
	dashboardFile  = filepath.Join("..", "docs", "ops", "grafana-dashboard.json")
)

// alertRules is the Prometheus rule file format.
type alertRules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// metricName finds the metric names in PromQL: ours, the Go runtime's and the
// process's. `up` is the one series Prometheus makes itself, per target.
var metricName = regexp.MustCompile(`\b(?:dcrconsole|go|process)_[a-zA-Z0-9_]+|\bup\{`)

// TestAlertRulesParse: the rule file is YAML of the Prometheus rule format, and
// it has a rule for each alert dcrconsole evaluates itself.
func TestAlertRulesParse(t *testing.T) {
	rules := readAlertRules(t)
	var names []string
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			names = append(names, r.Alert)
			if r.Alert == "" || strings.TrimSpace(r.Expr) == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("rule %q lacks an alert name, an expr, a severity or a summary", r.Alert)
			}
			if r.For != "" {
				if _, err := time.ParseDuration(r.For); err != nil {
					t.Errorf("rule %s: for %q: %v", r.Alert, r.For, err)
				}
			}
		}
	}
	for _, want := range []string{"DcrconsoleRegisterSyncStale", "DcrconsoleRegisterSyncFailing", "DcrconsoleRegistrationRejectionRateHigh",
		"DcrconsoleAuditChainVerificationFailed", "DcrconsoleADRJWKSUnreachable", "DcrconsoleSigningKeyTooOld", "DcrconsoleDatabaseWriteFailures"} {
		if !slices.Contains(names, want) {
			t.Errorf("no rule %s in %s", want, alertRulesFile)
		}
	}
}

func readAlertRules(t *testing.T) alertRules {
	t.Helper()
	raw, err := os.ReadFile(alertRulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var rules alertRules
	if err := yaml.UnmarshalWithOptions(raw, &rules, yaml.Strict(), yaml.DisallowUnknownField()); err != nil {
		t.Fatalf("%s: %v", alertRulesFile, err)
	}
	if len(rules.Groups) == 0 {
		t.Fatalf("%s has no rule groups", alertRulesFile)
	}
	return rules
}

// referencedMetrics is every metric name in the rules' expressions and
// annotations (their query templates) and in the dashboard's queries.
func referencedMetrics(t *testing.T) map[string][]string {
	t.Helper()
	refs := map[string][]string{}
	add := func(where, promql string) {
		for _, m := range metricName.FindAllString(promql, -1) {
			name := strings.TrimSuffix(m, "{")
			refs[name] = append(refs[name], where)
		}
	}
	for _, g := range readAlertRules(t).Groups {
		for _, r := range g.Rules {
			add("alert "+r.Alert, r.Expr)
			for _, a := range r.Annotations {
				add("alert "+r.Alert, a)
			}
		}
	}
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	for _, p := range dash.Panels {
		for _, q := range p.Targets {
			add("panel "+p.Title, q.Expr)
		}
	}
	return refs
}

// TestOpsFilesUseOnlyExportedMetrics: every metric the alert rules and the
// dashboard name is in a scrape of a server that has done some of everything,
// so the files cannot drift from the code.
func TestOpsFilesUseOnlyExportedMetrics(t *testing.T) {
	refs := referencedMetrics(t)
	if len(refs) < 20 {
		t.Fatalf("only %d metric names found in docs/ops: the pattern is wrong", len(refs))
	}
	h := newHarness(t, withMetrics)
	metricsURL := serveMetrics(t, h)
	driveTraffic(t, h)
	operator := h.operator(t, store.RoleOperator)
	h.console(http.MethodPost, "/console/audit/verify", operator, "")
	auditAwaitVerify(t, h, operator)
	fams := scrape(t, metricsURL)

	var missing []string
	for name, where := range refs {
		if name == "up" || exported(fams, name) {
			continue
		}
		missing = append(missing, name+" (in "+strings.Join(where, ", ")+")")
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("not exported: %s", m)
	}
}

// exported reports whether name is a family of the scrape, or a series of one
// of its histograms.
func exported(fams families, name string) bool {
	if _, ok := fams[name]; ok {
		return true
	}
	for _, suffix := range []string{"_bucket", "_count", "_sum"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			if f, ok := fams[base]; ok && f.GetType() == dto.MetricType_HISTOGRAM {
				return true
			}
		}
	}
	return false
}

// TestMetricsAuditVerification: the last verification's result and time are
// read from the audit log at scrape time: 1 for an intact chain, 0 once a
// tampered row breaks it.
func TestMetricsAuditVerification(t *testing.T) {
	h := newHarness(t, withMetrics)
	metricsURL := serveMetrics(t, h)
	operator := h.operator(t, store.RoleOperator)
	verified := func() (ok, at float64) {
		t.Helper()
		h.console(http.MethodPost, "/console/audit/verify", operator, "")
		auditAwaitVerify(t, h, operator)
		f := scrape(t, metricsURL)
		ok, found := f.value("dcrconsole_audit_last_verification_ok", nil)
		at, _ = f.value("dcrconsole_audit_last_verification_timestamp_seconds", nil)
		if !found {
			t.Fatal("no verification result after a verification")
		}
		return ok, at
	}
	if ok, at := verified(); ok != 1 || time.Since(time.Unix(int64(at), 0)) > time.Hour {
		t.Fatalf("intact chain: ok %v at %v", ok, at)
	}
	if err := storetest.Gorm(t, h.db).Exec("UPDATE audit_events SET reason='x' WHERE id=1").Error; err != nil {
		t.Fatal(err)
	}
	if ok, _ := verified(); ok != 0 {
		t.Fatalf("tampered chain: ok %v", ok)
	}
}
