package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callbackd/callbackd"
)

// TestLookupQueryPlan keeps a query by lookup key within a service on the
// key index. With the service index, SQLite reads every callback of the
// service: seconds with a million, found by the load tool. callbackd
// never runs ANALYZE, so the planner's default guesses are what counts.
func TestLookupQueryPlan(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	where, args := whereOf(callbackd.Query{Service: "svc", Lookups: []callbackd.KeyValue{{Key: callbackd.KeyCustomerNumber, Value: "+15555550100"}}})
	rows, err := s.w.QueryContext(ctx, `EXPLAIN QUERY PLAN SELECT `+callbackColumns+` FROM callbacks`+where+` ORDER BY desired_time, id LIMIT 1000`, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	text := strings.Join(plan, "\n")
	if strings.Contains(text, "callbacks_service_state_desired") || !strings.Contains(text, "callback_keys") {
		t.Errorf("plan reads the service's callbacks instead of the key index:\n%s", text)
	}
}
