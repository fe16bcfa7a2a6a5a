package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/callbackd/callbackd"
)

// Credentials of the agents of agentsConfig, and of its admin user
// (usersSection).
var (
	alice     = []string{"alice", "alice-pw"}
	bob       = []string{"bob", "bob-pw"}
	adminUser = []string{"admin", "s3cret"}
)

// agentsConfig is built-in services whose callbacks wait in the virtual
// queue support that alice and bob serve (desk; preview, whose agents may
// reject an offer, after which it waits ten minutes; dispo, whose agents
// give a disposition after the call; once, which dials its customer once),
// an admin user, and a simulated dialer whose calls ring ringSeconds of
// clock time, then are answered, but for numbers +1555003... which never
// answer. A conversation lasts talkSeconds. The clock does not move unless
// a test moves it: with 0 seconds a call is answered at once, and ends as
// soon as it is connected; with more, it rings until the test moves the
// clock, or lasts until the agent hangs up.
func agentsConfig(ringSeconds, talkSeconds int) string {
	return `
[service.desk]
_service = callback
_type = builtin
_urs_virtual_queue = support

[service.preview]
_service = callback
_type = builtin
_urs_virtual_queue = support
_agent_preview = true
_agent_preview_allow_reject = 2
_agent_reject_retry_timeout = 600

[service.dispo]
_service = callback
_type = builtin
_urs_virtual_queue = support
_enable_disposition_dialog = true

[service.once]
_service = callback
_type = builtin
_urs_virtual_queue = support
_max_dial_attempts = 1

` + agentSections + `
[dialer]
type = simulated
ring_seconds = ` + strconv.Itoa(ringSeconds) + `
talk_seconds = ` + strconv.Itoa(talkSeconds) + `
outcome.no_answer = ^\+1555003
` + usersSection
}

// agentSections are alice and bob, with bcrypt hashes of their passwords
// (the lowest cost keeps the tests fast).
var agentSections = func() string {
	hash := func(password string) string {
		h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
		if err != nil {
			panic(err)
		}
		return string(h)
	}
	return `
[agent.alice]
password = ` + hash(alice[1]) + `
queues = support
phone = sip:alice@127.0.0.1

[agent.bob]
password = ` + hash(bob[1]) + `
queues = support
phone = sip:bob@127.0.0.1
`
}()

// as sends a JSON request with Basic credentials (none when who is nil).
func (h *harness) as(who []string, method, path, body string) response {
	h.t.Helper()
	return h.send(method, path, "application/json", body, who)
}

// agent is the agent's state as GET /1/agents/{agent} answers it to the
// admin.
func (h *harness) agent(name string) map[string]any {
	h.t.Helper()
	return h.as(adminUser, "GET", "/1/agents/"+name, "").wantOK(h.t)
}

// storedAgent is the agent as the store holds it.
func (h *harness) storedAgent(name string) callbackd.Agent {
	h.t.Helper()
	a, err := h.srv.Store().(callbackd.AgentStore).GetAgent(context.Background(), name)
	if err != nil {
		h.t.Fatalf("GetAgent(%s): %v", name, err)
	}
	return *a
}

// wantAgent asserts an agent body's state, reason and held callback.
func wantAgent(t *testing.T, body map[string]any, state, reason, callback string) {
	t.Helper()
	if body["state"] != state || body["reason"] != reason || body["callback"] != callback {
		t.Fatalf("agent %v: state %v reason %q callback %q, want %s %q %q", body["agent"], body["state"], body["reason"], body["callback"], state, reason, callback)
	}
}

// eventually polls cond until it holds, for a generous real-time
// deadline: it waits for the engine's goroutines to get there, not for
// business time to pass (the clock moves only if cond moves it).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting, after 10 s, for %s", what)
		}
		<-tick.C
	}
}

// agentStream is an open GET /1/agents/{agent}/events.
type agentStream struct {
	t   *testing.T
	res *http.Response
	r   *bufio.Reader
}

