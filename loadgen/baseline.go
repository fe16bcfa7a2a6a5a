package loadgen

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/google/uuid"
)

// Baseline is the yardstick the load is measured against: a plain
// net/http handler on the same routes that reads the same request bodies
// and answers with the same shapes as callbackd, without any store,
// validation or calendar. What callbackd costs beyond it is what
// callbackd does; and since the baseline runs on the same machine in the
// same minute, the ratio of the two holds on a noisy machine where the
// raw figures do not.
//
// It answers: Start with a fresh UUIDv7 id (and the immediate dialog when
// no _desired_time is given), Query with one record of the callback
// asked for, Reschedule and Cancel with {}, availability v1 and v2 with
// every 5-minute bucket of the period at a capacity of 1,000.
func Baseline(basePath string, clock callbackd.Clock) http.Handler {
	if clock == nil {
		clock = callbackd.SystemClock{}
	}
	b := strings.TrimSuffix(basePath, "/")
	cb := b + "/1/service/callback"
	h := &baseline{clock: clock}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+cb+"/{service}", h.start)
	mux.HandleFunc("GET "+cb+"/{service}", h.query)
	mux.HandleFunc("PUT "+cb+"/{service}/{id}", h.empty)
	mux.HandleFunc("DELETE "+cb+"/{service}/{id}", h.empty)
	mux.HandleFunc("GET "+cb+"/{service}/availability", h.availability(false))
	mux.HandleFunc("GET "+b+"/2/service/callback/{service}/availability", h.availability(true))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var id [8]byte // as callbackd: every answer carries a request id
		_, _ = rand.Read(id[:])
		w.Header().Set("X-Request-Id", hex.EncodeToString(id[:]))
		mux.ServeHTTP(w, r)
	})
}

type baseline struct{ clock callbackd.Clock }

// baselineBucket and baselineCapacity shape the availability answers: the
// bench service's 5-minute buckets.
const (
	baselineBucket   = 5 * time.Minute
	baselineCapacity = 1000
)

var baselineDialog = map[string]string{
	"_dialog_id": "0", "_dialogId": "0", "ID": "0",
	"_action": "ConfirmationDialog", "Action": "ConfirmationDialog",
	"_text": "You will receive the call shortly", "Text": "You will receive the call shortly",
	"_ok_title": "Ok", "_okTitle": "Ok", "OkTitle": "Ok",
}

// params decodes a JSON object body into strings, as callbackd does.
func (h *baseline) params(w http.ResponseWriter, r *http.Request) (map[string]string, bool) {
	p := map[string]string{}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 65536))
	if err != nil {
		h.badRequest(w, "Cannot read request body")
		return nil, false
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return p, true
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		h.badRequest(w, "Malformed JSON body")
		return nil, false
	}
	for k, raw := range obj {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			s = string(raw)
		}
		p[k] = s
	}
	return p, true
}

func (h *baseline) start(w http.ResponseWriter, r *http.Request) {
	p, ok := h.params(w, r)
	if !ok {
		return
	}
	body := map[string]string{callbackd.KeyID: uuid.Must(uuid.NewV7()).String()}
	if p[callbackd.KeyDesiredTime] == "" {
		for k, v := range baselineDialog {
			body[k] = v
		}
	}
	writeJSON(w, body)
}

func (h *baseline) empty(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.params(w, r); ok {
		writeJSON(w, struct{}{})
	}
}

func (h *baseline) query(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	id := q.Get(callbackd.KeyID)
	if id == "" {
		id = uuid.Must(uuid.NewV7()).String()
	}
	svc := r.PathValue("service")
	now := h.clock.Now()
	url := "/1/service/callback/" + svc + "/" + id
	rec := map[string]string{
		callbackd.KeyID: id, callbackd.KeyServiceName: svc, callbackd.KeyState: "SCHEDULED",
		callbackd.KeyDesiredTime: callbackd.FormatTime(now), "desired_time": callbackd.FormatTime(now),
		callbackd.KeyExpirationTime: callbackd.FormatTime(now.Add(24 * time.Hour)),
		callbackd.KeyCustomerNumber: q.Get(callbackd.KeyCustomerNumber), "url": url, "_url": url,
		"usr_source": "bench",
	}
	writeJSON(w, []map[string]string{rec})
}

// availability lists every bucket of [start, start+number-of-days), as
// callbackd's handlers write them (by hand, no reflection).
func (h *baseline) availability(v2 bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		start := h.clock.Now()
		if s := q.Get("start"); s != "" {
			t, err := callbackd.ParseTime(s)
			if err != nil {
				h.badRequest(w, "Malformed start")
				return
			}
			start = t
		}
		days, _ := strconv.Atoi(q.Get("number-of-days"))
		end := start.Add(baselineBucket)
		if days > 0 {
			end = start.Add(time.Duration(min(days, 7)) * 24 * time.Hour)
		}
		b := make([]byte, 0, 96*int(end.Sub(start)/baselineBucket)+64)
		if v2 {
			b = append(b, `{"slots":[`...)
		} else {
			b = append(b, '{')
		}
		for t, i := start.Truncate(baselineBucket), 0; t.Before(end); t, i = t.Add(baselineBucket), i+1 {
			if i > 0 {
				b = append(b, ',')
			}
			if v2 {
				b = append(b, `{"utcTime":"`...)
				b = callbackd.AppendTime(b, t, true)
				b = append(b, `","localTime":"`...)
				b = callbackd.AppendTime(b, t, false)
				b = append(b, `","capacity":`...)
				b = strconv.AppendInt(b, baselineCapacity, 10)
				b = append(b, `,"total":`...)
				b = strconv.AppendInt(b, baselineCapacity, 10)
				b = append(b, '}')
			} else {
				b = append(b, '"')
				b = callbackd.AppendTime(b, t, true)
				b = append(b, '"', ':')
				b = strconv.AppendInt(b, baselineCapacity, 10)
			}
		}
		if v2 {
			b = append(b, `],"durationMin":5,"timezone":"UTC"}`...)
		} else {
			b = append(b, '}')
		}
		b = append(b, '\n')
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		_, _ = w.Write(b)
	}
}

func (h *baseline) badRequest(w http.ResponseWriter, message string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	e := callbackd.BadParameter(nil, "%s", message)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"code": e.Code, "phrase": e.Phrase(), "message": e.Message, "exception": e.Exception(), "properties": map[string]any{},
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
