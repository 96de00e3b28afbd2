package console

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/views"
)

// Dashboard window and list sizes.
const (
	dashboardDays    = 30
	dashboardReasons = 5
	dashboardRecent  = 10
)

// DashboardPage is GET /console/: clients by status, registration attempts per
// day, frequent rejection reasons, recent failures, Register and audit health.
func (s *Server) DashboardPage(c *gin.Context) {
	v, what, err := s.dashboardView(c)
	if err != nil {
		s.log.Error("console: dashboard "+what, "error", err, "request_id", c.GetString(requestIDKey))
		s.consoleError(c, http.StatusInternalServerError, "Something went wrong", "The dashboard could not be loaded. Try again.")
		return
	}
	s.render(c, http.StatusOK, views.Dashboard(v, s.nav(c, "dashboard")))
}

// dashboardView gathers the dashboard's figures; on failure, what names the
// part that could not be loaded.
func (s *Server) dashboardView(c *gin.Context) (v views.DashboardView, what string, err error) {
	ctx := c.Request.Context()
	now := time.Now().UTC()
	y, m, d := now.AddDate(0, 0, -(dashboardDays - 1)).Date()
	since := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	v = views.DashboardView{Now: now, Days: dashboardDays, Register: s.registerHealth()}

	counts, err := s.db.CountClientsByStatus(ctx)
	if err != nil {
		return v, "client counts", err
	}
	for _, cnt := range counts {
		v.Clients = append(v.Clients, views.StatusCount{Status: cnt.Status, N: cnt.N})
		v.ClientsTotal += cnt.N
	}
	if what, err := s.dashboardActivity(ctx, &v, since, now); err != nil {
		return v, what, err
	}
	if v.AuditHeadID, v.AuditHeadHash, err = s.audit.Head(ctx); err != nil {
		return v, "audit head", err
	}
	if v.LastVerify, err = s.lastAuditVerification(c); err != nil {
		return v, "last verification", err
	}
	return v, "", nil
}

// dashboardActivity fills the registrations per day since since, the frequent
// rejection reasons and the recent failures.
func (s *Server) dashboardActivity(ctx context.Context, v *views.DashboardView, since, now time.Time) (what string, err error) {
	days, err := s.db.RegistrationsPerDay(ctx, since, now)
	if err != nil {
		return "registrations per day", err
	}
	chartDays := make([]views.ChartDay, len(days))
	for i, day := range days {
		t, _ := time.Parse(time.DateOnly, day.Day)
		chartDays[i] = views.ChartDay{Day: t, Succeeded: day.Succeeded, Failed: day.Failed}
		v.Succeeded += day.Succeeded
		v.Failed += day.Failed
	}
	v.Chart = views.NewRegistrationChart(chartDays)
	reasons, err := s.db.TopRejectionReasons(ctx, since, dashboardReasons)
	if err != nil {
		return "rejection reasons", err
	}
	for _, r := range reasons {
		v.Reasons = append(v.Reasons, views.ReasonRow{ErrorCode: r.ErrorCode, Step: r.Step, Description: r.Description, N: r.N,
			LatestHref: dashboardAttemptHref(r.LastID)})
	}
	recent, err := s.db.RecentFailedRegistrations(ctx, since, dashboardRecent)
	if err != nil {
		return "recent failures", err
	}
	for _, e := range recent {
		desc := e.PublicReason()
		v.Recent = append(v.Recent, views.FailureRow{Href: dashboardAttemptHref(e.ID), Time: e.Time, SoftwareID: e.SoftwareID,
			ErrorCode: e.ErrorCode, Step: e.Step, Description: desc})
	}
	return "", nil
}

func dashboardAttemptHref(id int64) string { return "/console/attempts/" + strconv.FormatInt(id, 10) }

// lastAuditVerification summarises the latest chain verification; nil when
// there has been none.
func (s *Server) lastAuditVerification(c *gin.Context) (*views.VerifySummary, error) {
	last, err := s.audit.LastVerification(c.Request.Context())
	if err != nil || last == nil {
		return nil, err
	}
	status := "broken"
	switch {
	case !last.Finished:
		status = "error"
	case last.OK:
		status = "intact"
	}
	return &views.VerifySummary{Status: status, Summary: last.Summary, Time: last.Time, By: last.By}, nil
}