// openStream opens the agent's event stream. Reads fail after 10 s of
// real time, so a missing event fails the test instead of hanging it; the
// stream is closed when the test ends, so that the server can shut down.
func (h *harness) openStream(who []string, agent string) *agentStream {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	req, err := http.NewRequestWithContext(ctx, "GET", h.base+"/1/agents/"+agent+"/events", nil)
	if err != nil {
		h.t.Fatal(err)
	}
	req.SetBasicAuth(who[0], who[1])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { cancel(); res.Body.Close() })
	if res.StatusCode != http.StatusOK {
		h.t.Fatalf("events: status %d", res.StatusCode)
	}
	return &agentStream{t: h.t, res: res, r: bufio.NewReader(res.Body)}
}

// next reads the next event: its name and its data object. Comment lines
// (keep-alives) are skipped.
func (s *agentStream) next() (string, map[string]any) {
	s.t.Helper()
	var name, data string
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			s.t.Fatalf("event stream: %v (so far: event %q, data %q)", err, name, data)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		case line == "" && name != "":
			var m map[string]any
			if err := json.Unmarshal([]byte(data), &m); err != nil {
				s.t.Fatalf("event %s: data is not a JSON object (%v): %s", name, err, data)
			}
			return name, m
		}
	}
}

// until reads events up to the first one named name, and returns its
// data.
func (s *agentStream) until(name string) map[string]any {
	s.t.Helper()
	for {
		if n, data := s.next(); n == name {
			return data
		}
	}
}

const (
	msgAgentAuth = "Authentication required: use Basic authentication as the agent, or with a user of the [users] section"
	msgAdminAuth = "Authentication required: use Basic authentication with a user of the [users] section"
)

// TestAgentAuth checks who may use the agent API: the agent itself, or an
// admin user for any agent; the agent list is for admin users only.
func TestAgentAuth(t *testing.T) {
	h := newHarness(t, agentsConfig(0, 0))
	cases := []struct {
		name           string
		who            []string
		method, path   string
		status, code   int
		phrase, msg    string
		state          string // on 200, the agent's state
		authenticateUs bool   // the answer asks for credentials (WWW-Authenticate)
	}{
		{name: "ErrNoCredentials", method: "GET", path: "/1/agents/alice",
			status: 401, code: 40100, phrase: "UNAUTHORIZED", msg: msgAgentAuth, authenticateUs: true},
		{name: "ErrWrongAgentPassword", who: []string{"alice", "bob-pw"}, method: "POST", path: "/1/agents/alice/login",
			status: 401, code: 40100, phrase: "UNAUTHORIZED", msg: msgAgentAuth, authenticateUs: true},
		{name: "ErrAgentForAnotherAgent", who: alice, method: "POST", path: "/1/agents/bob/login",
			status: 403, code: 40300, phrase: "FORBIDDEN", msg: "Agent alice cannot act for agent bob"},
		{name: "ErrAgentListingAgents", who: alice, method: "GET", path: "/1/agents",
			status: 401, code: 40100, phrase: "UNAUTHORIZED", msg: msgAdminAuth, authenticateUs: true},
		{name: "AgentItself", who: alice, method: "GET", path: "/1/agents/alice", status: 200, state: "LOGGED_OUT"},
		{name: "AdminForAnyAgent", who: adminUser, method: "POST", path: "/1/agents/bob/login", status: 200, state: "NOT_READY"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := h.as(c.who, c.method, c.path, "")
			if c.status == 200 {
				if got := r.wantOK(t)["state"]; got != c.state {
					t.Errorf("state %v, want %s", got, c.state)
				}
				return
			}
			r.wantError(t, c.status, c.code, c.phrase, c.msg)
			if got := r.header.Get("WWW-Authenticate") != ""; got != c.authenticateUs {
				t.Errorf("WWW-Authenticate %q, want it set: %v", r.header.Get("WWW-Authenticate"), c.authenticateUs)
			}
		})
	}
	// The refused login for bob changed nothing: only the admin's did.
	if a := h.storedAgent("bob"); a.State != callbackd.AgentNotReady || a.Reason != "login" {
		t.Errorf("bob stored %s %q, want NOT_READY login", a.State, a.Reason)
	}
}

