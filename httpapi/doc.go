// Package httpapi serves the GMS Callback Services API over HTTP, on Go's
// net/http method-and-path patterns.
//
// It only translates: a request becomes callbacks.Params, a use case runs,
// and its result or *callbackd.Error becomes the JSON the specification
// shows. Errors that are not API errors are logged with the request id and
// answered as a bare UNKNOWN_ERROR, so internals never reach a client;
// panics are recovered the same way. Unknown routes and methods answer in
// the API's error format too, never with an HTML page.
//
// Routes are one table (routes.go) that builds the mux and that the
// OpenAPI test holds openapi.json to, both ways: a new route needs its
// entry in the document. The operations routes (/healthz, /readyz,
// /metrics) sit at the root, outside the base path and the admin
// authentication. The middleware gives every request an id (the client's
// X-Request-Id, or a new one) that LogHandler adds to every line logged
// with the request's context, and writes one access line per request with
// the route pattern, never the raw path, which is also what the
// RequestObserver (metrics) is told.
package httpapi
