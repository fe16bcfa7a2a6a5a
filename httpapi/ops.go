package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/callbackd/callbackd"
)

// readyTimeout bounds the store check of /readyz: a probe must get an
// answer before its own timeout (Kubernetes' default is 1 s).
const readyTimeout = 900 * time.Millisecond

// healthz is GET /healthz: the process is alive and serving HTTP. It
// checks nothing else, so an orchestrator restarts the process only when
// it is truly stuck, never because the database is down (a restart would
// not fix that).
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz is GET /readyz: 200 when the store answers and its schema
// migrations are applied (Store.Ping), else 503 SERVICE_UNAVAILABLE in the
// API's error format, so a load balancer sends no requests that would
// fail. Why it failed goes to the log, with the request id, not to the
// client.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := s.Manager.Store.Ping(ctx); err != nil {
		s.Logger.WarnContext(r.Context(), "not ready: store check failed", "error", err)
		s.writeError(w, r, callbackd.Errorf(callbackd.CodeUnavailable, map[string]any{"check": "store"},
			"Not ready: the store is unreachable or its schema is not up to date"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// metrics is GET /metrics: the Prometheus exposition, when the server has
// one.
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	if s.Metrics == nil {
		s.writeError(w, r, callbackd.Errorf(callbackd.CodeNotFound, map[string]any{"path": r.URL.Path}, "No such resource: %s", r.URL.Path))
		return
	}
	s.Metrics.ServeHTTP(w, r)
}