// TestAgentList checks the supervisor's list: every configured agent, by
// name, LOGGED_OUT until it logs in, with its queues and phone.
func TestAgentList(t *testing.T) {
	h := newHarness(t, agentsConfig(0, 0))
	var body struct {
		Agents []map[string]any `json:"agents"`
	}
	r := h.as(adminUser, "GET", "/1/agents", "")
	if err := json.Unmarshal(r.body, &body); r.status != 200 || err != nil {
		t.Fatalf("status %d (%v): %s", r.status, err, r.body)
	}
	want := []struct{ agent, phone string }{{"alice", "sip:alice@127.0.0.1"}, {"bob", "sip:bob@127.0.0.1"}}
	if len(body.Agents) != len(want) {
		t.Fatalf("%d agents, want %d: %s", len(body.Agents), len(want), r.body)
	}
	for i, w := range want {
		a := body.Agents[i]
		if a["agent"] != w.agent || a["phone"] != w.phone || a["state"] != "LOGGED_OUT" {
			t.Errorf("agent %d: %v, want %s LOGGED_OUT on %s", i, a, w.agent, w.phone)
		}
		if q, _ := a["queues"].([]any); len(q) != 1 || q[0] != "support" {
			t.Errorf("agent %s queues %v, want [support]", w.agent, a["queues"])
		}
		if _, ok := a["since"]; ok {
			t.Errorf("agent %s never logged in, yet has since %v", w.agent, a["since"])
		}
	}
}

// TestAgentNotConfigured checks that a name no [agent.NAME] defines is
// NOT_FOUND, for an admin user (an agent would be FORBIDDEN first).
func TestAgentNotConfigured(t *testing.T) {
	h := newHarness(t, agentsConfig(0, 0))
	for _, path := range []string{"/1/agents/nobody", "/1/agents/nobody/login", "/1/agents/nobody/events"} {
		method := "POST"
		if !strings.HasSuffix(path, "/login") {
			method = "GET"
		}
		t.Run(method+" "+path, func(t *testing.T) {
			m := h.as(adminUser, method, path, "").wantError(t, 404, 40400, "NOT_FOUND", "Agent nobody is not configured")
			if p, _ := m["properties"].(map[string]any); p["agent"] != "nobody" {
				t.Errorf("properties %v, want agent nobody", m["properties"])
			}
		})
	}
}

// TestAgentStates walks an agent through its states with its own
// credentials. A refused change answers the spec's error and leaves the
// stored state as it was.
func TestAgentStates(t *testing.T) {
	h := newHarness(t, agentsConfig(0, 0))
	steps := []struct {
		name, path, body string
		// On success, the state and reason the answer and the store show.
		state, reason string
		// On refusal, the error.
		status, code int
		phrase, msg  string
	}{
		{name: "ErrReadyWhileLoggedOut", path: "ready",
			status: 400, code: 40020, phrase: "INVALID_OPERATION", msg: "Agent alice is not logged in"},
		{name: "ErrNotReadyWhileLoggedOut", path: "not-ready", body: `{"reason":"break"}`,
			status: 400, code: 40020, phrase: "INVALID_OPERATION", msg: "Agent alice is not logged in"},
		{name: "Login", path: "login", state: "NOT_READY", reason: "login"},
		{name: "Ready", path: "ready", state: "READY"},
		{name: "NotReadyWithReason", path: "not-ready", body: `{"reason":"break"}`, state: "NOT_READY", reason: "break"},
		{name: "ErrMalformedBody", path: "not-ready", body: `{"reason":`,
			status: 400, code: 40010, phrase: "BAD_PARAMETER", msg: "Invalid JSON body: …"},
		{name: "NotReadyDefaultReason", path: "not-ready", state: "NOT_READY", reason: "not-ready"},
		{name: "LoginAgainChangesNothing", path: "login", state: "NOT_READY", reason: "not-ready"},
		{name: "Logout", path: "logout", state: "LOGGED_OUT"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			before := h.agent("alice")
			r := h.as(alice, "POST", "/1/agents/alice/"+s.path, s.body)
			if s.status != 0 {
				r.wantError(t, s.status, s.code, s.phrase, s.msg)
				if after := h.agent("alice"); after["state"] != before["state"] || after["reason"] != before["reason"] || after["since"] != before["since"] {
					t.Errorf("refused %s changed the agent: %v, then %v", s.path, before, after)
				}
				return
			}
			wantAgent(t, r.wantOK(t), s.state, s.reason, "")
			if a := h.storedAgent("alice"); string(a.State) != s.state || a.Reason != s.reason {
				t.Errorf("stored %s %q, want %s %q", a.State, a.Reason, s.state, s.reason)
			}
		})
	}
}

