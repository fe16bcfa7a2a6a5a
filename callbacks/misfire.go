package callbacks

import (
	"context"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/calendar"
)

// Misfire decides what to do with a claimed callback on its first attempt
// (retries are late by design), following the service's _misfire_grace and
// _misfire_policy: submit when late by less than the grace period and the
// office is open now; otherwise reschedule to the next open slot with room
// (policy "reschedule", the default), expire it ("expire"), or submit
// anyway ("submit"). A callback past its expiration time always expires.
func (m *Policy) Misfire(ctx context.Context, cb *callbackd.Callback, now time.Time) (callbackd.MisfireAction, time.Time, error) {
	if !cb.ExpirationTime.IsZero() && !now.Before(cb.ExpirationTime) {
		return callbackd.MisfireExpire, time.Time{}, nil
	}
	cfg := m.Config()
	svc, ok := cfg.Service(cb.Service)
	if !ok || cb.SubmitAttempts > 1 || cb.DueAt.IsZero() {
		return callbackd.MisfireSubmit, time.Time{}, nil
	}
	opts, _, err := effectiveOptions(cfg, svc, Params(cb.Properties))
	if err != nil {
		return callbackd.MisfireSubmit, time.Time{}, err
	}
	g, err := grid(cfg, cb.Service, opts)
	if err != nil {
		return callbackd.MisfireSubmit, time.Time{}, err
	}
	open, _ := statusAt(g, now)
	if now.Sub(cb.DueAt) <= opts.MisfireGrace && open {
		return callbackd.MisfireSubmit, time.Time{}, nil
	}
	switch opts.MisfirePolicy {
	case "submit":
		return callbackd.MisfireSubmit, time.Time{}, nil
	case "expire":
		return callbackd.MisfireExpire, time.Time{}, nil
	}
	used, err := m.slotUse(ctx, cb.Service, now.Add(-time.Hour), now.Add(14*24*time.Hour))
	if err != nil {
		return callbackd.MisfireSubmit, time.Time{}, err
	}
	own := slotHold(cb.Service, g, cb.DesiredTime).Key
	for _, s := range g.Slots(now, now.Add(14*24*time.Hour)) {
		if s.Start.Before(now) {
			continue
		}
		taken := used[s.Start.UnixMilli()]
		if slotKey(cb.Service, s.Start) == own {
			taken-- // its own unit
		}
		if s.Total-taken > 0 {
			return callbackd.MisfireReschedule, s.Start, nil
		}
	}
	return callbackd.MisfireExpire, time.Time{}, nil // no room within two weeks
}

// RescheduleMisfired moves a claimed, late callback to desired: back to
// SCHEDULED with a new due time and its capacity unit moved. It runs inside
// the store's update of the callback (the dispatcher's).
func (m *Policy) RescheduleMisfired(ctx context.Context, cb *callbackd.Callback, desired, now time.Time) ([]callbackd.Event, error) {
	cfg, opts, g, err := m.slotsOf(cb)
	if err != nil {
		return nil, err
	}
	_, due, err := m.initialState(ctx, cfg, cb.Service, opts, desired, now)
	if err != nil {
		return nil, err
	}
	back, err := cb.Transition(callbackd.StateScheduled, "", now, "dispatcher")
	if err != nil {
		return nil, err
	}
	evs, err := cb.Reschedule(desired, opts.TTL, callbackd.StateScheduled, now, "dispatcher")
	if err != nil {
		return nil, err
	}
	evs[0].WithProps("_misfire", "rescheduled")
	cb.Unclaim(now, due) // the claim was not an attempt
	slot := slotHold(cb.Service, g, desired)
	cb.Holds = holdsFor(cb, opts, &slot)
	return append([]callbackd.Event{back}, evs...), nil
}

// slotsOf returns a stored callback's effective options and its service's
// slot grid, under the configuration in force: what moving the callback
// to another time needs.
func (m *Policy) slotsOf(cb *callbackd.Callback) (*callbackd.Config, callbackd.ServiceOptions, calendar.Grid, error) {
	cfg := m.Config()
	svc, ok := cfg.Service(cb.Service)
	if !ok {
		return cfg, callbackd.ServiceOptions{}, calendar.Grid{}, callbackd.BadConfiguration(cb.Service, "Service undefined: %s", cb.Service)
	}
	opts, _, err := effectiveOptions(cfg, svc, Params(cb.Properties))
	if err != nil {
		return cfg, opts, calendar.Grid{}, err
	}
	g, err := grid(cfg, cb.Service, opts)
	return cfg, opts, g, err
}
