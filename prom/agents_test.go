package prom_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/prom"
	"github.com/callbackd/callbackd/sqlite"
)

// TestStoreKeepsAgents: the engine finds the agents' store by asserting
// callbackd.AgentStore on the store it is given, the wrapped one; the
// wrapper must expose the real store's agents, and time them.
func TestStoreKeepsAgents(t *testing.T) {
	raw, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	m := prom.New(prom.Options{Store: raw, Clock: callbackd.NewManualClock(t0)})
	agents, ok := m.Store().(callbackd.AgentStore)
	if !ok {
		t.Fatalf("Metrics.Store() of a %T is a %T, no AgentStore", raw, m.Store())
	}
	put := &callbackd.Agent{Name: "anna", State: callbackd.AgentReady, Since: t0, IdleSince: t0}
	if err := agents.PutAgents(context.Background(), []*callbackd.Agent{put}); err != nil {
		t.Fatal(err)
	}
	if got, err := agents.GetAgent(context.Background(), "anna"); err != nil || got.State != callbackd.AgentReady {
		t.Fatalf("GetAgent through the wrapper: %+v, %v", got, err)
	}
	out := scrape(t, m)
	for _, want := range []string{
		`callbackd_store_operation_duration_seconds_count{op="PutAgents"} 1`,
		`callbackd_store_operation_duration_seconds_count{op="GetAgent"} 1`,
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("scrape lacks %s", want)
		}
	}
}