// TestAgentActionsRefused checks the actions on a callback an agent does
// not hold, and malformed dispositions: each is refused with the spec's
// error body. Nothing of it changes stored state.
func TestAgentActionsRefused(t *testing.T) {
	h := newHarness(t, agentsConfig(0, 0))
	h.as(alice, "POST", "/1/agents/alice/login", "").wantOK(t)
	h.as(alice, "POST", "/1/agents/alice/ready", "").wantOK(t)
	before, stored := h.agent("alice"), h.storedAgent("alice")
	const cb = "/1/agents/alice/callbacks/4a1e/"
	cases := []struct {
		name, path, body string
		code             int
		phrase, msg      string
	}{
		{"ErrAcceptNotHeld", cb + "accept", "", 40020, "INVALID_OPERATION", "Agent alice does not hold callback 4a1e"},
		{"ErrRejectNotHeld", cb + "reject", "", 40020, "INVALID_OPERATION", "Agent alice does not hold callback 4a1e"},
		{"ErrHangupNotHeld", cb + "hangup", "", 40020, "INVALID_OPERATION", "Agent alice does not hold callback 4a1e"},
		{"ErrDispositionNotHeld", cb + "disposition", `{"disposition":"sold"}`, 40020, "INVALID_OPERATION", "Agent alice does not hold callback 4a1e"},
		{"ErrDispositionMissing", cb + "disposition", `{"notes":"no field"}`, 40010, "BAD_PARAMETER", "Missing parameter disposition: what the call came to"},
		{"ErrDispositionBlank", cb + "disposition", `{"disposition":"  "}`, 40010, "BAD_PARAMETER", "Missing parameter disposition: what the call came to"},
		{"ErrRescheduleMalformed", cb + "disposition", `{"disposition":"later","reschedule":"tomorrow"}`, 40010, "BAD_PARAMETER",
			"Invalid reschedule [tomorrow]: expected an ISO 8601 time such as 2013-05-28T15:30:00.000Z"},
		{"ErrDispositionMalformedJSON", cb + "disposition", `{"disposition":`, 40010, "BAD_PARAMETER", "Invalid JSON body: …"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := h.as(alice, "POST", c.path, c.body).wantError(t, 400, c.code, c.phrase, c.msg)
			if p, _ := m["properties"].(map[string]any); c.code == 40020 && (p["agent"] != "alice" || p["id"] != "4a1e") {
				t.Errorf("properties %v, want agent alice and id 4a1e", p)
			}
			after := h.agent("alice")
			wantAgent(t, after, "READY", "", "")
			if after["since"] != before["since"] {
				t.Errorf("since %v, was %v", after["since"], before["since"])
			}
			if a := h.storedAgent("alice"); a.State != stored.State || a.Reason != stored.Reason || !a.Since.Equal(stored.Since) || a.Callback != stored.Callback {
				t.Errorf("stored %+v, was %+v", a, stored)
			}
		})
	}
}

