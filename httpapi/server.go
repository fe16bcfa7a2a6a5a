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
	Config  func() *callbackd.Config
	Logger  *slog.Logger

	auth     authLimiter
	verified sync.Map // sha256(user, password, hash) of verified logins
}

// now is the injected clock's time.
func (s *Server) now() time.Time { return s.Manager.Clock.Now() }

// Handler returns the API under basePath (e.g. /genesys).
func (s *Server) Handler(basePath string) http.Handler {
	mux := http.NewServeMux()
	b := strings.TrimSuffix(basePath, "/")
	cb := b + "/1/service/callback"
	mux.HandleFunc("POST "+cb+"/{service}", s.startCallback)
	mux.HandleFunc("GET "+cb+"/{service}", s.queryCallbacks)
	mux.HandleFunc("GET "+cb, s.queryCallbacks)
	mux.HandleFunc("PUT "+cb+"/{service}/{id}", s.updateCallback)
	mux.HandleFunc("DELETE "+cb+"/{service}/{id}", s.cancelCallback)
	mux.HandleFunc("GET "+cb+"/{service}/availability", s.availabilityV1)
	mux.HandleFunc("GET "+b+"/2/service/callback/{service}/availability", s.availabilityV2)
	mux.HandleFunc("GET "+b+"/1/service/{service}", s.officeHours)
	mux.HandleFunc("GET "+b+"/1/phonenumber", s.phoneNumber)
	mux.HandleFunc("POST "+b+"/1/admin/callback/pause", s.requireUser(s.pauseServices(true)))
	mux.HandleFunc("POST "+b+"/1/admin/callback/resume", s.requireUser(s.pauseServices(false)))
	mux.HandleFunc("GET "+b+"/1/admin/callback/queues", s.requireUser(s.adminQueues))
	mux.HandleFunc("GET "+b+"/1/admin/callback/watermarks", s.requireUser(s.adminWatermarks))
	mux.HandleFunc("POST "+b+"/1/admin/callback/ops/delete", s.requireUser(s.adminForget))
	mux.HandleFunc("POST "+b+"/1/admin/callback/cancel", s.requireUser(s.adminCancel))
	mux.HandleFunc("POST "+b+"/1/admin/callback/reportcancelled", s.requireUser(s.reportCancelled))
	mux.HandleFunc("GET "+b+"/1/service/ewt-for-vq", s.ewtForVQ)
	mux.HandleFunc("GET "+b+"/2/ewt", s.ewtForVQ)
	// Events carry customers' data: operators only.
	mux.HandleFunc("GET "+b+"/1/events", s.requireUser(s.listEvents))
	mux.HandleFunc("GET "+b+"/1/events/stream", s.requireUser(s.streamEvents))
	// {base}/1/service/{id}/check-queue-position overlaps
	// {base}/1/service/callback/{service} (at .../callback/check-queue-position),
	// which ServeMux refuses to hold together; it gets a mux of its own,
	// consulted first. A callback id is never "callback".
	position := http.NewServeMux()
	position.HandleFunc("GET "+b+"/1/service/{id}/check-queue-position", s.checkQueuePosition)
	position.HandleFunc("POST "+b+"/1/service/{id}/check-queue-position", s.checkQueuePosition)
	return s.middleware(position, mux)
}

// middleware adds the request id, recovers panics, and answers unknown
// routes and methods with a JSON error instead of ServeMux's text.
func (s *Server) middleware(muxes ...*http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 64 {
			var buf [8]byte
			_, _ = rand.Read(buf[:])
			id = hex.EncodeToString(buf[:])
		}
		w.Header().Set("X-Request-Id", id)
		r = r.WithContext(withRequestID(r.Context(), id))
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Logger.Error("panic in handler", "request_id", id, "method", r.Method, "path", r.URL.Path, "panic", v)
				s.writeError(w, r, errInternal)
			}
		}()
		for _, mux := range muxes {
			if _, pattern := mux.Handler(r); pattern != "" {
				mux.ServeHTTP(w, r)
				return
			}
		}
		s.noRoute(w, r, muxes)
	})
}

// noRoute asks the muxes what they would have answered (404, or 405 with
// Allow) and says the same in JSON.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request, muxes []*http.ServeMux) {
	rec := &statusRecorder{header: http.Header{}}
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
