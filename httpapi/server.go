package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/callbacks"
)

// Server holds what the handlers need.
type Server struct {
	Manager *callbacks.Manager
	// Agents is the built-in engine's agent desk; nil answers the agent
	// API with NOT_FOUND.
	Agents AgentDesk
	Config func() *callbackd.Config
	// Logger gets one access line per request and the errors; wrap its
	// handler with LogHandler so that every line of a request carries
	// its request_id.
	Logger *slog.Logger
	// Metrics serves GET /metrics (package prom's exposition); nil
	// answers 404.
	Metrics http.Handler
	// Observer hears of every answered request (metrics); nil ignores
	// them.
	Observer RequestObserver

	// doc is the OpenAPI document with this server's base path.
	doc    []byte
	docErr error

	auth     authLimiter
	verified sync.Map // sha256(user, password, hash) of verified logins

	// streamsStop ends the event streams at shutdown (CloseStreams).
	streamsMu   sync.Mutex
	streamsStop chan struct{}
	closeOnce   sync.Once
}

// now is the injected clock's time.
func (s *Server) now() time.Time { return s.Manager.Clock.Now() }

// RequestObserver hears of every request once it is answered. route is
// the ServeMux pattern's path ("/genesys/1/service/callback/{service}"),
// never the raw path, so that ids in URLs cannot multiply series; "" for
// a request that matched no route.
type RequestObserver interface {
	ObserveRequest(method, route string, status int, d time.Duration)
}

// Handler returns the API under basePath (e.g. /genesys), and the
// operations routes (/healthz, /readyz, /metrics) at the root.
func (s *Server) Handler(basePath string) http.Handler {
	// Routes marked first get a mux of their own, consulted first: see
	// check-queue-position in routes.go.
	first, mux := http.NewServeMux(), http.NewServeMux()
	b := strings.TrimSuffix(basePath, "/")
	s.doc, s.docErr = openAPIDocument(b)
	for _, rt := range s.routes() {
		prefix := b
		if rt.root {
			prefix = ""
		}
		m := mux
		if rt.first {
			m = first
		}
		m.HandleFunc(rt.method+" "+prefix+rt.path, rt.handler)
	}
	return s.middleware(first, mux)
}

// middleware adds the request id, recovers panics, answers unknown routes
// and methods with a JSON error instead of ServeMux's text, and, once the
// request is answered, writes its access log line and tells the Observer.
func (s *Server) middleware(muxes ...*http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elapsed := callbackd.Stopwatch()
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 64 {
			var buf [8]byte
			_, _ = rand.Read(buf[:])
			id = hex.EncodeToString(buf[:])
		}
		w.Header().Set("X-Request-Id", id)
		r = r.WithContext(withRequestID(r.Context(), id))
		var mux *http.ServeMux
		pattern := ""
		for _, m := range muxes {
			if _, pattern = m.Handler(r); pattern != "" {
				mux = m
				break
			}
		}
		_, route, _ := strings.Cut(pattern, " ")
		sw := &statusWriter{ResponseWriter: w}
		defer func() { s.accessLog(r, route, sw.code(), elapsed()) }()
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Logger.Error("panic in handler", "request_id", id, "method", r.Method, "path", r.URL.Path, "panic", v)
				s.writeError(sw, r, errInternal)
			}
		}()
		if mux == nil {
			s.noRoute(sw, r, muxes)
			return
		}
		mux.ServeHTTP(sw, r)
	})
}

// noRoute asks the muxes what they would have answered (404, or 405 with
// Allow) and says the same in JSON.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request, muxes []*http.ServeMux) {
	var rec *statusRecorder
	for _, mux := range muxes {
		h, _ := mux.Handler(r)
		rec = &statusRecorder{header: http.Header{}}
		h.ServeHTTP(rec, r)
		if rec.status == http.StatusMethodNotAllowed {
			break
		}
	}
	if rec.status == http.StatusMethodNotAllowed {
		allow := rec.header.Get("Allow")
		w.Header().Set("Allow", allow)
		s.writeError(w, r, callbackd.Errorf(callbackd.CodeMethodNotAllowed, map[string]any{"method": r.Method, "allow": allow},
			"Method %s is not allowed on %s", r.Method, r.URL.Path))
		return
	}
	s.writeError(w, r, callbackd.Errorf(callbackd.CodeNotFound, map[string]any{"path": r.URL.Path}, "No such resource: %s", r.URL.Path))
}

// statusRecorder keeps the status and headers ServeMux would have sent,
// and drops its plain-text body.
type statusRecorder struct {
	header http.Header
	status int
}

func (r *statusRecorder) Header() http.Header         { return r.header }
func (r *statusRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *statusRecorder) WriteHeader(status int)      { r.status = status }