// TestAgentEventStream checks that a desktop's stream opens with the
// agent's state, then carries its changes.
func TestAgentEventStream(t *testing.T) {
	h := newHarness(t, agentsConfig(0, 0))
	h.as(alice, "POST", "/1/agents/alice/login", "").wantOK(t)
	s := h.openStream(alice, "alice")
	if ct := s.res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type %q, want text/event-stream", ct)
	}
	name, data := s.next()
	if name != "state" {
		t.Fatalf("first event %s %v, want state", name, data)
	}
	want := h.agent("alice")
	for _, k := range []string{"agent", "state", "reason", "callback", "since"} {
		if data[k] != want[k] {
			t.Errorf("first event's %s %v, GET says %v", k, data[k], want[k])
		}
	}
	wantAgent(t, data, "NOT_READY", "login", "")
	h.as(alice, "POST", "/1/agents/alice/ready", "").wantOK(t)
	if name, data := s.next(); name != "state" || data["state"] != "READY" {
		t.Errorf("after ready: event %s %v, want state READY", name, data)
	}
}

// readyAgent logs alice in and makes her READY, through the API.
func readyAgent(t *testing.T, h *harness) {
	t.Helper()
	h.as(alice, "POST", "/1/agents/alice/login", "").wantOK(t)
	wantAgent(t, h.as(alice, "POST", "/1/agents/alice/ready", "").wantOK(t), "READY", "", "")
}

// TestAgentCallbackFlow runs a callback from its request to its end
// through the HTTP API only: the agent is offered it, accepts, the
// simulated calls are answered at once, and the conversation lasts until
// the agent hangs up; the callback is then COMPLETED AGENT_CONNECTED and
// the agent READY again. Each action answers the state it led to.
func TestAgentCallbackFlow(t *testing.T) {
	h := newHarness(t, agentsConfig(0, 3600))
	readyAgent(t, h)

	id := h.start("desk", map[string]any{"_customer_number": num()}) // immediate
	wantAgent(t, h.as(alice, "GET", "/1/agents/alice", "").wantOK(t), "RESERVED", "", id)

	s := h.openStream(alice, "alice")
	if name, data := s.next(); name != "state" || data["state"] != "RESERVED" || data["callback"] != id {
		t.Errorf("first event %s %v, want state RESERVED with callback %s", name, data, id)
	}
	inv := s.until("invitation")
	if inv["callback"] != id || inv["service"] != "desk" {
		t.Errorf("invitation %v, want callback %s of desk", inv, id)
	}
	if acts, _ := inv["actions"].([]any); len(acts) != 1 || acts[0] != "accept" {
		t.Errorf("invitation actions %v, want [accept]", inv["actions"])
	}

	accept := "/1/agents/alice/callbacks/" + id + "/accept"
	wantAgent(t, h.as(alice, "POST", accept, "").wantOK(t), "BUSY", "", id)
	h.as(alice, "POST", accept, "").wantError(t, 400, 40020, "INVALID_OPERATION",
		"Callback "+id+" cannot take accept: it was already accepted")

	for {
		if data := s.until("call"); data["status"] == "connected" {
			break
		}
	}
	if st := h.get(id)["_callback_state"]; st != "PROCESSING" {
		t.Errorf("connected: _callback_state %s, want PROCESSING", st)
	}
	wantAgent(t, h.as(alice, "POST", "/1/agents/alice/callbacks/"+id+"/hangup", "").wantOK(t), "READY", "", "")
	if cb := h.get(id); cb["_callback_state"] != "COMPLETED" || cb["_callback_reason"] != "AGENT_CONNECTED" {
		t.Errorf("after hangup: %s %s, want COMPLETED AGENT_CONNECTED", cb["_callback_state"], cb["_callback_reason"])
	}
	if a := h.storedAgent("alice"); a.State != callbackd.AgentReady || a.Callback != "" {
		t.Errorf("stored %s holding %q, want READY holding nothing", a.State, a.Callback)
	}
}

