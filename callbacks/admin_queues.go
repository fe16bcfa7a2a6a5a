package callbacks

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/callbackd/callbackd"
)

// Admin query limits. The spec names the error ("Query range spans too
// wide time range") but not the bound; a month covers every bookable
// desired time (desired-time-max-ahead defaults to 30 days).
const (
	DefaultQueueMax = 500
	MaxQueueMax     = 10000
	MaxQueueRange   = 31 * 24 * time.Hour
	queuePage       = 500
)

// QueueEntry is one callback in an admin queue listing, with the value each
// requested filter key had.
type QueueEntry struct {
	Callback *callbackd.Callback
	Params   map[string]string
}

// Queues lists the outstanding callbacks per service (Query-Callback by
// Queue(s), spec 001): target (one service, default all), start_time and
// end_time (desired time; default from 24 hours ago to 24 hours ahead, so
// that what is queued now is listed), max per queue (default 500), states
// (comma-separated), and equality filters on the [callback] filter-keys,
// matched against the callback's value or, when it has none, its service's
// option (a _vq set on the service applies to all its callbacks).
func (m *Manager) Queues(ctx context.Context, params url.Values) (map[string][]*callbackd.Callback, error) {
	cfg := m.Config()
	now := m.Clock.Now().UTC()
	services := callbackServices(cfg)
	q := callbackd.Query{}
	max := DefaultQueueMax
	filters := map[string]string{}
	var from, to time.Time
	for _, k := range sortedKeys(params) {
		v := strings.TrimSpace(params.Get(k))
		switch k {
		case "target":
			if v == "" {
				continue
			}
			if _, err := callbackService(cfg, v); err != nil {
				return nil, err
			}
			services = []string{v}
		case "start_time", "end_time":
			t, err := parseTimeParam(k, v, "")
			if err != nil {
				return nil, err
			}
			if k == "start_time" {
				from = t
			} else {
				to = t
			}
		case "max":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > MaxQueueMax {
				return nil, callbackd.BadParameter(map[string]any{"option": "max"}, "Invalid max [%s]: must be an integer from 1 to %d", v, MaxQueueMax)
			}
			max = n
		case "states":
			for _, name := range splitLists(params[k]) {
				st, err := parseStateParam(name, "")
				if err != nil {
					return nil, err
				}
				q.States = append(q.States, st)
			}
		default:
			if !slices.Contains(cfg.Callback.FilterKeys, k) {
				return nil, callbackd.InvalidOperation(map[string]any{"filter": k + "=" + v},
					"Cannot process 'filter' parameter correctly : %s=%s", k, v)
			}
			filters[k] = v
		}
	}
	if to.IsZero() {
		to = now.Add(24 * time.Hour)
		if !from.IsZero() {
			to = from.Add(24 * time.Hour)
		}
	}
	if from.IsZero() {
		from = now.Add(-24 * time.Hour)
	}
	if !to.After(from) {
		return nil, callbackd.BadParameter(map[string]any{"option": "end_time"}, "end_time [%s] must be after start_time [%s]",
			callbackd.FormatTime(to), callbackd.FormatTime(from))
	}
	if span := to.Sub(from); span > MaxQueueRange {
		return nil, callbackd.InvalidOperation(map[string]any{"filter": "start_time/end_time"},
			"Query range spans too wide time range (%d / %d). Adjust query parameters for time range.",
			int64(span/time.Second), int64(MaxQueueRange/time.Second))
	}
	q.DesiredFrom, q.DesiredTo = from, to
	out := make(map[string][]*callbackd.Callback, len(services))
	for _, name := range services {
		sq := q
		sq.Service = name
		found, err := m.findFiltered(ctx, cfg, sq, filters, max)
		if err != nil {
			return nil, err
		}
		out[name] = found
	}
	return out, nil
}

// findFiltered pages through q until max callbacks pass the filters.
func (m *Manager) findFiltered(ctx context.Context, cfg *callbackd.Config, q callbackd.Query, filters map[string]string, max int) ([]*callbackd.Callback, error) {
	out := []*callbackd.Callback{}
	q.Limit = queuePage
	if len(filters) == 0 {
		q.Limit = max
	}
	for {
		page, err := m.Store.FindCallbacks(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, cb := range page {
			if matches(cfg, cb, filters) {
				out = append(out, cb)
				if len(out) == max {
					return out, nil
				}
			}
		}
		if len(page) < q.Limit {
			return out, nil
		}
		q.After = callbackd.CursorOf(page[len(page)-1])
	}
}

// matches applies equality filters; states and reasons compare without
// regard to letter case, as clients send them.
func matches(cfg *callbackd.Config, cb *callbackd.Callback, filters map[string]string) bool {
	for k, want := range filters {
		got, _ := Value(cfg, cb, k)
		if k == callbackd.KeyState || k == callbackd.KeyReason {
			if !strings.EqualFold(got, want) {
				return false
			}
		} else if got != want {
			return false
		}
	}
	return true
}

// Value is what a callback has for key: its field or property, else its
// service's option. Exports and filters read it.
func Value(cfg *callbackd.Config, cb *callbackd.Callback, key string) (string, bool) {
	if key == "_service_id" {
		return cb.ID, true
	}
	if v, ok := cb.Get(key); ok {
		return v, true
	}
	if svc, ok := cfg.Service(cb.Service); ok {
		v, ok := svc.Raw[key]
		return v, ok
	}
	return "", false
}

// callbackServices are the names of the callback services, sorted.
func callbackServices(cfg *callbackd.Config) []string {
	var out []string
	for _, name := range sortedKeys(cfg.Services) {
		if cfg.Services[name].Kind == callbackd.KindCallback {
			out = append(out, name)
		}
	}
	return out
}

// Watermarks counts the callbacks in execution (QUEUED, ROUTING,
// PROCESSING: handed to the platform and not finished) per service, for
// licence checks. A far-future SCHEDULED callback counts 0 (CLIENTS.md).
// services names the services to count; none means every callback service.
func (m *Manager) Watermarks(ctx context.Context, services []string) (map[string]int, error) {
	cfg := m.Config()
	if len(services) == 0 {
		services = callbackServices(cfg)
	}
	var inExecution []callbackd.State
	for _, st := range callbackd.States {
		if st.InExecution() {
			inExecution = append(inExecution, st)
		}
	}
	out := make(map[string]int, len(services))
	for _, name := range services {
		if _, err := callbackService(cfg, name); err != nil {
			return nil, err
		}
		n, err := m.Store.CountCallbacks(ctx, callbackd.Query{Service: name, States: inExecution})
		if err != nil {
			return nil, err
		}
		out[name] = n
	}
	return out, nil
}
