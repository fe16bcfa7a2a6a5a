package callbacks

import (
	"context"
	"time"

	"github.com/callbackd/callbackd"
)

// RescheduleAfterCall moves a callback whose call has ended to desired,
// because the agent chose to call the customer again then (the
// disposition dialog). It runs inside the engine's update of the callback:
// the desired time must lie ahead within the booking window and in open
// office hours, and the capacity unit moves to its bucket (a full bucket
// refuses the update with the store's *LimitError, as a Start would be).
func (m *Policy) RescheduleAfterCall(ctx context.Context, cb *callbackd.Callback, desired, now time.Time) ([]callbackd.Event, error) {
	if !desired.After(now) {
		return nil, callbackd.BadParameter(map[string]any{"id": cb.ID, "option": "reschedule"},
			"Callback %s cannot be rescheduled to %s: the time is not in the future", cb.ID, callbackd.FormatTime(desired))
	}
	cfg, opts, g, err := m.slotsOf(cb)
	if err != nil {
		return nil, err
	}
	if err := checkDesiredTime(cfg, cb.ID, desired, now); err != nil {
		return nil, err
	}
	if open, _ := statusAt(g, desired); !open {
		return nil, callbackd.Errorf(callbackd.CodeSlotUnavailable, map[string]any{"id": cb.ID, "service": cb.Service},
			"Callback %s cannot be rescheduled to %s: the office is closed then", cb.ID, callbackd.FormatTime(desired))
	}
	_, due, err := m.initialState(ctx, cfg, cb.Service, opts, desired, now)
	if err != nil {
		return nil, err
	}
	evs, err := cb.RescheduleAfterCall(desired, opts.TTL, due, now, "agent")
	if err != nil {
		return nil, err
	}
	slot := slotHold(cb.Service, g, desired)
	cb.Holds = holdsFor(cb, opts, &slot)
	return evs, nil
}
