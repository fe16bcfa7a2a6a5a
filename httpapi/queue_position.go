package httpapi

import (
	"math"
	"net/http"
	"time"
)

// checkQueuePosition is GET and POST
// {base}/1/service/{id}/check-queue-position. Clients read _position,
// _eta, _total_waiting, _agent_ready_threshold_passed and a numeric ewt
// (CLIENTS.md); times are in seconds.
func (s *Server) checkQueuePosition(w http.ResponseWriter, r *http.Request) {
	cb, pos, err := s.Manager.QueuePosition(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"_id":                           cb.ID,
		"_callback_state":               string(cb.State),
		"_position":                     pos.Position,
		"_total_waiting":                pos.TotalWaiting,
		"_eta":                          seconds(pos.ETA),
		"ewt":                           seconds(pos.EWT),
		"_agent_ready_threshold_passed": pos.AgentReadyThresholdPassed,
	})
}

// ewtForVQ is GET {base}/1/service/ewt-for-vq?name={vq} and
// {base}/2/ewt?name={vq}: {"ewt": seconds} for one queue; with several
// names (repeated or comma-separated), ewt is the longest and "queues"
// gives each. Widgets' aqt and mode parameters are accepted and ignored:
// there is one estimate per queue.
func (s *Server) ewtForVQ(w http.ResponseWriter, r *http.Request) {
	byQueue, err := s.Manager.VirtualQueueEWT(r.Context(), r.URL.Query()["name"])
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	body := map[string]any{}
	longest := time.Duration(0)
	queues := map[string]int64{}
	for name, d := range byQueue {
		longest = max(longest, d)
		queues[name] = seconds(d)
	}
	body["ewt"] = seconds(longest)
	if len(byQueue) > 1 {
		body["queues"] = queues
	}
	writeJSON(w, http.StatusOK, body)
}

// seconds rounds up, so that a wait under a second is not shown as none.
func seconds(d time.Duration) int64 { return int64(math.Ceil(d.Seconds())) }
