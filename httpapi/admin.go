package httpapi

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/callbacks"
)

// adminQueues is GET {base}/1/admin/callback/queues: {service: [record]}.
func (s *Server) adminQueues(w http.ResponseWriter, r *http.Request) {
	found, err := s.Manager.Queues(r.Context(), r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	cfg := s.Config()
	out := make(map[string][]map[string]string, len(found))
	for name, list := range found {
		recs := make([]map[string]string, len(list))
		for i, cb := range list {
			recs[i] = callbacks.QueueRecord(cfg, cb)
		}
		out[name] = recs
	}
	writeJSON(w, http.StatusOK, out)
}

// adminWatermarks is GET {base}/1/admin/callback/watermarks
// [?service_name=a&service_name=b].
func (s *Server) adminWatermarks(w http.ResponseWriter, r *http.Request) {
	var names []string
	for _, v := range r.URL.Query()["service_name"] {
		if v = strings.TrimSpace(v); v != "" {
			names = append(names, v)
		}
	}
	counts, err := s.Manager.Watermarks(r.Context(), names)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "services": counts})
}

// adminForget is POST {base}/1/admin/callback/ops/delete (Forget-me):
// {"_id":[...], "_customer_number":[...]} answered with the spec's
// success and errors arrays.
func (s *Server) adminForget(w http.ResponseWriter, r *http.Request) {
	p, err := readParams(w, r, s.Config().Server.MaxBodyBytes)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ids, err := listParam(p, callbackd.KeyID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	numbers, err := listParam(p, callbackd.KeyCustomerNumber)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.Manager.Forget(r.Context(), ids, numbers)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.Logger.InfoContext(r.Context(), "forget-me processed", "request_id", RequestID(r.Context()), "ids", len(ids), "numbers", len(numbers), "results", len(res))
	writeJSON(w, http.StatusOK, bulkBody(res))
}

// adminCancel is POST {base}/1/admin/callback/cancel:
// {"reason":"CANCELLED_BY_ADMIN","ids":[...]} (CLIENTS.md).
func (s *Server) adminCancel(w http.ResponseWriter, r *http.Request) {
	p, err := readParams(w, r, s.Config().Server.MaxBodyBytes)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ids, err := listParam(p, "ids")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(ids) == 0 {
		s.writeError(w, r, callbackd.BadParameter(map[string]any{"option": "ids"}, "Missing parameter ids: the callbacks to cancel"))
		return
	}
	discard := false
	if v := p["discard_ors_failure"]; v != "" {
		b, ok := callbackd.ParseBool(v)
		if !ok {
			s.writeError(w, r, callbackd.BadParameter(map[string]any{"option": "discard_ors_failure"}, "Invalid discard_ors_failure [%s]: must be true or false", v))
			return
		}
		discard = b
	}
	res, err := s.Manager.AdminCancel(r.Context(), ids, p["reason"], discard)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, bulkBody(res))
}

// reportCancelled is POST {base}/1/admin/callback/reportcancelled: a CSV
// attachment of the callbacks cancelled with callback_reason; 204 when
// there are none.
func (s *Server) reportCancelled(w http.ResponseWriter, r *http.Request) {
	p, err := readParams(w, r, s.Config().Server.MaxBodyBytes)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	asked, err := listParam(p, "exported_properties")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	columns := callbacks.ReportColumns(asked)
	var buf bytes.Buffer
	out := csv.NewWriter(&buf)
	_ = out.Write(columns) // sent only if a row follows
	n, err := s.Manager.CancelledReport(r.Context(), p["callback_reason"], columns, func(values []string) error {
		return out.Write(values)
	})
	if err == nil {
		out.Flush()
		err = out.Error()
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if n == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="report.csv"`)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// bulkBody renders per-item results as the spec's Forget-me answer:
// {"success":[{"_id":..} or {"reason":..,"_customer_number":..}],
// "errors":[{"code","phrase","message","_id",...}]}.
func bulkBody(res []callbacks.ItemResult) map[string]any {
	success, errs := []map[string]any{}, []map[string]any{}
	for _, r := range res {
		if r.Err == nil {
			item := map[string]any{r.Key: r.Value}
			if r.Note != "" {
				item["reason"] = r.Note
			}
			success = append(success, item)
			continue
		}
		item := map[string]any{"code": r.Err.Code, "phrase": r.Err.Phrase(), "message": r.Err.Message}
		if v, ok := r.Err.Properties["non-existing-lookup-key"]; ok {
			item["non-existing-lookup-key"] = v
		} else {
			item[r.Key] = r.Value
		}
		errs = append(errs, item)
	}
	return map[string]any{"success": success, "errors": errs}
}

// listParam reads a parameter that holds a list: a JSON array of strings
// or numbers (as JSON bodies send it), or one value.
func listParam(p callbacks.Params, key string) ([]string, error) {
	v := strings.TrimSpace(p[key])
	if v == "" {
		return nil, nil
	}
	if !strings.HasPrefix(v, "[") {
		return []string{v}, nil
	}
	dec := json.NewDecoder(strings.NewReader(v))
	dec.UseNumber()
	var items []any
	if err := dec.Decode(&items); err != nil {
		return nil, callbackd.BadParameter(map[string]any{"option": key}, "Invalid %s: must be an array of strings", key)
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		switch it := it.(type) {
		case string:
			out = append(out, it)
		case json.Number:
			out = append(out, it.String())
		default:
			return nil, callbackd.BadParameter(map[string]any{"option": key}, "Invalid %s: must be an array of strings", key)
		}
	}
	return out, nil
}
