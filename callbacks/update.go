package callbacks

import (
	"context"
	"strings"
	"time"

	"github.com/callbackd/callbackd"
)

// readOnlyOnUpdate are properties a PUT cannot set: the service owns them,
// or another parameter changes them (_new_desired_time).
var readOnlyOnUpdate = map[string]string{
	callbackd.KeyID:             "",
	callbackd.KeyServiceName:    "",
	callbackd.KeyDesiredTime:    " (use _new_desired_time to reschedule)",
	callbackd.KeyExpirationTime: "",
	callbackd.KeySubmitAttempts: "",
	"_url":                      "",
	"url":                       "",
}

// Update reschedules a callback or updates its state and properties
// (Reschedule-Callback, spec 001). The execution side reports progress
// through it with _callback_state.
func (m *Manager) Update(ctx context.Context, service, id string, p Params) error {
	cfg := m.Config()
	now := m.Clock.Now().UTC()
	if _, err := callbackService(cfg, service); err != nil {
		return err
	}
	newTime, hasNewTime := p["_new_desired_time"]
	stateParam, hasState := p[callbackd.KeyState]
	hasNewTime = hasNewTime && strings.TrimSpace(newTime) != ""
	hasState = hasState && strings.TrimSpace(stateParam) != ""
	if hasNewTime && hasState {
		return callbackd.BadParameter(map[string]any{"id": id, "option": callbackd.KeyState},
			"Callback %s: _callback_state is incompatible with _new_desired_time", id)
	}
	for k := range p {
		if why, ro := readOnlyOnUpdate[k]; ro {
			return callbackd.BadParameter(map[string]any{"id": id, "option": k}, "Property %s of callback %s cannot be updated%s", k, id, why)
		}
	}
	cb, err := m.load(ctx, cfg, service, id, now)
	if err != nil {
		return err
	}
	svc, ok := cfg.Service(cb.Service)
	if !ok || svc.Kind != callbackd.KindCallback {
		return callbackd.InvalidOperation(map[string]any{"id": id, "service": cb.Service}, "Invalid service stored for callback %s.", id)
	}
	opts := svc.Options
	if opts.Type == callbackd.TypeBuiltin {
		if err := engineOwns(cb, p); err != nil {
			return err
		}
	}

	// Everything that needs parsing or I/O happens before the transaction.
	var desired = cb.DesiredTime
	var newState callbackd.State
	var dueAt time.Time
	var reason callbackd.Reason
	var slot *callbackd.Hold
	g, err := grid(cfg, svc.Name, opts)
	if err != nil {
		return err
	}
	if hasNewTime {
		if desired, err = parseTimeParam("_new_desired_time", newTime, id); err != nil {
			return err
		}
		if err := checkDesiredTime(cfg, id, desired, now); err != nil {
			return err
		}
		if newState, dueAt, err = m.initialState(ctx, cfg, svc.Name, opts, desired, now); err != nil {
			return err
		}
		if cb.State == callbackd.StateScheduled { // else Reschedule refuses below
			if err := m.checkOpen(ctx, svc.Name, g, desired, now, false); err != nil {
				return err
			}
		}
		h := slotHold(svc.Name, g, desired)
		if h.Limit == 0 {
			return m.capacityError(ctx, &callbackd.LimitError{Key: h.Key}, svc.Name, g, desired, now)
		}
		slot = &h
	}
	if hasState {
		if newState, err = parseStateParam(stateParam, id); err != nil {
			return err
		}
		if reason, err = parseReason(p, id); err != nil {
			return err
		}
	}

	_, err = m.Store.UpdateCallback(ctx, id, func(cb *callbackd.Callback) ([]callbackd.Event, error) {
		if cb.State == callbackd.StateCompleted {
			// Any change, even an empty one, of a finished record is refused.
			_, err := cb.Transition(callbackd.StateCompleted, "", now, "api")
			return nil, err
		}
		var events []callbackd.Event
		switch {
		case hasNewTime:
			evs, err := cb.Reschedule(desired, opts.TTL, newState, now, "api")
			if err != nil {
				return nil, err
			}
			if opts.Executed() {
				cb.DueAt = dueAt
			}
			events = append(events, evs...)
		case hasState && newState != cb.State:
			ev, err := cb.Transition(newState, reason, now, "api")
			if err != nil {
				return nil, err
			}
			events = append(events, ev)
		}
		for _, k := range sortedKeys(p) {
			if k == "_new_desired_time" || k == callbackd.KeyState || k == callbackd.KeyReason || k == "_reason" {
				continue
			}
			if err := cb.SetProperty(k, p[k], now); err != nil {
				return nil, err
			}
		}
		if p[callbackd.KeyCustomerNumber] != "" {
			if err := checkNumberPolicy(cfg, svc.Name, opts, Params{callbackd.KeyCustomerNumber: cb.CustomerNumber}); err != nil {
				return nil, err
			}
		}
		cb.Lookup = lookupValues(cb, opts)
		cb.Holds = holdsFor(cb, opts, slot)
		return events, nil
	})
	return limitError(m.capacityError(ctx, err, svc.Name, g, desired, now), svc.Name, opts, p)
}

// engineOwns refuses a PUT that would change what the built-in engine
// decides: its own properties, at any time, and the state of a callback
// it is running (handed over, not finished). A client cancels with DELETE;
// an orchestration platform's progress reports have no place here.
func engineOwns(cb *callbackd.Callback, p Params) error {
	for _, k := range sortedKeys(p) {
		if callbackd.IsEngineKey(k) {
			return callbackd.BadParameter(map[string]any{"id": cb.ID, "option": k},
				"Property %s of callback %s cannot be updated (the built-in engine sets it)", k, cb.ID)
		}
	}
	running := cb.SessionID != "" && cb.State != callbackd.StateCompleted
	if _, ok := p[callbackd.KeyState]; ok && running {
		return callbackd.InvalidOperation(map[string]any{"id": cb.ID, "service": cb.Service, "state": string(cb.State)},
			"Callback %s is being executed by the built-in engine; its state changes through the engine (cancel it with DELETE)", cb.ID)
	}
	return nil
}
