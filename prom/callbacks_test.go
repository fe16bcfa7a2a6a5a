package prom_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/prom"
	"github.com/callbackd/callbackd/sqlite"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func scrape(t *testing.T, m *prom.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape: status %d: %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

func add(t *testing.T, s callbackd.Store, id string, state callbackd.State) {
	t.Helper()
	cb := &callbackd.Callback{ID: id, Service: "svc", State: state, DesiredTime: t0, ExpirationTime: t0.Add(time.Hour), CreatedAt: t0, UpdatedAt: t0}
	if err := s.CreateCallback(context.Background(), cb, nil); err != nil {
		t.Fatal(err)
	}
}

// TestCallbacksGaugeCountsOncePerTTL checks the callbacks gauge: every
// state of a service is shown (0 when empty), one count serves the scrapes
// of a TTL, and a store that cannot be counted leaves the other series
// served.
func TestCallbacksGaugeCountsOncePerTTL(t *testing.T) {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	clock := callbackd.NewManualClock(t0)
	var logs bytes.Buffer
	m := prom.New(prom.Options{Store: store, Clock: clock, CountTTL: 10 * time.Second, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	add(t, store, "a", callbackd.StateScheduled)
	add(t, store, "b", callbackd.StateScheduled)
	add(t, store, "c", callbackd.StateQueued)

	out := scrape(t, m)
	for _, want := range []string{
		`callbackd_callbacks{service="svc",state="SCHEDULED"} 2`,
		`callbackd_callbacks{service="svc",state="QUEUED"} 1`,
		`callbackd_callbacks{service="svc",state="COMPLETED"} 0`,
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("exposition lacks %s", want)
		}
	}
	add(t, store, "d", callbackd.StateScheduled)
	clock.Advance(9 * time.Second)
	if out := scrape(t, m); !strings.Contains(out, `callbackd_callbacks{service="svc",state="SCHEDULED"} 2`+"\n") {
		t.Errorf("within the TTL the store was counted again:\n%s", grep(out, "callbackd_callbacks{"))
	}
	clock.Advance(time.Second)
	if out := scrape(t, m); !strings.Contains(out, `callbackd_callbacks{service="svc",state="SCHEDULED"} 3`+"\n") {
		t.Errorf("after the TTL the count is stale:\n%s", grep(out, "callbackd_callbacks{"))
	}

	store.Close()
	clock.Advance(time.Minute)
	out = scrape(t, m)
	if strings.Contains(out, "callbackd_callbacks{") || !strings.Contains(out, "callbackd_submit_failures_total{") {
		t.Errorf("with the store closed: want the other series without callbacks:\n%s", grep(out, "callbackd_"))
	}
	if !strings.Contains(logs.String(), "CountByState") && !strings.Contains(logs.String(), "callbackd_callbacks") {
		t.Errorf("the failed count was not logged: %q", logs.String())
	}
}

func grep(text string, subs ...string) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		for _, s := range subs {
			if strings.Contains(line, s) {
				out = append(out, line)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}
