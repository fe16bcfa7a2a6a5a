package callbacks

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/calendar"
)

// proposalsEachSide is how many alternative slots a refusal proposes before
// and after the desired one (spec 001's example shows four before).
const proposalsEachSide = 4

const holdSlot = callbackd.SlotCounterPrefix

// slotKey names the counter of one bucket of a service. The start time is
// zero-padded so keys sort in time order and a range of buckets is one
// index scan.
func slotKey(service string, start time.Time) string {
	return fmt.Sprintf("%s%s/%015d", holdSlot, service, start.UnixMilli())
}

// slotUse returns the units used in the service's buckets starting in
// [from, to), by bucket start in Unix milliseconds.
func (m *Policy) slotUse(ctx context.Context, service string, from, to time.Time) (map[int64]int, error) {
	lo, hi := slotRange(service, from, to)
	counters, err := m.Store.Counters(ctx, lo, hi)
	if err != nil {
		return nil, err
	}
	used := make(map[int64]int, len(counters))
	for _, c := range counters {
		if ms, err := strconv.ParseInt(c.Key[len(c.Key)-15:], 10, 64); err == nil && len(c.Key) >= 15 {
			used[ms] = c.Value
		}
	}
	return used, nil
}

// slotRange is the key range of every bucket of a service starting in
// [from, to).
func slotRange(service string, from, to time.Time) (string, string) {
	return slotKey(service, from), slotKey(service, to)
}

// grid builds the slot grid of a callback service from its options.
func grid(cfg *callbackd.Config, service string, opts callbackd.ServiceOptions) (calendar.Grid, error) {
	g := calendar.Grid{Bucket: opts.RequestTimeBucket, Max: opts.MaxRequestByTimeBucket}
	if name := opts.BusinessHoursService; name != "" {
		oh, ok := cfg.Service(name)
		if !ok || oh.OfficeHours == nil {
			return g, callbackd.BadConfiguration(service, "Option _business_hours_service is invalid: %s is not an office-hours service", name)
		}
		g.Hours = oh.OfficeHours
	}
	if name := opts.CapacityService; name != "" {
		cs, ok := cfg.Service(name)
		if !ok || cs.Capacity == nil {
			return g, callbackd.Errorf(callbackd.CodeCapacityError, map[string]any{"service": service}, "Option _capacity_service is invalid: %s is not a capacity service", name)
		}
		g.Capacity = cs.Capacity
	}
	return g, nil
}

// slotRange renders a bucket as the spec's "[start, end]".
func slotText(s calendar.Slot) string {
	return "[" + callbackd.FormatTime(s.Start) + ", " + callbackd.FormatTime(s.End) + "]"
}

// closedDetail is spec 004's business-hours detail.
func closedDetail(reason string) string {
	return `{"status":"closed","reason":"` + reason + `"}`
}

// checkOpen refuses a desired time at which the office is closed. An
// immediate request gets spec 004's closed-office error; a scheduled one
// gets proposals of open slots with room.
func (m *Manager) checkOpen(ctx context.Context, service string, g calendar.Grid, desired, now time.Time, immediate bool) error {
	if g.Hours == nil {
		return nil
	}
	open, reason := g.Hours.Status(desired)
	if open {
		if _, ok := g.SlotAt(desired); ok {
			return nil
		}
		reason = calendar.ReasonClosedNoMatch // open, but after the last bucket start
	}
	slot, _ := g.SlotAt(desired)
	props := map[string]any{"service": service, "slot": slotText(slot), "status": "closed", "reason": reason}
	if immediate {
		return &callbackd.Error{Code: callbackd.CodeSlotUnavailable, Message: closedDetail(reason), Properties: props}
	}
	return m.proposalError(ctx, service, g, slot, desired, now, props, "Office is closed at desired time slot %s. Proposing time slots.")
}

// proposalError answers SLOT_UNAVAILABLE_PROPOSAL with the nearest open
// slots that have room, or SLOT_UNAVAILABLE when there are none.
func (m *Manager) proposalError(ctx context.Context, service string, g calendar.Grid, slot calendar.Slot, desired, now time.Time, props map[string]any, format string) error {
	horizon := calendar.ProposalHorizon
	used, err := m.slotUse(ctx, service, desired.Add(-horizon), desired.Add(horizon))
	if err != nil {
		return err
	}
	proposals := g.Propose(desired, func(start time.Time) int { return used[start.UnixMilli()] }, proposalsEachSide, now)
	if len(proposals) == 0 {
		return &callbackd.Error{Code: callbackd.CodeSlotUnavailable, Message: "No time slots available.", Properties: props}
	}
	avail := make(map[string]int, len(proposals))
	for _, p := range proposals {
		avail[callbackd.FormatTime(p.Start)] = p.Remaining
	}
	return &callbackd.Error{Code: callbackd.CodeSlotUnavailableProposal, Message: fmt.Sprintf(format, slotText(slot)), Properties: props, Availability: avail}
}

// slotHold is the capacity hold of a callback's bucket.
func slotHold(service string, g calendar.Grid, desired time.Time) callbackd.Hold {
	slot, _ := g.SlotAt(desired)
	return callbackd.Hold{Key: slotKey(service, slot.Start), Limit: max(slot.Total, 0)}
}

// capacityError turns a full bucket into the proposal error.
func (m *Manager) capacityError(ctx context.Context, err error, service string, g calendar.Grid, desired, now time.Time) error {
	var le *callbackd.LimitError
	if !errors.As(err, &le) || !strings.HasPrefix(le.Key, holdSlot) {
		return err
	}
	slot, _ := g.SlotAt(desired)
	props := map[string]any{"service": service, "slot": slotText(slot)}
	return m.proposalError(ctx, service, g, slot, desired, now, props, "Too many requests at desired time slot %s. Proposing time slots.")
}
