// Package ors is the HTTP executor of callbackd: it hands due callbacks to
// an external orchestration or dialer platform, the role Genesys GMS gave
// to its Orchestration Server (ORS), through the small protocol written
// down in docs/executor-protocol.md. Any platform that implements that
// document can dial callbackd's customers.
//
// The protocol has two calls from callbackd to the platform and one from the
// platform back:
//
//	POST   {_ors}                 submit one attempt; the answer names the session
//	DELETE {_ors}/{session id}    cancel the session
//	PUT    {progress url}         the platform reports ROUTING, PROCESSING, COMPLETED
//
// The third one is callbackd's existing Reschedule/update endpoint; this
// package only tells the platform where it is (_progress_url).
//
// Gotchas worth knowing before changing anything here:
//
//   - Idempotency. Each submission attempt carries an Idempotency-Key
//     ("<callback id>-<attempt>"). After a crash callbackd may send the same
//     attempt twice; the platform must answer with the same session instead
//     of dialling the customer twice. A retry after a failure is a new
//     attempt with a new key, so the protocol also asks the platform to keep
//     at most one live session per callback id: a timeout here does not mean
//     that nothing started there.
//
//   - Retryable or not. Network errors, timeouts, 408, 429 and 5xx may pass,
//     so they are retryable *callbackd.SubmitError values; every other
//     refusal is final, because repeating a request the platform rejected
//     would only be rejected again (and burn _max_ors_submit_attempts).
//
//   - The URL of Cancel. The Callback handed to Cancel carries the
//     request's properties but not the service's options, so Cancel asks
//     Options.URLFor. ConfiguredURL builds that function from the
//     configuration with the same rule Start applied. A property _ors that
//     the service did not allow the request to set is ignored: otherwise
//     anyone able to create or update a callback could send the shared
//     secret to a host of their choosing.
//
//   - Redirects are never followed. Go's client turns a 302 on POST into a
//     GET without body; a platform that moved must be configured with its
//     new URL.
//
//   - Bounded reads. At most MaxResponseBytes of any answer are read, so a
//     misbehaving platform cannot exhaust memory.
//
// Nothing here reads the wall clock: timeouts come from the http.Client and
// the caller's context.
package ors
