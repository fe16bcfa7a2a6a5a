// Package httpapi serves the GMS Callback Services API over HTTP, on Go's
// net/http method-and-path patterns.
//
// It only translates: a request becomes callbacks.Params, a use case runs,
// and its result or *callbackd.Error becomes the JSON the specification
// shows. Errors that are not API errors are logged with the request id and
// answered as a bare UNKNOWN_ERROR, so internals never reach a client;
// panics are recovered the same way. Unknown routes and methods answer in
// the API's error format too, never with an HTML page.
package httpapi
