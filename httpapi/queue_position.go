package httpapi

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/callbackd/callbackd"
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
	body := map[string]any{
		"_id":                           cb.ID,
		"_callback_state":               string(cb.State),
		"_position":                     pos.Position,
		"_total_waiting":                pos.TotalWaiting,
		"_eta":                          seconds(pos.ETA),
		"ewt":                           seconds(pos.EWT),
		"_agent_ready_threshold_passed": pos.AgentReadyThresholdPassed,
		"positioninqueue":               pos.Position,
	}
	if cb.SessionID != "" {
		body["ors_session_id"] = cb.SessionID
	}
	if _, builtin := cb.Properties[callbackd.KeyVQ]; builtin {
		// What the built-in engine knows (spec 001's fields; the HTTP
		// hand-off's platform keeps its own).
		body["wt"] = seconds(pos.Waited)
		body["agents_logged_in"] = pos.AgentsLoggedIn
		body["priority"] = pos.Priority
		for key, prop := range map[string]string{"ewt_at_offer": callbackd.KeyEWTAtOffer, "pos_at_offer": callbackd.KeyPosAtOffer, "dial_attempt": callbackd.KeyDialAttempt} {
			if n, err := strconv.Atoi(cb.Properties[prop]); err == nil {
				body[key] = n
			}
		}
		if v := cb.Properties[callbackd.KeyDialResult]; v != "" {
			body["dial_result"] = dialResultName(v)
		}
		if t, err := callbackd.ParseTime(cb.Properties[callbackd.KeyTimeCustomerConnected]); err == nil {
			body["time_customer_connected"] = t.Unix()
		}
		waitForAgent := true
		if svc, ok := s.Config().Service(cb.Service); ok {
			waitForAgent = svc.Options.WaitForAgent
		}
		if b, ok := callbackd.ParseBool(cb.Properties["_wait_for_agent"]); ok {
			waitForAgent = b
		}
		body["callback_type"] = "WAIT_FOR_AGENT"
		if !waitForAgent {
			body["callback_type"] = "CUSTOMER_FIRST"
		}
	}
	writeJSON(w, http.StatusOK, body)
}

// dialResultName is a dial outcome as GMS's strategy reported it
// (spec 001's example: "PERSON").
func dialResultName(outcome string) string {
	switch callbackd.DialOutcome(outcome) {
	case callbackd.OutcomeHuman:
		return "PERSON"
	case callbackd.OutcomeMachine:
		return "ANSWERING_MACHINE"
	case callbackd.OutcomeFax:
		return "FAX"
	case callbackd.OutcomeBusy:
		return "BUSY"
	case callbackd.OutcomeNoAnswer:
		return "NO_ANSWER"
	case callbackd.OutcomeInvalid:
		return "INVALID_NUMBER"
	}
	return "ERROR"
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
