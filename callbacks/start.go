package callbacks

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/calendar"
)

// maxRedirects bounds _redirect chains; a longer chain is a configuration
// mistake, answered as SERVICE_REDIRECT_FAILED.
const maxRedirects = 8

// reservedOnCreate are parameters the service owns: a Start request cannot
// store them as properties (they are read into typed fields or ignored).
var reservedOnCreate = map[string]bool{
	callbackd.KeyID: true, callbackd.KeyServiceName: true, callbackd.KeyState: true,
	callbackd.KeyReason: true, callbackd.KeyCustomerNumber: true, callbackd.KeyDesiredTime: true,
	callbackd.KeyExpirationTime: true, callbackd.KeySessionID: true, callbackd.KeySubmitAttempts: true,
	"_url": true, "url": true,
}

// notCopied are excluded when redialling with _copy_from_id (spec 001:
// "internal retry flags and properties such as _callback_state,
// _ors_session_id, _desired_time will be ignored").
var notCopied = map[string]bool{"_copy_from_id": true, "_reason": true}

// StartResult is an accepted callback.
type StartResult struct {
	Callback *callbackd.Callback
	// Immediate is true when the callback goes to execution now rather
	// than at a later desired time.
	Immediate bool
}

// Start validates and stores a new callback (Start-Callback, spec 001).
// The callback is durable when Start returns.
func (m *Manager) Start(ctx context.Context, service string, p Params) (*StartResult, error) {
	n, err := m.prepare(ctx, service, p)
	if err != nil {
		m.rejected(ctx, service, p, err)
		return nil, err
	}
	if err := m.Store.CreateCallback(ctx, n.cb, []callbackd.Event{n.cb.Accepted(n.now, "api")}); err != nil {
		err = limitError(m.capacityError(ctx, err, n.svc.Name, n.grid, n.cb.DesiredTime, n.now), n.svc.Name, n.opts, n.params)
		m.rejected(ctx, n.svc.Name, p, err)
		return nil, err
	}
	// The callback is durable. An immediate one is handed to execution
	// before answering, as GMS did: a failure is the client's 50006/50030.
	if n.immediate && n.opts.Executed() && m.Submitter != nil {
		if err := m.Submitter.SubmitNow(ctx, n.cb.ID); err != nil {
			return nil, err
		}
	}
	return &StartResult{Callback: n.cb, Immediate: n.immediate}, nil
}

// newCallback is a validated callback ready to be stored, with what is
// needed to explain a refusal by the store.
type newCallback struct {
	cb        *callbackd.Callback
	svc       *callbackd.ServiceConfig
	opts      callbackd.ServiceOptions
	grid      calendar.Grid
	params    Params
	now       time.Time
	immediate bool
}

