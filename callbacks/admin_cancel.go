package callbacks

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/callbackd/callbackd"
)

// MaxAdminIDs bounds one bulk request, so that one request cannot hold the
// store for minutes.
const MaxAdminIDs = 1000

// ItemResult is the outcome for one id of a bulk request: Err nil means
// done, or done with a Note ("no callback(s) to delete").
type ItemResult struct {
	Key   string // "_id" or "_customer_number"
	Value string
	Note  string
	Err   *callbackd.Error
}

// AdminCancel cancels callbacks by id with an admin reason (bulk cancel of
// the Service Management UI; CLIENTS.md: {"reason":"CANCELLED_BY_ADMIN",
// "ids":[...]}). Each id succeeds or fails on its own, with the errors a
// Cancel-Callback would answer. A callback in execution is cancelled at the
// platform first; discardFailure completes it even when that fails.
func (m *Manager) AdminCancel(ctx context.Context, ids []string, reason string, discardFailure bool) ([]ItemResult, error) {
	r := callbackd.ReasonCancelledByAdmin
	if strings.TrimSpace(reason) != "" {
		var ok bool
		if r, ok = callbackd.ParseReason(reason); !ok {
			return nil, callbackd.BadParameter(map[string]any{"option": "reason"}, "Invalid reason [%s]: not a reason of the Callback API", reason)
		}
	}
	if err := checkIDs(ids, "ids"); err != nil {
		return nil, err
	}
	now := m.Clock.Now().UTC()
	out := make([]ItemResult, 0, len(ids))
	for _, id := range ids {
		res := ItemResult{Key: callbackd.KeyID, Value: id}
		cb, err := m.Store.GetCallback(ctx, id)
		if errors.Is(err, callbackd.ErrNotFound) {
			err = notFound(id, "", now)
		}
		if err == nil {
			err = m.cancel(ctx, cb, r, "admin", discardFailure, now)
		}
		if err != nil {
			e, ok := callbackd.AsError(err)
			if !ok {
				return nil, err // the store failed: the whole request fails
			}
			res.Err = e
		}
		out = append(out, res)
	}
	return out, nil
}

func checkIDs(ids []string, field string) error {
	if len(ids) > MaxAdminIDs {
		return callbackd.BadParameter(map[string]any{"option": field}, "Too many values in %s: %d, at most %d per request", field, len(ids), MaxAdminIDs)
	}
	for _, id := range ids {
		if strings.TrimSpace(id) == "" {
			return callbackd.BadParameter(map[string]any{"option": field}, "Empty value in %s", field)
		}
	}
	return nil
}

// Report window of the cancelled-records export (spec 001: "from the last
// 30 days to the next 15 days").
const (
	ReportBack  = 30 * 24 * time.Hour
	ReportAhead = 15 * 24 * time.Hour
)

// DefaultReportColumns are the export's columns when none are asked for,
// as the spec's example export names them.
var DefaultReportColumns = []string{"_desired_time", "_service_name", "_customer_number", "_target", "_vq_for_outbound_calls", "_urs_virtual_queue"}

// ReportColumns are the export's columns: those asked for (an entry may
// list several separated by commas, as the spec's example sends
// ["_service_id,_desired_time"]), or DefaultReportColumns when none is.
func ReportColumns(asked []string) []string {
	header := splitLists(asked)
	if len(header) == 0 {
		return DefaultReportColumns
	}
	return header
}

// CancelledReport selects the callbacks COMPLETED with reason whose desired
// time lies from 30 days back to 15 days ahead, by desired time, and calls
// row with each one's values for columns. It says how many rows it made.
func (m *Manager) CancelledReport(ctx context.Context, reason string, columns []string, row func(values []string) error) (int, error) {
	if strings.TrimSpace(reason) == "" {
		return 0, callbackd.BadParameter(map[string]any{"option": "callback_reason"}, "Callback reason is missing.")
	}
	r, ok := callbackd.ParseReason(reason)
	if !ok {
		return 0, callbackd.BadParameter(map[string]any{"option": "callback_reason"}, "Invalid callback_reason [%s]: not a reason of the Callback API", reason)
	}
	cfg := m.Config()
	now := m.Clock.Now().UTC()
	q := callbackd.Query{States: []callbackd.State{callbackd.StateCompleted}, Reasons: []callbackd.Reason{r},
		DesiredFrom: now.Add(-ReportBack), DesiredTo: now.Add(ReportAhead), Limit: queuePage}
	n := 0
	for {
		page, err := m.Store.FindCallbacks(ctx, q)
		if err != nil {
			return n, err
		}
		for _, cb := range page {
			values := make([]string, len(columns))
			for i, k := range columns {
				values[i], _ = Value(cfg, cb, k)
			}
			if err := row(values); err != nil {
				return n, err
			}
			n++
		}
		if len(page) < q.Limit {
			return n, nil
		}
		q.After = callbackd.CursorOf(page[len(page)-1])
	}
}

// splitLists reads values that may each be a comma-separated list, as
// clients send lists in one parameter or several.
func splitLists(values []string) []string {
	var out []string
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}
