package ors

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/callbackd/callbackd"
)

// DefaultTimeout bounds one request to the platform when Options.Client is
// nil. Submission happens while a callback is due, so a platform that hangs
// must fail fast enough to leave room for the retries.
const DefaultTimeout = 10 * time.Second

// DefaultUserAgent is sent when Options.UserAgent is empty, so that the
// platform's logs say who called.
const DefaultUserAgent = "callbackd"

// DefaultConns is how many idle connections to one platform the default
// client keeps when Options.Conns is 0. net/http keeps 2: with more
// submissions in flight than that, every answer beyond the second closes
// its connection and the next submission dials a new one (a TCP handshake,
// two goroutines and a TIME_WAIT socket per callback), which cost more CPU
// than the submission itself.
const DefaultConns = 64

// Fields of the submit request that callbackd owns. They are written after
// the submission's parameters, so a parameter of the same name never
// replaces them.
const (
	FieldAttempt        = "_attempt"
	FieldIdempotencyKey = "_idempotency_key"
	FieldProgressURL    = "_progress_url"
)

// Options configures an Executor.
type Options struct {
	// Client sends the requests; nil uses a client with DefaultTimeout
	// whose transport keeps Conns idle connections per platform. The
	// Executor uses a copy whose CheckRedirect refuses redirects (see the
	// package doc), so the caller's client is never changed.
	Client *http.Client
	// Conns is how many idle connections per platform the default client
	// keeps for reuse: the number of submissions in flight (the
	// dispatcher's workers), so that a busy dispatcher never dials again.
	// 0 is DefaultConns; ignored when Client is set.
	Conns int
	// UserAgent is the User-Agent header; empty sends DefaultUserAgent.
	UserAgent string
	// Token, when set, is sent as "Authorization: Bearer <Token>" on every
	// request, so the platform can tell callbackd from anyone else who can
	// reach it. Empty sends no Authorization header.
	Token string
	// URLFor returns the platform URL (the effective _ors) for a callback
	// that is being cancelled: the Callback does not carry its service's
	// options. ConfiguredURL builds it from the configuration. Nil, or an
	// empty answer, makes Cancel fail with a message naming the service.
	URLFor func(cb *callbackd.Callback) string
}

// Executor hands callbacks to an external platform over HTTP. It implements
// callbackd.Executor and is safe for concurrent use.
type Executor struct {
	client    *http.Client
	userAgent string
	token     string
	urlFor    func(cb *callbackd.Callback) string
}

var _ callbackd.Executor = (*Executor)(nil)

// New returns an Executor. The zero Options are usable for Submit; Cancel
// needs URLFor.
func New(opts Options) *Executor {
	var c http.Client
	if opts.Client != nil {
		c = *opts.Client
	} else {
		c.Timeout = DefaultTimeout
		c.Transport = transport(opts.Conns)
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	ua := opts.UserAgent
	if ua == "" {
		ua = DefaultUserAgent
	}
	return &Executor{client: &c, userAgent: ua, token: opts.Token, urlFor: opts.URLFor}
}

// Submit posts one submission attempt to the platform at s.Params["_ors"]
// and returns the session it started (or had already started for the same
// Idempotency-Key). Every failure is a *callbackd.SubmitError: retryable
// for network errors, timeouts, 408, 429 and 5xx; final for a missing or
// invalid URL, any other refusal, and an answer without a session id
// ("Invalid ORS response").
func (e *Executor) Submit(ctx context.Context, s callbackd.Submission) (string, error) {
	cb := s.Callback
	if cb == nil {
		return "", final("No callback to submit")
	}
	target, err := parseURL(s.Params[optionORS])
	if err != nil {
		return "", final(err.Error())
	}
	key := s.IdempotencyKey
	if key == "" {
		key = callbackd.IdempotencyKey(cb.ID, s.Attempt)
	}
	body, err := json.Marshal(submitBody(s, key))
	if err != nil { // a map of strings always marshals; kept for safety
		return "", final("Cannot encode the submission: " + err.Error())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), bytes.NewReader(body))
	if err != nil {
		return "", final("Cannot build the ORS request: " + err.Error())
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	e.decorate(req)

	resp, err := e.client.Do(req)
	if err != nil {
		return "", retryable("ORS request failed: " + transportError(err))
	}
	defer resp.Body.Close()
	data, tooLarge, err := readBounded(resp)
	if err != nil {
		return "", retryable(fmt.Sprintf("ORS request failed: reading the %s answer: %v", statusLine(resp.StatusCode), err))
	}
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		if tooLarge {
			return "", final(fmt.Sprintf("%s: %s answer larger than %d bytes", invalidResponse, statusLine(code), MaxResponseBytes))
		}
		id, err := sessionID(data)
		if err != nil {
			return "", final(fmt.Sprintf("%s: %s answer %v", invalidResponse, statusLine(code), err))
		}
		return id, nil
	case mayPass(code):
		return "", retryable(refusal(code, data))
	default:
		return "", final(refusal(code, data))
	}
}