// prepare runs every check of Start-Callback that does not need the store's
// transaction, in the order of spec 001, and builds the record with its
// holds.
func (m *Manager) prepare(ctx context.Context, service string, p Params) (*newCallback, error) {
	cfg := m.Config()
	now := m.Clock.Now().UTC()
	id := m.newID()

	if src := strings.TrimSpace(p["_copy_from_id"]); src != "" {
		merged, err := m.copyFrom(ctx, service, src, p, now)
		if err != nil {
			return nil, err
		}
		p = merged
	}

	svc, opts, err := resolveRedirects(cfg, service, p)
	if err != nil {
		return nil, err
	}

	var missing []string
	for _, k := range opts.MandatoryLookupKeys {
		if strings.TrimSpace(p[k]) == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		keys := strings.Join(missing, ",")
		return nil, callbackd.BadParameter(map[string]any{"id": id, "keys": keys},
			"Callback %s does not contain the mandatory customer lookup keys %s", id, keys)
	}

	desired := now
	if v := strings.TrimSpace(p[callbackd.KeyDesiredTime]); v != "" {
		if desired, err = parseTimeParam(callbackd.KeyDesiredTime, v, id); err != nil {
			return nil, err
		}
		if err := checkDesiredTime(cfg, id, desired, now); err != nil {
			return nil, err
		}
	}

	g, err := grid(cfg, svc.Name, opts)
	if err != nil {
		return nil, err
	}
	state, dueAt, err := m.initialState(ctx, cfg, svc.Name, opts, desired, now)
	if err != nil {
		return nil, err
	}
	immediate := state == callbackd.StateQueued
	var reason callbackd.Reason
	if v := strings.TrimSpace(p[callbackd.KeyState]); v != "" {
		if state, err = parseStateParam(v, id); err != nil {
			return nil, err
		}
		if state == callbackd.StateCompleted {
			if reason, err = parseReason(p, id); err != nil {
				return nil, err
			}
			if reason == "" {
				reason = callbackd.ReasonNotAvailable
			}
		}
	}

	if err := checkNumberPolicy(cfg, svc.Name, opts, p); err != nil {
		return nil, err
	}
	if err := m.checkOpen(ctx, svc.Name, g, desired, now, immediate); err != nil {
		return nil, err
	}
	slot := slotHold(svc.Name, g, desired)
	if slot.Limit == 0 { // an open bucket without capacity is a full one
		return nil, m.capacityError(ctx, &callbackd.LimitError{Key: slot.Key}, svc.Name, g, desired, now)
	}

	cb := &callbackd.Callback{
		ID: id, Service: svc.Name, State: state, Reason: reason,
		CustomerNumber: strings.TrimSpace(p[callbackd.KeyCustomerNumber]),
		DesiredTime:    desired, ExpirationTime: desired.Add(opts.TTL),
		CreatedAt: now, UpdatedAt: now,
		Properties: make(map[string]string, len(p)),
	}
	if opts.Executed() && (state == callbackd.StateScheduled || state == callbackd.StateQueued) {
		cb.DueAt = dueAt // a forced ROUTING, PROCESSING... is handled elsewhere
	}
	for k, v := range p {
		// An option the request may not set is dropped rather than kept as
		// a property, so nothing later can mistake it for configuration.
		refused := callbackd.KnownServiceOption(k) && !callbackd.RequestMaySet(k, svc.Raw, svc.Options.OverwritableOptions)
		// The built-in engine's own state is never taken from a client.
		engineOwned := opts.Type == callbackd.TypeBuiltin && callbackd.IsEngineKey(k)
		if !reservedOnCreate[k] && !refused && !engineOwned {
			cb.Properties[k] = v
		}
	}
	if service != svc.Name {
		cb.Properties["_redirected_from"] = service
	}
	if strings.TrimSpace(p["_originating_interaction_id"]) != "" {
		start := now // spec 003: the request time, or the scheduled time
		if state == callbackd.StateScheduled {
			start = desired
		}
		cb.Properties["_CB_SERVICE_ID"] = id
		cb.Properties["_CB_T_SERVICE_START"] = strconv.FormatInt(start.Unix(), 10)
		cb.Properties["_CB_T_CALLBACK_ACCEPTED"] = strconv.FormatInt(now.Unix(), 10)
	}
	cb.Lookup = lookupValues(cb, opts)
	cb.Holds = holdsFor(cb, opts, &slot)
	if state != callbackd.StateCompleted {
		throttles, err := throttleHolds(svc.Name, opts, g.Location(), p, immediate && state == callbackd.StateQueued, now)
		if err != nil {
			return nil, err
		}
		cb.Holds = append(cb.Holds, throttles...)
	}
	return &newCallback{cb: cb, svc: svc, opts: opts, grid: g, params: p, now: now,
		immediate: immediate && state == callbackd.StateQueued}, nil
}

