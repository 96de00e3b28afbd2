package alerts

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func sampleNotification() Notification {
	at := time.Date(2026, 12, 2, 3, 4, 5, 0, time.UTC)
	return Notification{AlertID: 3, Kind: KindRegisterSync, Status: StatusFiring, Since: at, Time: at,
		Message: "2 consecutive Register syncs failed; last error: 503\r\nBcc: victim@example.com", Server: "https://dh.example"}
}

func TestWebhookFormats(t *testing.T) {
	var got []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			t.Error(err)
		}
		got = append(got, m)
		if strings.HasSuffix(r.URL.Path, "/fail") {
			http.Error(w, "no", http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	n := sampleNotification()
	tests := []struct {
		name, path, format, wantKey string
		wantErr                     bool
	}{
		{"json", "/ok", "json", "alert", false},
		{"slack", "/ok", "slack", "text", false},
		{"not 2xx", "/fail", "json", "alert", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := NewWebhook(srv.URL+tc.path, tc.format, nil).Send(t.Context(), n)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v", err)
			}
			last := got[len(got)-1]
			if _, ok := last[tc.wantKey]; !ok {
				t.Fatalf("body %v lacks %q", last, tc.wantKey)
			}
			if tc.format == "slack" && (len(last) != 1 || !strings.HasPrefix(last["text"].(string), "[FIRING] CDR Register sync stale or failing: 2 consecutive")) {
				t.Errorf("slack body %v", last)
			}
		})
	}
}

func TestMailMessageKeepsTheBodyOutOfHeaders(t *testing.T) {
	m := &Mail{From: "DCR <dcr@bank.example>", To: []string{"ops@bank.example", "sec@bank.example"}}
	n := sampleNotification()
	n.Repeat = true
	msg := string(m.message(n))
	head, body, ok := strings.Cut(msg, "\r\n\r\n")
	if !ok {
		t.Fatalf("no header/body separator:\n%s", msg)
	}
	for _, want := range []string{"From: DCR <dcr@bank.example>", "To: ops@bank.example, sec@bank.example",
		"Subject: [dcrconsole] STILL FIRING: CDR Register sync stale or failing", "Message-ID: <", "@bank.example>"} {
		if !strings.Contains(head, want) {
			t.Errorf("headers lack %q:\n%s", want, head)
		}
	}
	if strings.Contains(head, "Bcc") || !strings.Contains(body, "Bcc: victim@example.com") {
		t.Errorf("the message text must stay in the body:\n%s", msg)
	}
	if strings.Contains(strings.ReplaceAll(msg, "\r\n", ""), "\n") || strings.Contains(strings.ReplaceAll(msg, "\r\n", ""), "\r") {
		t.Error("bare CR or LF in the message")
	}
}
