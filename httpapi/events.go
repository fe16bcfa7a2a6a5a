package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/callbackd/callbackd"
)

// eventBody is one event as the API shows it.
type eventBody struct {
	Seq        int64             `json:"seq"`
	Time       string            `json:"time"`
	CallbackID string            `json:"_id"`
	Service    string            `json:"_service_name"`
	Type       string            `json:"type"`
	From       string            `json:"from,omitempty"`
	To         string            `json:"to,omitempty"`
	Reason     string            `json:"_callback_reason,omitempty"`
	Source     string            `json:"source"`
	Properties map[string]string `json:"properties,omitempty"`
}

func toBody(ev callbackd.Event) eventBody {
	return eventBody{ev.Seq, callbackd.FormatTime(ev.Time), ev.CallbackID, ev.Service, string(ev.Type),
		string(ev.From), string(ev.To), string(ev.Reason), ev.Source, ev.Properties}
}

// eventQuery reads after (or the Last-Event-ID header of a reconnecting
// stream), callback_id and limit.
func eventQuery(r *http.Request) (callbackd.EventQuery, error) {
	q := callbackd.EventQuery{CallbackID: r.URL.Query().Get("_id")}
	after := r.URL.Query().Get("after")
	if after == "" {
		after = r.Header.Get("Last-Event-ID")
	}
	if after != "" {
		n, err := strconv.ParseInt(after, 10, 64)
		if err != nil || n < 0 {
			return q, callbackd.BadParameter(map[string]any{"option": "after"}, "Invalid after [%s]: must be an event sequence number", after)
		}
		q.AfterSeq = n
	}
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > callbackd.DefaultQueryLimit {
			return q, callbackd.BadParameter(map[string]any{"option": "limit"}, "Invalid limit [%s]: must be from 1 to %d", v, callbackd.DefaultQueryLimit)
		}
		q.Limit = n
	}
	return q, nil
}

// listEvents is GET {base}/1/events: the history of callbacks for
// reporting, oldest first, after a sequence number.
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	q, err := eventQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	evs, err := s.Manager.Store.ListEvents(r.Context(), q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]eventBody, len(evs))
	for i, ev := range evs {
		out[i] = toBody(ev)
	}
	writeJSON(w, http.StatusOK, out)
}

// streamPoll is how often the stream looks for new events.
const streamPoll = 250 * time.Millisecond

// streamEvents is GET {base}/1/events/stream: the same events as
// server-sent events (id = sequence number, event = type), so a reporting
// consumer that reconnects with Last-Event-ID misses nothing.
func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request) {
	q, err := eventQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	flusher, rc, ok := s.openStream(w, r)
	if !ok {
		return
	}
	ticker := time.NewTicker(streamPoll)
	defer ticker.Stop()
	for {
		_ = rc.SetWriteDeadline(time.Now().Add(time.Minute)) // a stream outlives the server's write timeout
		evs, err := s.Manager.Store.ListEvents(r.Context(), q)
		if err != nil {
			return
		}
		for _, ev := range evs {
			data, _ := json.Marshal(toBody(ev))
			if _, err := w.Write([]byte("id: " + strconv.FormatInt(ev.Seq, 10) + "\nevent: " + string(ev.Type) + "\ndata: " + string(data) + "\n\n")); err != nil {
				return
			}
			q.AfterSeq = ev.Seq
		}
		flusher.Flush()
		if len(evs) == callbackd.DefaultQueryLimit || (q.Limit > 0 && len(evs) == q.Limit) {
			continue // more is waiting
		}
		select {
		case <-r.Context().Done():
			return
		case <-s.closing():
			return
		case <-ticker.C:
		}
	}
}

// openStream starts a server-sent event stream: headers sent and flushed.
// It answers 500 and reports false when the connection cannot stream.
func (s *Server) openStream(w http.ResponseWriter, r *http.Request) (http.Flusher, *http.ResponseController, bool) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		s.writeError(w, r, errInternal)
		return nil, nil, false
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flusher.Flush()
	return flusher, http.NewResponseController(w), true
}

// CloseStreams ends every open event stream (the server is shutting
// down): clients reconnect, to this node when it is back or to another.
// Without it a graceful shutdown would wait its whole deadline for
// streams that never end by themselves.
func (s *Server) CloseStreams() {
	s.closeOnce.Do(func() { close(s.streamsDone()) })
}

// closing is closed by CloseStreams.
func (s *Server) closing() <-chan struct{} { return s.streamsDone() }

func (s *Server) streamsDone() chan struct{} {
	s.streamsMu.Lock()
	defer s.streamsMu.Unlock()
	if s.streamsStop == nil {
		s.streamsStop = make(chan struct{})
	}
	return s.streamsStop
}
