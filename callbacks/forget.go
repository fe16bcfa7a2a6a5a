package callbacks

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/callbackd/callbackd"
)

// NoCallbackToDelete is the spec's note for a customer number with nothing
// to delete.
const NoCallbackToDelete = "no callback(s) to delete"

// Forget erases customers (Forget-me, spec 001 ops/delete): the callbacks
// named by id, and every callback found by customer number in any service.
// Only SCHEDULED and COMPLETED callbacks may go; one in execution is kept
// and reported with INVALID_OPERATION. For every number asked and every
// callback erased, the customer's other traces go too: refused requests'
// events, in-queue counters and daily throttle uses. Nothing records the
// erasure itself.
func (m *Manager) Forget(ctx context.Context, ids, numbers []string) ([]ItemResult, error) {
	if err := checkIDs(ids, callbackd.KeyID); err != nil {
		return nil, err
	}
	if err := checkIDs(numbers, callbackd.KeyCustomerNumber); err != nil {
		return nil, err
	}
	if len(ids)+len(numbers) == 0 {
		return nil, callbackd.BadParameter(nil, "No lookup possible. No properties to look for.")
	}
	cfg := m.Config()
	var out []ItemResult
	erased := map[string]*callbackd.Callback{}
	reported := map[string]bool{}
	erase := func(byNumber bool, list []string) error {
		list = slices.DeleteFunc(slices.Clone(list), func(id string) bool { return byNumber && reported[id] })
		found := map[string]*callbackd.Callback{}
		res, err := m.Store.Forget(ctx, callbackd.Forget{IDs: list, Check: func(cb *callbackd.Callback) error {
			found[cb.ID] = cb
			if cb.State != callbackd.StateScheduled && cb.State != callbackd.StateCompleted {
				return callbackd.InvalidOperation(map[string]any{"id": cb.ID, "state": string(cb.State)},
					"Callback %s cannot be deleted - _callback_state=%s", cb.ID, cb.State)
			}
			return nil
		}})
		if err != nil {
			return err
		}
		for _, id := range list {
			r := ItemResult{Key: callbackd.KeyID, Value: id}
			switch err := res[id]; {
			case err == nil:
				erased[id] = found[id]
			case errors.Is(err, callbackd.ErrNotFound):
				r.Note = NoCallbackToDelete
			default:
				e, ok := callbackd.AsError(err)
				if !ok {
					return err
				}
				r.Err = e
			}
			if byNumber && r.Note != "" {
				continue // found by number a moment ago and gone since
			}
			reported[id] = true
			out = append(out, r)
		}
		return nil
	}
	if len(ids) > 0 {
		if err := erase(false, ids); err != nil {
			return nil, err
		}
	}
	indexed := customerNumberIndexed(cfg)
	for _, n := range numbers {
		if !indexed {
			out = append(out, ItemResult{Key: callbackd.KeyCustomerNumber, Value: n, Err: callbackd.BadParameter(
				map[string]any{"non-existing-lookup-key": n, "properties": callbackd.KeyCustomerNumber},
				"No such lookup possible for %s", callbackd.KeyCustomerNumber)})
			continue
		}
		list, err := m.findByNumber(ctx, cfg, n)
		if err != nil {
			return nil, err
		}
		if len(list) == 0 {
			out = append(out, ItemResult{Key: callbackd.KeyCustomerNumber, Value: n, Note: NoCallbackToDelete})
			continue
		}
		if err := erase(true, list); err != nil {
			return nil, err
		}
	}
	// The customer's remaining traces: for every number asked and every
	// number an erased callback had.
	traces := slices.Clone(numbers)
	for _, cb := range erased {
		traces = append(traces, cb.CustomerNumber)
	}
	subjects, suffixes := m.customerKeys(cfg, traces)
	if len(subjects)+len(suffixes) > 0 {
		if _, err := m.Store.Forget(ctx, callbackd.Forget{Subjects: subjects, KeySuffixes: suffixes}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// customerNumberIndexed reports whether some callback service can look
// callbacks up by customer number.
func customerNumberIndexed(cfg *callbackd.Config) bool {
	for _, name := range callbackServices(cfg) {
		if slices.Contains(cfg.Services[name].Options.CustomerLookupKeys, callbackd.KeyCustomerNumber) {
			return true
		}
	}
	return false
}

// findByNumber lists the ids of every callback of a number, in every
// spelling the services' countries give it.
func (m *Manager) findByNumber(ctx context.Context, cfg *callbackd.Config, n string) ([]string, error) {
	q := callbackd.Query{Limit: MaxAdminIDs}
	for _, name := range callbackServices(cfg) {
		v := lookupValue(callbackd.KeyCustomerNumber, n, cfg.Services[name].Options.DefaultCountry)
		q.Lookups = append(q.Lookups, callbackd.KeyValue{Key: callbackd.KeyCustomerNumber, Value: v})
	}
	found, err := m.Store.FindCallbacks(ctx, q)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(found))
	for i, cb := range found {
		ids[i] = cb.ID
	}
	return ids, nil
}

// customerKeys are the event subjects and counter-key suffixes under which
// callbackd keeps a customer's numbers: each number as sent and normalised
// for each service's country, in-queue counters per service, and the daily
// limits of every throttled parameter.
func (m *Manager) customerKeys(cfg *callbackd.Config, numbers []string) (subjects, suffixes []string) {
	add := func(list []string, v string) []string {
		if v == "" || slices.Contains(list, v) {
			return list
		}
		return append(list, v)
	}
	for _, n := range numbers {
		n = strings.TrimSpace(n)
		subjects = add(subjects, n)
		for _, name := range callbackServices(cfg) {
			opts := cfg.Services[name].Options
			v := lookupValue(callbackd.KeyCustomerNumber, n, opts.DefaultCountry)
			subjects = add(subjects, v)
			suffixes = add(suffixes, holdInQueue+name+"/"+v)
			for _, param := range opts.Throttle.RequestParams {
				if param == callbackd.KeyCustomerNumber {
					suffixes = add(suffixes, "/"+param+"="+v)
				}
			}
		}
	}
	return subjects, suffixes
}