// TestAgentCallbackRunsToItsEnd lets the call end by itself (the customer
// hangs up as soon as connected): the callback reaches COMPLETED
// AGENT_CONNECTED and the agent READY without anything but the accept.
func TestAgentCallbackRunsToItsEnd(t *testing.T) {
	h := newHarness(t, agentsConfig(0, 0))
	readyAgent(t, h)
	id := h.start("desk", map[string]any{"_customer_number": num()})
	wantAgent(t, h.agent("alice"), "RESERVED", "", id)

	// The call may be over by the time the answer is written: the state
	// it shows is BUSY or already READY, never the RESERVED before it.
	if st := h.as(alice, "POST", "/1/agents/alice/callbacks/"+id+"/accept", "").wantOK(t)["state"]; st != "BUSY" && st != "READY" {
		t.Errorf("accept answered state %v, want BUSY (or READY once the call is over)", st)
	}
	eventually(t, "the callback to complete", func() bool { return h.get(id)["_callback_state"] == "COMPLETED" })
	if reason := h.get(id)["_callback_reason"]; reason != "AGENT_CONNECTED" {
		t.Errorf("_callback_reason %s, want AGENT_CONNECTED", reason)
	}
	eventually(t, "alice to be READY", func() bool { return h.agent("alice")["state"] == "READY" })
	wantAgent(t, h.agent("alice"), "READY", "", "")
}

// TestAgentRejectAnswersState checks a reject of a previewed callback:
// the answer shows the agent freed, and the callback waits in its queue
// for _agent_reject_retry_timeout.
func TestAgentRejectAnswersState(t *testing.T) {
	h := newHarness(t, agentsConfig(0, 0))
	readyAgent(t, h)
	id := h.start("preview", map[string]any{"_customer_number": num()})
	wantAgent(t, h.agent("alice"), "RESERVED", "", id)
	if acts, _ := h.openStream(alice, "alice").until("invitation")["actions"].([]any); len(acts) != 2 || acts[1] != "reject" {
		t.Errorf("invitation actions %v, want [accept reject]", acts)
	}
	wantAgent(t, h.as(alice, "POST", "/1/agents/alice/callbacks/"+id+"/reject", "").wantOK(t), "READY", "", "")
	if st := h.get(id)["_callback_state"]; st != "QUEUED" {
		t.Errorf("rejected callback %s, want QUEUED", st)
	}
}

// connected accepts the callback alice is offered and reads her events
// until she and the customer are connected.
func connected(t *testing.T, h *harness, s *agentStream, id string) {
	t.Helper()
	wantAgent(t, h.as(alice, "POST", "/1/agents/alice/callbacks/"+id+"/accept", "").wantOK(t), "BUSY", "", id)
	for {
		if data := s.until("call"); data["callback"] == id && data["status"] == "connected" {
			return
		}
	}
}

// TestAgentDisposition checks the disposition dialog: refused during the
// call, asked for once the agent hangs up (AFTER_CALL_WORK), and then
// either the callback is COMPLETED AGENT_CONNECTED with the disposition,
// or rescheduled to the time the agent gave.
func TestAgentDisposition(t *testing.T) {
	h := newHarness(t, agentsConfig(0, 3600))
	readyAgent(t, h)
	s := h.openStream(alice, "alice")
	cases := []struct {
		name, body string
		state      callbackd.State
		reason     callbackd.Reason
		desired    string
	}{
		{name: "Completed", body: `{"disposition":"sold","notes":"two seats"}`, state: callbackd.StateCompleted, reason: callbackd.ReasonAgentConnected},
		{name: "Rescheduled", body: `{"disposition":"later","notes":"call tomorrow","reschedule":"` + ts(24*time.Hour) + `"}`,
			state: callbackd.StateScheduled, desired: ts(24 * time.Hour)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := h.start("dispo", map[string]any{"_customer_number": num()})
			cb := "/1/agents/alice/callbacks/" + id + "/"
			connected(t, h, s, id)
			h.as(alice, "POST", cb+"disposition", c.body).wantError(t, 400, 40020, "INVALID_OPERATION",
				"Callback "+id+" cannot take disposition: the call has not ended")

			wantAgent(t, h.as(alice, "POST", cb+"hangup", "").wantOK(t), "AFTER_CALL_WORK", "", id)
			if d := s.until("disposition"); d["callback"] != id || d["timeout"] != float64(45) {
				t.Errorf("disposition event %v, want callback %s, timeout 45", d, id)
			}
			h.as(alice, "POST", cb+"accept", "").wantError(t, 400, 40020, "INVALID_OPERATION",
				"Callback "+id+" cannot take accept: it was already accepted")

			wantAgent(t, h.as(alice, "POST", cb+"disposition", c.body).wantOK(t), "READY", "", "")
			got := h.stored(id)
			if got.State != c.state || got.Reason != c.reason {
				t.Errorf("callback %s %s, want %s %s", got.State, got.Reason, c.state, c.reason)
			}
			var want map[string]string
			_ = json.Unmarshal([]byte(c.body), &want)
			if got.Properties[callbackd.KeyDisposition] != want["disposition"] || got.Properties[callbackd.KeyDispositionNotes] != want["notes"] {
				t.Errorf("properties %v, want the disposition %q and notes %q", got.Properties, want["disposition"], want["notes"])
			}
			if c.desired != "" && h.get(id)["_desired_time"] != c.desired {
				t.Errorf("_desired_time %s, want %s", h.get(id)["_desired_time"], c.desired)
			}
		})
	}
}

