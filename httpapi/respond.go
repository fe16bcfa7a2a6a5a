package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/callbackd/callbackd"
)

type ctxKey struct{}

func withRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// RequestID returns the id the middleware gave the request.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

var errInternal = errors.New("internal error")

// errorBody is the specification's error format.
type errorBody struct {
	Code         callbackd.Code `json:"code"`
	Phrase       string         `json:"phrase"`
	Message      string         `json:"message"`
	Exception    string         `json:"exception"`
	Properties   map[string]any `json:"properties"`
	Availability any            `json:"availability,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeRawJSON sends an already encoded 200 JSON body.
func writeRawJSON(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// writeError renders err. An error that is not an API error is logged with
// the request id and answered without its text.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e, ok := callbackd.AsError(err)
	if !ok {
		reqID := RequestID(r.Context())
		if errors.Is(err, context.Canceled) {
			s.Logger.Info("request cancelled by client", "request_id", reqID, "path", r.URL.Path)
		} else {
			s.Logger.Error("request failed", "request_id", reqID, "method", r.Method, "path", r.URL.Path, "error", err)
		}
		e = callbackd.Errorf(callbackd.CodeUnknownError, map[string]any{"message": "internal error", "request_id": reqID},
			"Error processing callback internal error (request %s)", reqID)
	}
	props := e.Properties
	if props == nil {
		props = map[string]any{}
	}
	body := errorBody{Code: e.Code, Phrase: e.Phrase(), Message: e.Message, Exception: e.Exception(), Properties: props}
	if e.Availability != nil { // present, even empty, when the error carries one
		body.Availability = e.Availability
	}
	writeJSON(w, e.Status(), body)
}
