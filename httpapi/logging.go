package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// LogHandler wraps h so that every record logged with a request's context
// (the *Context methods of slog.Logger, given r.Context() or a context
// derived from it) carries the request's request_id: the access line, the
// errors of the request, and the lines the use cases and the dispatcher
// write while serving it. A record that already names its request_id is
// left as is.
func LogHandler(h slog.Handler) slog.Handler { return requestIDHandler{h} }

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" && !hasAttr(r, "request_id") {
		r = r.Clone() // AddAttrs may write to storage the caller's record shares
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}

func hasAttr(r slog.Record, key string) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == key
		return !found
	})
	return found
}

// accessLog writes the one line every request gets once it is answered,
// and tells the Observer. Probes and scrapes go at debug level.
func (s *Server) accessLog(r *http.Request, route string, status int, d time.Duration) {
	level := slog.LevelInfo
	if opsRoute(route) {
		level = slog.LevelDebug
	}
	if s.Logger.Enabled(r.Context(), level) {
		s.Logger.LogAttrs(r.Context(), level, "request",
			slog.String("method", r.Method), slog.String("route", route), slog.String("path", r.URL.Path),
			slog.Int("status", status), slog.Float64("duration_ms", float64(d.Microseconds())/1000))
	}
	if s.Observer != nil {
		s.Observer.ObserveRequest(r.Method, route, status, d)
	}
}

// statusWriter remembers the status a handler answered with. It passes
// Flush on (the event stream needs it) and unwraps for
// http.ResponseController (write deadlines).
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 && status >= 200 { // 1xx are interim answers
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// code is the status sent, 200 when the handler wrote nothing (net/http's
// default).
func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
