// Package callbacks holds the use cases of the Callback Services API:
// start (or schedule), cancel, reschedule/update and query. It decides
// everything a request can be refused for, in the order and with the
// messages of spec 001, and leaves transport (HTTP) and storage (Store) to
// other packages.
//
// Every state change goes through the domain's Callback methods inside
// Store.UpdateCallback, so the check ("is it still SCHEDULED?") and the
// write happen in one transaction: two concurrent requests can never both
// act on the same state.
package callbacks

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/callbackd/callbackd"
)

// Params are a request's parameters, flattened to strings (JSON booleans
// and numbers arrive as their text).
type Params map[string]string

// Policy holds the rules that requests and the dispatcher share: when a
// callback is due, what a late one becomes, whether its service is
// paused, what execution receives. The dispatcher holds a Policy, the
// Manager embeds the same one, so neither needs the other to be built.
// Store, Clock and Config are required.
type Policy struct {
	Store  callbackd.Store
	Clock  callbackd.Clock
	Config func() *callbackd.Config
	// EWT estimates waiting times; nil uses the [callback] static-ewt.
	EWT callbackd.EWTProvider
}

// Submitter hands an immediate callback to execution within the client's
// request (the dispatcher's SubmitNow).
type Submitter interface {
	SubmitNow(ctx context.Context, id string) error
}

// Manager runs the use cases. Policy is required.
type Manager struct {
	*Policy
	// Executor cancels callbacks already handed to execution; nil while no
	// execution side is configured.
	Executor callbackd.Executor
	// Queue tells queue positions from the execution side; nil answers
	// from callbackd's own records (the HTTP hand-off has no such call).
	Queue callbackd.QueueReporter
	// NewID makes callback ids; nil uses time-ordered UUIDs (v7), which
	// keep the store's primary-key index append-mostly.
	NewID func() string
	// Submitter hands immediate callbacks to execution before Start
	// answers, as GMS did; nil leaves them to the dispatch loop.
	Submitter Submitter
}

func (m *Manager) newID() string {
	if m.NewID != nil {
		return m.NewID()
	}
	return uuid.Must(uuid.NewV7()).String()
}

func (m *Policy) ewt(ctx context.Context, cfg *callbackd.Config, service, stat string) (time.Duration, error) {
	if m.EWT != nil {
		return m.EWT.EWT(ctx, service, stat)
	}
	return callbackd.StaticEWT{Value: cfg.Callback.StaticEWT}.EWT(ctx, service, stat)
}

// callbackService returns the callback service named in the URL.
func callbackService(cfg *callbackd.Config, name string) (*callbackd.ServiceConfig, error) {
	svc, ok := cfg.Service(name)
	if !ok {
		return nil, callbackd.BadParameter(map[string]any{"service": name}, "Service undefined: %s", name)
	}
	if svc.Kind != callbackd.KindCallback {
		return nil, callbackd.BadConfiguration(name, "Service %s has option _service != callback", name)
	}
	return svc, nil
}

// notFound is CALLBACK_NOT_FOUND for an id.
func notFound(id, service string, now time.Time) *callbackd.Error {
	return callbackd.Errorf(callbackd.CodeCallbackNotFound,
		map[string]any{"id": id, "service": service, "time": callbackd.FormatTime(now)},
		"Callback %s cannot be found", id)
}

// load fetches the callback addressed by a URL /{service}/{id}. A callback
// of another service is "not found", unless the URL's service redirects to
// the record's service (the client only knows the service it called).
func (m *Manager) load(ctx context.Context, cfg *callbackd.Config, service, id string, now time.Time) (*callbackd.Callback, error) {
	cb, err := m.Store.GetCallback(ctx, id)
	if errors.Is(err, callbackd.ErrNotFound) {
		return nil, notFound(id, service, now)
	}
	if err != nil {
		return nil, err
	}
	if !reaches(cfg, service, cb.Service) {
		return nil, notFound(id, service, now)
	}
	return cb, nil
}

// reaches reports whether a request to service from can end up in service
// to by configured redirection.
func reaches(cfg *callbackd.Config, from, to string) bool {
	seen := map[string]bool{}
	for name := from; name != "" && !seen[name]; {
		if name == to {
			return true
		}
		seen[name] = true
		svc, ok := cfg.Service(name)
		if !ok {
			return false
		}
		name = svc.Options.Redirect
	}
	return false
}

// checkDesiredTime applies the window of acceptable desired times.
func checkDesiredTime(cfg *callbackd.Config, id string, desired, now time.Time) error {
	tol, ahead := cfg.Callback.DesiredTimeTolerance, cfg.Callback.DesiredTimeMaxAhead
	delta := desired.Sub(now)
	window := func() []any {
		return []any{int64(tol / time.Second), int64(delta / time.Second), int64(ahead / time.Second), desired.Unix()}
	}
	props := map[string]any{"id": id}
	if delta < -tol {
		return callbackd.BadParameter(props, "Callback %s contains _desired_time property in the past (-%ds < %ds < %ds) - epoch %ds", append([]any{id}, window()...)...)
	}
	if delta > ahead {
		return callbackd.BadParameter(props, "Callback request contains _desired_time property too far in future (-%ds < %ds < %ds) - epoch %ds", window()...)
	}
	return nil
}

// parseTimeParam reads a time parameter or answers BAD_PARAMETER naming it.
func parseTimeParam(name, value, id string) (time.Time, error) {
	t, err := callbackd.ParseTime(value)
	if err != nil {
		props := map[string]any{"option": name}
		if id != "" {
			props["id"] = id
		}
		return time.Time{}, callbackd.BadParameter(props, "Invalid %s [%s]: expected an ISO 8601 time such as 2013-05-28T15:30:00.000Z", name, value)
	}
	return t, nil
}

// initialState applies the domain's ExecutionPlan with the service's
// estimated wait time.
func (m *Policy) initialState(ctx context.Context, cfg *callbackd.Config, service string, opts callbackd.ServiceOptions, desired, now time.Time) (callbackd.State, time.Time, error) {
	ewt, err := m.ewt(ctx, cfg, service, opts.RequestQueueTimeStat)
	if err != nil {
		return "", time.Time{}, err
	}
	state, due := callbackd.ExecutionPlan(opts, desired, now, ewt)
	return state, due, nil
}

// parseReason reads _callback_reason (or the _reason the spec's ORS sample
// sends); empty means "none given".
func parseReason(p Params, id string) (callbackd.Reason, error) {
	v := p[callbackd.KeyReason]
	if strings.TrimSpace(v) == "" {
		v = p["_reason"]
	}
	if strings.TrimSpace(v) == "" {
		return "", nil
	}
	r, ok := callbackd.ParseReason(v)
	if !ok {
		return "", callbackd.BadParameter(map[string]any{"id": id, "option": callbackd.KeyReason}, "Invalid _callback_reason [%s]: not a reason of the Callback API", v)
	}
	return r, nil
}

func parseStateParam(v, id string) (callbackd.State, error) {
	st, ok := callbackd.ParseState(v)
	if !ok {
		names := make([]string, len(callbackd.States))
		for i, s := range callbackd.States {
			names[i] = string(s)
		}
		return "", callbackd.BadParameter(map[string]any{"id": id, "option": callbackd.KeyState},
			"Invalid _callback_state [%s]: must be one of %s", v, strings.Join(names, ", "))
	}
	return st, nil
}

// sortedKeys gives deterministic iteration for messages and tests.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

var errNoExecutor = fmt.Errorf("no execution service is configured")