// TestAgentHangupWhileDialing checks that a hangup sent while the
// customer's phone rings is answered when the customer is not reached,
// rather than left waiting: the agent no longer holds the callback.
func TestAgentHangupWhileDialing(t *testing.T) {
	h := newHarness(t, agentsConfig(30, 0))
	readyAgent(t, h)
	s := h.openStream(alice, "alice")
	id := h.start("once", map[string]any{"_customer_number": "+15550030000"})
	cb := "/1/agents/alice/callbacks/" + id + "/"
	wantAgent(t, h.as(alice, "POST", cb+"accept", "").wantOK(t), "BUSY", "", id)
	for {
		if d := s.until("call"); d["status"] == "dialing" && d["leg"] == "customer" {
			break
		}
	}
	// The hangup is sent from another goroutine, and gives up after 10 s
	// so that a hangup left waiting fails the test rather than hanging it
	// (and the server's shutdown with it).
	answer := make(chan response, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "POST", h.base+cb+"hangup", nil)
		req.SetBasicAuth(alice[0], alice[1])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			answer <- response{status: -1, body: []byte(err.Error())}
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		answer <- response{res.StatusCode, res.Header, b}
	}()
	// The clock moves a second at a time until the ring is over (the
	// dialer may not be waiting on the clock yet when the event is out).
	var r response
	eventually(t, "the hangup's answer once the customer is not reached", func() bool {
		select {
		case r = <-answer:
			return true
		default:
			h.clock.Advance(time.Second)
			return false
		}
	})
	// Queued before the session ended, or sent after it: both say so.
	m := r.wantError(t, 400, 40020, "INVALID_OPERATION", "Agent alice …")
	if msg := m["message"]; msg != "Agent alice no longer holds callback "+id && msg != "Agent alice does not hold callback "+id {
		t.Errorf("message %q, want that alice no longer holds %s", msg, id)
	}
	eventually(t, "the callback to complete", func() bool { return h.get(id)["_callback_state"] == "COMPLETED" })
	if reason := h.get(id)["_callback_reason"]; reason != "FAIL_CALL_TO_CUSTOMER" {
		t.Errorf("_callback_reason %s, want FAIL_CALL_TO_CUSTOMER", reason)
	}
	wantAgent(t, h.agent("alice"), "READY", "", "")
}

// TestShutdownEndsEventStreams: a graceful shutdown ends the open event
// streams (agent and reporting) instead of waiting out its deadline for
// them: they never end by themselves.
func TestShutdownEndsEventStreams(t *testing.T) {
	h := newHarness(t, agentsConfig(0, 0))
	h.as(alice, "POST", "/1/agents/alice/login", "").wantOK(t)
	s := h.openStream(alice, "alice")
	s.next() // the stream is open and serving
	req, _ := http.NewRequest("GET", h.base+"/1/events/stream", nil)
	req.SetBasicAuth(adminUser[0], adminUser[1])
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("reporting stream: %v %v", res, err)
	}
	defer res.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown with open streams: %v, want nil (the streams closed)", err)
	}
}
