package callbacks

import (
	"context"
	"net/url"
	"slices"
	"strings"

	"github.com/callbackd/callbackd"
)

// Query finds callbacks by lookup properties (Query-Callback by Lookup
// Properties, spec 001). service may be "" to search every service.
func (m *Manager) Query(ctx context.Context, service string, params url.Values) ([]*callbackd.Callback, error) {
	cfg := m.Config()
	allowed := []string{callbackd.KeyID}
	var countries []string // how each service in scope normalises numbers
	if service != "" {
		svc, err := callbackService(cfg, service)
		if err != nil {
			return nil, err
		}
		allowed = append(allowed, svc.Options.CustomerLookupKeys...)
		countries = append(countries, svc.Options.DefaultCountry)
	} else {
		for _, name := range sortedKeys(cfg.Services) {
			if svc := cfg.Services[name]; svc.Kind == callbackd.KindCallback {
				allowed = append(allowed, svc.Options.CustomerLookupKeys...)
				if !slices.Contains(countries, svc.Options.DefaultCountry) {
					countries = append(countries, svc.Options.DefaultCountry)
				}
			}
		}
	}

	q := callbackd.Query{Service: service}
	var unknown []string
	for _, k := range sortedKeys(params) {
		vals := params[k]
		v := ""
		if len(vals) > 0 {
			v = vals[len(vals)-1]
		}
		switch k {
		case "operand":
			switch strings.ToUpper(strings.TrimSpace(v)) {
			case "AND", "":
			case "OR":
				q.Any = true
			default:
				return nil, callbackd.BadParameter(map[string]any{"option": "operand"}, "Invalid operand [%s]: must be AND or OR", v)
			}
		case callbackd.KeyState:
			neg := strings.HasPrefix(strings.TrimSpace(v), "!")
			st, err := parseStateParam(strings.TrimPrefix(strings.TrimSpace(v), "!"), "")
			if err != nil {
				return nil, err
			}
			q.States, q.NotStates = []callbackd.State{st}, neg
		case "_desired_time_from", "_desired_time_to":
			t, err := parseTimeParam(k, v, "")
			if err != nil {
				return nil, err
			}
			if k == "_desired_time_from" {
				q.DesiredFrom = t
			} else {
				q.DesiredTo = t
			}
		default:
			if !slices.Contains(allowed, k) {
				unknown = append(unknown, k)
				continue
			}
			for _, val := range vals {
				for _, country := range countries {
					q.Lookups = append(q.Lookups, callbackd.KeyValue{Key: k, Value: lookupValue(k, val, country)})
				}
			}
		}
	}
	if len(unknown) > 0 {
		props := strings.Join(unknown, ",")
		return nil, callbackd.BadParameter(map[string]any{"properties": props}, "No such lookup possible for %s", props)
	}
	if len(q.Lookups) == 0 {
		return nil, callbackd.BadParameter(nil, "No lookup possible. No properties to look for.")
	}
	return m.Store.FindCallbacks(ctx, q)
}

// baseRecord holds the keys every rendering of a callback has.
func baseRecord(cb *callbackd.Callback) map[string]string {
	url := "/1/service/callback/" + cb.Service + "/" + cb.ID
	rec := map[string]string{
		callbackd.KeyID:             cb.ID,
		callbackd.KeyDesiredTime:    callbackd.FormatTime(cb.DesiredTime),
		callbackd.KeyServiceName:    cb.Service,
		callbackd.KeyState:          string(cb.State),
		callbackd.KeyCustomerNumber: cb.CustomerNumber,
		"url":                       url,
		"_url":                      url,
	}
	if cb.Reason != "" {
		rec[callbackd.KeyReason] = string(cb.Reason)
	}
	return rec
}

// Record renders a callback as queries return it: the keys spec 001 says
// are always returned, the service's lookup keys, the configured
// returned-keys, and the user data. Values are strings, as clients expect.
// Both spellings clients read are sent for the desired time and the URL.
func Record(cfg *callbackd.Config, cb *callbackd.Callback) map[string]string {
	rec := baseRecord(cb)
	rec["desired_time"] = rec[callbackd.KeyDesiredTime]
	rec[callbackd.KeyExpirationTime] = callbackd.FormatTime(cb.ExpirationTime)
	keys := cfg.Callback.ReturnedKeys
	if svc, ok := cfg.Service(cb.Service); ok {
		keys = append(slices.Clip(keys), svc.Options.CustomerLookupKeys...)
	}
	for _, k := range keys {
		if v, ok := cb.Get(k); ok {
			rec[k] = v
		}
	}
	for k, v := range cb.Properties {
		if !strings.HasPrefix(k, "_") {
			rec[k] = v
		}
	}
	return rec
}

// QueueRecord renders a callback in an admin queue listing: the fields of
// the spec's example (_customer_number, _callback_state, _desired_time,
// _id, url), _service_name, _url and _callback_reason as Record sends
// them, and the configured returned-keys.
func QueueRecord(cfg *callbackd.Config, cb *callbackd.Callback) map[string]string {
	rec := baseRecord(cb)
	for _, k := range cfg.Callback.ReturnedKeys {
		if v, ok := cb.Get(k); ok {
			rec[k] = v
		}
	}
	return rec
}