// Cancel asks the platform to stop the callback's session: DELETE
// {_ors}/{session id}. 200, 202 and 204 mean stopped; 404 and 410 mean the
// session is already gone, which is what a cancel wants. Any other answer,
// or no answer, is an error whose message says why (the API puts it in
// "unable to process ORS cancel request : {message}"), because the session
// may still be running.
func (e *Executor) Cancel(ctx context.Context, cb *callbackd.Callback) error {
	if cb == nil || cb.SessionID == "" {
		return errors.New("no execution session")
	}
	raw := ""
	if e.urlFor != nil {
		raw = e.urlFor(cb)
	}
	if raw == "" {
		return fmt.Errorf("no ORS URL for service %s (option _ors)", cb.Service)
	}
	base, err := parseURL(raw)
	if err != nil {
		return err
	}
	target, err := sessionURL(base, cb.SessionID)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, target.String(), nil)
	if err != nil {
		return fmt.Errorf("cannot build the ORS request: %w", err)
	}
	e.decorate(req)
	resp, err := e.client.Do(req)
	if err != nil {
		return errors.New("ORS request failed: " + transportError(err))
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK, http.StatusAccepted, http.StatusNoContent, http.StatusNotFound, http.StatusGone:
		drain(resp)
		return nil
	}
	data, _, err := readBounded(resp)
	if err != nil {
		return fmt.Errorf("ORS request failed: reading the %s answer: %v", statusLine(resp.StatusCode), err)
	}
	return errors.New(refusal(resp.StatusCode, data))
}

// transport is the default client's transport: net/http's defaults
// (proxy from the environment, dial and TLS handshake timeouts, HTTP/2
// when offered) with room for conns idle connections per platform.
func transport(conns int) *http.Transport {
	if conns <= 0 {
		conns = DefaultConns
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = conns
	t.MaxIdleConns = max(t.MaxIdleConns, conns)
	return t
}

// decorate sets the headers every request carries.
func (e *Executor) decorate(req *http.Request) {
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", e.userAgent)
	if e.token != "" {
		req.Header.Set("Authorization", "Bearer "+e.token)
	}
}

// submitBody is the flat JSON object of a submission: every parameter, then
// the fields callbackd owns, so that a user property named like one of them
// cannot make the platform dial someone else or report to another URL.
// Every value is a string, as ORS strategies received them.
func submitBody(s callbackd.Submission, key string) map[string]string {
	cb := s.Callback
	body := make(map[string]string, len(s.Params)+9)
	for k, v := range s.Params {
		body[k] = v
	}
	body[callbackd.KeyID] = cb.ID
	body[callbackd.KeyServiceName] = cb.Service
	body[callbackd.KeyCustomerNumber] = cb.CustomerNumber
	body[callbackd.KeyDesiredTime] = callbackd.FormatTime(cb.DesiredTime)
	body[callbackd.KeyExpirationTime] = callbackd.FormatTime(cb.ExpirationTime)
	body[FieldAttempt] = strconv.Itoa(s.Attempt)
	body[FieldIdempotencyKey] = key
	body[FieldProgressURL] = s.ProgressURL
	return body
}

// mayPass reports whether a refusal is worth a new attempt: the platform
// timed out waiting for us, asked us to slow down, or failed on its side.
func mayPass(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
}

// transportError describes a failed round trip without the *url.Error
// wrapper, whose text repeats the whole URL (query string included) into
// messages that can reach API clients.
func transportError(err error) string {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err.Error()
	}
	return err.Error()
}

func final(msg string) *callbackd.SubmitError {
	return &callbackd.SubmitError{Retryable: false, Message: msg}
}

func retryable(msg string) *callbackd.SubmitError {
	return &callbackd.SubmitError{Retryable: true, Message: msg}
}