// resolveRedirects follows _redirect from the service in the URL to the
// service that takes the request, and returns that service's effective
// options.
func resolveRedirects(cfg *callbackd.Config, service string, p Params) (*callbackd.ServiceConfig, callbackd.ServiceOptions, error) {
	chain := []string{service}
	for {
		name := chain[len(chain)-1]
		svc, err := callbackService(cfg, name)
		if err != nil {
			if len(chain) > 1 {
				return nil, callbackd.ServiceOptions{}, redirectFailed(service, chain, err.(*callbackd.Error).Message)
			}
			return nil, callbackd.ServiceOptions{}, err
		}
		opts, _, err := effectiveOptions(cfg, svc, p)
		if err != nil {
			return nil, opts, err
		}
		next := opts.Redirect
		if next == "" || next == name {
			return svc, opts, nil
		}
		for _, seen := range chain {
			if seen == next {
				return nil, opts, redirectFailed(service, append(chain, next), "redirect loop")
			}
		}
		if len(chain) > maxRedirects {
			return nil, opts, redirectFailed(service, chain, "too many redirects")
		}
		chain = append(chain, next)
	}
}

func redirectFailed(service string, chain []string, why string) *callbackd.Error {
	return callbackd.Errorf(callbackd.CodeServiceRedirectFailed, map[string]any{"service": service},
		"Redirect %s failed: %s", strings.Join(chain, " -> "), why)
}

// copyFrom merges a COMPLETED callback's properties under the request's
// (redial, spec 001 "_copy_from_id").
func (m *Manager) copyFrom(ctx context.Context, service, src string, p Params, now time.Time) (Params, error) {
	orig, err := m.Store.GetCallback(ctx, src)
	if errors.Is(err, callbackd.ErrNotFound) {
		return nil, callbackd.Errorf(callbackd.CodeCallbackNotFound,
			map[string]any{"id": src, "service": service, "time": callbackd.FormatTime(now)},
			"Callback %s to copy from cannot be found", src)
	}
	if err != nil {
		return nil, err
	}
	if orig.State != callbackd.StateCompleted {
		return nil, callbackd.InvalidOperation(
			map[string]any{"id": src, "service": orig.Service, "state": string(orig.State)},
			"Request cannot be processed because callback %s to copy is not COMPLETED. Check parameter _copy_from_id", src)
	}
	merged := Params{}
	for k, v := range orig.Properties {
		if !notCopied[k] && !reservedOnCreate[k] {
			merged[k] = v
		}
	}
	if orig.CustomerNumber != "" {
		merged[callbackd.KeyCustomerNumber] = orig.CustomerNumber
	}
	for k, v := range p {
		merged[k] = v
	}
	return merged, nil
}

// rejected records a refused Start request for reporting (spec 001: "Sends
// a reporting event ... indicating that the callback request has been
// rejected"). Only refusals the client is told about are recorded; a
// failure to record does not change the client's answer.
func (m *Manager) rejected(ctx context.Context, service string, p Params, err error) {
	e, ok := callbackd.AsError(err)
	if !ok || e.Code == callbackd.CodeUnavailable {
		return
	}
	ev := callbackd.Event{Time: m.Clock.Now().UTC(), Service: service, Type: callbackd.EventRejected, Source: "api"}
	if id, ok := e.Properties["id"].(string); ok {
		ev.CallbackID = id
	}
	ev.WithProps("code", strconv.Itoa(int(e.Code)), "message", e.Message)
	// The message may quote the number: the event is the customer's, and
	// Forget-me finds it by its normalised number.
	country := ""
	if svc, ok := m.Config().Service(service); ok {
		country = svc.Options.DefaultCountry
	}
	ev.Subject = lookupValue(callbackd.KeyCustomerNumber, p[callbackd.KeyCustomerNumber], country)
	for _, k := range callbackd.ReportingKeys[:1] {
		if v := p[k]; v != "" {
			ev.WithProps(k, v)
		}
	}
	_ = m.Store.AppendEvents(context.WithoutCancel(ctx), []callbackd.Event{ev})
}
