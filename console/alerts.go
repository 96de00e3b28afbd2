package console

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/dcrconsole/dcrconsole/alerts"
	"github.com/dcrconsole/dcrconsole/audit"
	"github.com/dcrconsole/dcrconsole/store"
	"github.com/dcrconsole/dcrconsole/views"
)

// Alerts are the built-in alerts as the console reads and acknowledges them (*alerts.Evaluator).
type Alerts interface {
	Recent(ctx context.Context, limit int) ([]store.Alert, error)
	Ack(ctx context.Context, id int64, note string, who store.AuditEvent) error
}

// AuditStream is the audit stream's progress (*audit.Stream).
type AuditStream interface {
	Status() audit.StreamStatus
}

// alertsShown bounds the alerts the page lists (firing ones come first).
const alertsShown = 100

// AlertsPage: GET /console/alerts (viewer). Firing alerts with since when and
// the last delivery status, then the recently resolved ones.
func (s *Server) AlertsPage(c *gin.Context) {
	nav := s.nav(c, "alerts")
	v := views.AlertsView{CanAck: nav.CanAct(), Channels: strings.Join(s.alertChannels, ", "), Stream: s.streamStatus()}
	rows, err := s.alerts.Recent(c.Request.Context(), alertsShown)
	if err != nil {
		s.log.Error("console: alerts", "error", err, "request_id", c.GetString(requestIDKey))
		s.consoleError(c, http.StatusInternalServerError, "Something went wrong", "The alerts could not be loaded. Try again.")
		return
	}
	for _, a := range rows {
		r := views.AlertRow{ID: a.ID, Title: alerts.Kind(a.Kind).Title(), Kind: a.Kind, Firing: a.State == store.AlertFiring,
			Message: a.Message, Since: views.When(a.FiredAt)}
		if a.ResolvedAt != nil {
			r.Resolved = views.When(*a.ResolvedAt)
		}
		if a.AckedAt != nil {
			r.Acked = "by " + a.AckedBy + " at " + views.When(*a.AckedAt) + ": " + a.AckNote
		}
		if a.Delivery != "" {
			r.Delivery = strings.Split(a.Delivery, "\n")
			r.DeliveryFailed = strings.Contains(a.Delivery, "failed") || strings.Contains(a.Delivery, "NOT delivered") ||
				strings.Contains(a.Delivery, "dropped")
		}
		if r.Firing {
			v.Firing = append(v.Firing, r)
		} else {
			v.Resolved = append(v.Resolved, r)
		}
	}
	s.render(c, http.StatusOK, views.Alerts(v, nav))
}

// AckAlert: POST /console/alerts/:id/ack (note; operator). Stops the alert's
// repeats until it resolves; audited with the note.
func (s *Server) AckAlert(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	note := clientsFormText(c, "note")
	switch {
	case err != nil || id <= 0:
		s.redirectWithFlash(c, "/console/alerts", "No such alert.", true)
		return
	case note == "":
		s.redirectWithFlash(c, "/console/alerts", "Write a note to acknowledge an alert: what is being done about it.", true)
		return
	}
	err = s.alerts.Ack(c.Request.Context(), id, note, *operatorEvent(c, store.EventOperatorAlertAck, ""))
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.redirectWithFlash(c, "/console/alerts", "That alert is not firing (it may have resolved meanwhile).", true)
	case err != nil:
		s.log.Error("console: alert acknowledgement", "error", err, "request_id", c.GetString(requestIDKey))
		s.redirectWithFlash(c, "/console/alerts", "The acknowledgement could not be recorded. Try again.", true)
	default:
		s.redirectWithFlash(c, "/console/alerts", "Alert acknowledged: it will not be sent again until it resolves.", false)
	}
}

// streamStatus describes the audit stream for the Alerts page ("" when off).
func (s *Server) streamStatus() string {
	if s.stream == nil {
		return ""
	}
	st := s.stream.Status()
	out := st.Target + ", delivered up to event " + strconv.FormatInt(st.Cursor, 10)
	if !st.Checkpoint.IsZero() {
		out += ", last checkpoint " + views.When(st.Checkpoint)
	}
	if st.LastError != "" && st.LastErrAt.After(st.Checkpoint) {
		out += "; last failure " + views.When(st.LastErrAt) + ": " + st.LastError
	}
	return out
}
