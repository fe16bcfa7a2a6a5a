package callbacks

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/callbackd/callbackd"
)

// PauseKey is the store key of a service's pause switch.
func PauseKey(service string, opts callbackd.ServiceOptions) string {
	list, id := opts.PausedList, opts.PausedID
	if list == "" {
		list = "_"
	}
	if id == "" {
		id = service
	}
	return callbackd.PausedCounterPrefix + list + "/" + id
}

// PausedServices returns the pause keys that are on.
func (m *Policy) PausedServices(ctx context.Context) (map[string]bool, error) {
	p := callbackd.PausedCounterPrefix
	cs, err := m.Store.Counters(ctx, p, p[:len(p)-1]+"0")
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(cs))
	for _, c := range cs {
		if c.Value > 0 {
			out[c.Key] = true
		}
	}
	return out, nil
}

// SetPaused pauses or resumes the services whose _paused_services_list is
// list and whose _paused_services_id (default: the service's name) is id. Pausing moves
// their QUEUED callbacks not yet handed to execution to PAUSED; resuming
// moves PAUSED callbacks back to QUEUED with their due times, so they go
// out in their original order. It returns the services concerned and how
// many callbacks moved.
func (m *Manager) SetPaused(ctx context.Context, list, id string, paused bool) ([]string, int, error) {
	cfg := m.Config()
	var services []string
	var keys = map[string]bool{}
	for _, name := range sortedKeys(cfg.Services) {
		svc := cfg.Services[name]
		if svc.Kind != callbackd.KindCallback {
			continue
		}
		svcList, svcID := svc.Options.PausedList, svc.Options.PausedID
		if svcID == "" {
			svcID = name
		}
		if svcList == list && svcID == id {
			services = append(services, name)
			keys[PauseKey(name, svc.Options)] = true
		}
	}
	if len(services) == 0 {
		return nil, 0, callbackd.BadParameter(map[string]any{"service": id}, "No callback service is paused by list [%s] id [%s]", list, id)
	}
	value := 0
	if paused {
		value = 1
	}
	for k := range keys {
		if err := m.Store.SetCounter(ctx, k, value); err != nil {
			return nil, 0, err
		}
	}
	if paused {
		moved, err := m.parkQueued(ctx, services)
		return services, moved, err
	}
	moved, err := m.resumePaused(ctx, services)
	return services, moved, err
}

// parkQueued moves the services' QUEUED callbacks that are not in
// execution (no session, no live claim) to PAUSED; they keep their due time.
func (m *Manager) parkQueued(ctx context.Context, services []string) (int, error) {
	moved := 0
	for _, name := range services {
		found, err := m.allInState(ctx, name, callbackd.StateQueued)
		if err != nil {
			return moved, err
		}
		for _, cb := range found {
			_, err := m.Store.UpdateCallback(ctx, cb.ID, func(c *callbackd.Callback) ([]callbackd.Event, error) {
				now := m.Clock.Now().UTC()
				if c.State != callbackd.StateQueued || c.SessionID != "" || c.LeaseUntil.After(now) {
					return nil, errSkip
				}
				ev, err := c.Transition(callbackd.StatePaused, "", now, "admin")
				return []callbackd.Event{ev}, err
			})
			if err == nil {
				moved++
			} else if !errors.Is(err, errSkip) {
				return moved, err
			}
		}
	}
	return moved, nil
}

// resumePaused moves PAUSED callbacks back to QUEUED. They get due times
// just before now, one millisecond apart in the order they were due: they
// are due at once, a pause is not a misfire, and the order is kept.
func (m *Manager) resumePaused(ctx context.Context, services []string) (int, error) {
	var all []*callbackd.Callback
	for _, name := range services {
		found, err := m.allInState(ctx, name, callbackd.StatePaused)
		if err != nil {
			return 0, err
		}
		all = append(all, found...)
	}
	slices.SortStableFunc(all, func(a, b *callbackd.Callback) int { return a.DueAt.Compare(b.DueAt) })
	now := m.Clock.Now().UTC()
	moved := 0
	for i, cb := range all {
		due := now.Add(time.Duration(i-len(all)) * time.Millisecond)
		_, err := m.Store.UpdateCallback(ctx, cb.ID, func(c *callbackd.Callback) ([]callbackd.Event, error) {
			if c.State != callbackd.StatePaused {
				return nil, errSkip
			}
			ev, err := c.Transition(callbackd.StateQueued, "", now, "admin")
			c.DueAt = due
			return []callbackd.Event{ev}, err
		})
		if err == nil {
			moved++
		} else if !errors.Is(err, errSkip) {
			return moved, err
		}
	}
	return moved, nil
}

// allInState lists a service's callbacks in a state, page by page.
func (m *Manager) allInState(ctx context.Context, service string, st callbackd.State) ([]*callbackd.Callback, error) {
	var out []*callbackd.Callback
	var from time.Time
	seen := map[string]bool{}
	for {
		page, err := m.Store.FindCallbacks(ctx, callbackd.Query{Service: service, States: []callbackd.State{st}, DesiredFrom: from, Limit: 500})
		if err != nil {
			return nil, err
		}
		for _, cb := range page {
			if !seen[cb.ID] {
				seen[cb.ID] = true
				out = append(out, cb)
			}
		}
		if len(page) < 500 {
			return out, nil
		}
		from = page[len(page)-1].DesiredTime
	}
}

var errSkip = errors.New("skip")

// Park moves a claimed callback of a paused service to PAUSED instead of
// submitting it (inside the dispatcher's update). The claim was not an
// attempt; the callback keeps its due time, so a resume restores its
// place.
func (m *Policy) Park(c *callbackd.Callback, now time.Time) []callbackd.Event {
	c.Unclaim(now, c.DueAt)
	ev, err := c.Transition(callbackd.StatePaused, "", now, "dispatcher")
	if err != nil {
		return nil
	}
	return []callbackd.Event{ev}
}
