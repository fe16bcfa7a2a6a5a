package httpapi

import (
	"net/http"

	"github.com/callbackd/callbackd"
)

// pauseServices is POST {base}/1/admin/callback/pause (and /resume):
// {"service":"name"} or {"list":"L","id":"X"} (_paused_services_list and
// _paused_services_id).
func (s *Server) pauseServices(paused bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := readParams(w, r, s.Config().Server.MaxBodyBytes)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		list, id := p["list"], p["id"]
		if name := p["service"]; name != "" {
			svc, ok := s.Config().Service(name)
			if !ok || svc.Kind != callbackd.KindCallback {
				s.writeError(w, r, callbackd.BadParameter(map[string]any{"service": name}, "Service undefined: %s", name))
				return
			}
			list, id = svc.Options.PausedList, svc.Options.PausedID
			if id == "" {
				id = name
			}
		}
		if id == "" {
			s.writeError(w, r, callbackd.BadParameter(nil, "Name a service, or a list and an id"))
			return
		}
		services, moved, err := s.Manager.SetPaused(r.Context(), list, id, paused)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"services": services, "callbacks": moved, "paused": paused})
	}
}
