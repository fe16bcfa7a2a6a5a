package callbacks

import (
	"github.com/callbackd/callbackd"
)

// effectiveOptions merges a service's configuration with what the request
// may set, substitutes $token$ placeholders with request values (spec 001,
// "Passing Configuration Tokens in Queries"), and parses the result. It
// returns the merged raw options too: they are what execution receives.
func effectiveOptions(cfg *callbackd.Config, svc *callbackd.ServiceConfig, p Params) (callbackd.ServiceOptions, map[string]string, error) {
	raw := make(map[string]string, len(svc.Raw))
	changed := false
	for k, v := range svc.Raw {
		if callbackd.HasToken(v) {
			v = callbackd.SubstituteTokens(v, func(name string) (string, bool) { val, ok := p[name]; return val, ok })
			changed = true // even unsubstituted, the token must be checked now
		}
		raw[k] = v
	}
	if changed { // some option had a token: every known one must be filled now
		for _, k := range sortedKeys(raw) {
			if v := raw[k]; callbackd.KnownServiceOption(k) && callbackd.HasToken(v) {
				return svc.Options, raw, callbackd.BadConfiguration(svc.Name, "Option service.%s / %s is invalid: no value for %s in the request", svc.Name, k, v)
			}
		}
	}
	fromRequest := map[string]bool{}
	for k, v := range p {
		if len(k) < 2 || k[0] != '_' || !callbackd.KnownServiceOption(k) {
			continue
		}
		if callbackd.RequestMaySet(k, svc.Raw, svc.Options.OverwritableOptions) {
			raw[k] = v
			fromRequest[k] = true
			changed = true
		}
	}
	if !changed {
		return svc.Options, raw, nil
	}
	opts, errs := callbackd.ParseServiceOptions(raw, cfg.Callback)
	for _, e := range errs {
		if fromRequest[e.Option] {
			return opts, raw, callbackd.BadParameter(map[string]any{"option": e.Option},
				"Invalid value [%s] for option %s: %s", e.Value, e.Option, e.Message)
		}
		return opts, raw, callbackd.BadConfiguration(svc.Name, "Option service.%s / %s is invalid: %s", svc.Name, e.Option, e.Message)
	}
	return opts, raw, nil
}

// ExecutionParams are what execution receives for a callback (spec 001:
// "the provisioned data for the execution service ... along with the input
// parameters from the request"): the service's options with the request's
// allowed overrides and $token$ values, then the callback's properties.
// Options win over a property of the same name, so a stored value can
// never steer execution (for example _ors) unless the service allows it.
func ExecutionParams(cfg *callbackd.Config, cb *callbackd.Callback) (callbackd.ServiceOptions, map[string]string, error) {
	svc, ok := cfg.Service(cb.Service)
	if !ok || svc.Kind != callbackd.KindCallback {
		return callbackd.ServiceOptions{}, nil, callbackd.BadConfiguration(cb.Service, "Service undefined: %s", cb.Service)
	}
	opts, raw, err := effectiveOptions(cfg, svc, Params(cb.Properties))
	if err != nil {
		return opts, nil, err
	}
	params := make(map[string]string, len(cb.Properties)+len(raw))
	for k, v := range cb.Properties {
		params[k] = v
	}
	for k, v := range raw {
		params[k] = v
	}
	return opts, params, nil
}

// Execution is what the dispatcher submits a claimed callback with: its
// effective options and parameters (ExecutionParams), and the key of its
// service's pause switch.
func (m *Policy) Execution(cb *callbackd.Callback) (callbackd.ServiceOptions, map[string]string, string, error) {
	opts, params, err := ExecutionParams(m.Config(), cb)
	if err != nil {
		return opts, nil, "", err
	}
	return opts, params, PauseKey(cb.Service, opts), nil
}
