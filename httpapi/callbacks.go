package httpapi

import (
	"net/http"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/callbacks"
)

// The dialog an immediate callback answers with. Clients read either
// spelling (CLIENTS.md), and the spec's example shows the older keys, so
// all are sent.
var immediateDialog = map[string]string{
	"_dialog_id": "0", "_dialogId": "0", "ID": "0",
	"_action": "ConfirmationDialog", "Action": "ConfirmationDialog",
	"_text": "You will receive the call shortly", "Text": "You will receive the call shortly",
	"_ok_title": "Ok", "_okTitle": "Ok", "OkTitle": "Ok",
}

// startCallback is POST {base}/1/service/callback/{service}.
func (s *Server) startCallback(w http.ResponseWriter, r *http.Request) {
	p, err := readParams(w, r, s.Config().Server.MaxBodyBytes)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.Manager.Start(r.Context(), r.PathValue("service"), p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	body := map[string]string{callbackd.KeyID: res.Callback.ID}
	if res.Immediate {
		for k, v := range immediateDialog {
			body[k] = v
		}
	}
	writeJSON(w, http.StatusOK, body)
}

// cancelCallback is DELETE {base}/1/service/callback/{service}/{id}.
func (s *Server) cancelCallback(w http.ResponseWriter, r *http.Request) {
	p, err := readParams(w, r, s.Config().Server.MaxBodyBytes)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	discard := false
	if v, ok := p["discard_ors_failure"]; ok && v != "" {
		b, ok := callbackd.ParseBool(v)
		if !ok {
			s.writeError(w, r, callbackd.BadParameter(map[string]any{"option": "discard_ors_failure"}, "Invalid discard_ors_failure [%s]: must be true or false", v))
			return
		}
		discard = b
	}
	if err := s.Manager.Cancel(r.Context(), r.PathValue("service"), r.PathValue("id"), discard); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

// updateCallback is PUT {base}/1/service/callback/{service}/{id}.
func (s *Server) updateCallback(w http.ResponseWriter, r *http.Request) {
	p, err := readParams(w, r, s.Config().Server.MaxBodyBytes)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.Manager.Update(r.Context(), r.PathValue("service"), r.PathValue("id"), p); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

// queryCallbacks is GET {base}/1/service/callback[/{service}]?key=value.
func (s *Server) queryCallbacks(w http.ResponseWriter, r *http.Request) {
	found, err := s.Manager.Query(r.Context(), r.PathValue("service"), r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	cfg := s.Config()
	out := make([]map[string]string, len(found))
	for i, cb := range found {
		out[i] = callbacks.Record(cfg, cb)
	}
	writeJSON(w, http.StatusOK, out)
}
