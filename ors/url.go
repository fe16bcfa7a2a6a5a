package ors

import (
	"errors"
	"net/url"
	"strings"

	"github.com/callbackd/callbackd"
)

// optionORS is the service option that holds the platform's URL.
const optionORS = "_ors"

// parseURL checks a platform URL. It is used as configured: callbackd adds
// no path for a submission, so a platform may serve the protocol wherever
// it likes (https://dialer.example.com/api/callbacks), query string
// included. The messages never repeat the URL, which may hold credentials.
func parseURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, errors.New("ORS URL missing: option _ors is not set")
	}
	if callbackd.HasToken(raw) {
		return nil, errors.New("ORS URL invalid: option _ors has a $token$ without value")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return nil, errors.New("ORS URL invalid: option _ors must be an absolute http:// or https:// URL")
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// sessionURL is {_ors}/{session id}: the session id becomes one escaped
// path segment (a "/" in it cannot reach another resource), and the
// query string of _ors is kept, so a platform that needs ?tenant=... in
// its submit URL gets it on cancel too.
func sessionURL(base *url.URL, id string) (*url.URL, error) {
	if id == "." || id == ".." {
		return nil, errors.New("ORS session id " + id + " cannot be put in a URL")
	}
	u := *base
	escaped := strings.TrimRight(u.EscapedPath(), "/") + "/" + url.PathEscape(id)
	path, err := url.PathUnescape(escaped)
	if err != nil {
		return nil, errors.New("ORS URL invalid: option _ors has a malformed path")
	}
	u.Path, u.RawPath = path, escaped
	return &u, nil
}

// ConfiguredURL builds Options.URLFor from the live configuration: the
// _ors a callback's submission used, computed again with the rule Start
// applied (callbacks.effectiveOptions): the callback's own _ors property
// when its service lists _ors in _overwritable_options, else the service's
// _ors with its $token$ placeholders filled from the callback.
//
// A property _ors is stored with the callback whenever a request sends one,
// allowed or not, and a PUT can set it later: trusting it unconditionally
// would let anyone who can reach the API point the DELETE, and the Bearer
// token with it, at a host of their choosing.
//
// The configuration is read when the cancel happens. If an operator moves
// a platform, its old URL should keep answering cancels until the
// callbacks it runs are finished.
func ConfiguredURL(config func() *callbackd.Config) func(cb *callbackd.Callback) string {
	return func(cb *callbackd.Callback) string {
		cfg := config()
		if cfg == nil {
			return ""
		}
		svc, ok := cfg.Service(cb.Service)
		if !ok {
			return ""
		}
		if v := strings.TrimSpace(cb.Properties[optionORS]); v != "" &&
			callbackd.RequestMaySet(optionORS, svc.Raw, svc.Options.OverwritableOptions) {
			return v
		}
		v := svc.Raw[optionORS]
		if callbackd.HasToken(v) {
			v = callbackd.SubstituteTokens(v, cb.Get)
		}
		return strings.TrimSpace(v)
	}
}
