package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/engine"
)

// AgentDesk is what the agent API asks of the built-in engine.
type AgentDesk interface {
	Login(ctx context.Context, agent string) (engine.AgentView, error)
	Ready(ctx context.Context, agent string) (engine.AgentView, error)
	NotReady(ctx context.Context, agent, reason string) (engine.AgentView, error)
	Logout(ctx context.Context, agent string) (engine.AgentView, error)
	Agent(agent string) (engine.AgentView, error)
	Agents() []engine.AgentView
	Touch(agent string)
	Subscribe(agent string) (<-chan engine.AgentEvent, func(), error)
	Accept(ctx context.Context, agent, id string) error
	Reject(ctx context.Context, agent, id string) error
	Hangup(ctx context.Context, agent, id string) error
	Dispose(ctx context.Context, agent, id string, d engine.Disposition) error
}

// agentRoutes are the agent API's endpoints: every one needs the agent's
// own credentials, or an admin user's, who may act for any agent.
func (s *Server) agentRoutes() []route {
	a := "/1/agents/{agent}"
	return []route{
		{method: "GET", path: "/1/agents", handler: s.requireUser(s.listAgents)},
		{method: "GET", path: a, handler: s.requireAgent(s.getAgent)},
		{method: "POST", path: a + "/login", handler: s.requireAgent(s.agentState(func(ctx context.Context, n string, _ agentBody) (engine.AgentView, error) {
			return s.Agents.Login(ctx, n)
		}))},
		{method: "POST", path: a + "/ready", handler: s.requireAgent(s.agentState(func(ctx context.Context, n string, _ agentBody) (engine.AgentView, error) {
			return s.Agents.Ready(ctx, n)
		}))},
		{method: "POST", path: a + "/not-ready", handler: s.requireAgent(s.agentState(func(ctx context.Context, n string, b agentBody) (engine.AgentView, error) {
			return s.Agents.NotReady(ctx, n, b.Reason)
		}))},
		{method: "POST", path: a + "/logout", handler: s.requireAgent(s.agentState(func(ctx context.Context, n string, _ agentBody) (engine.AgentView, error) {
			return s.Agents.Logout(ctx, n)
		}))},
		{method: "GET", path: a + "/events", handler: s.requireAgent(s.agentEvents)},
		{method: "POST", path: a + "/callbacks/{id}/accept", handler: s.requireAgent(s.agentAction(AgentDesk.Accept))},
		{method: "POST", path: a + "/callbacks/{id}/reject", handler: s.requireAgent(s.agentAction(AgentDesk.Reject))},
		{method: "POST", path: a + "/callbacks/{id}/hangup", handler: s.requireAgent(s.agentAction(AgentDesk.Hangup))},
		{method: "POST", path: a + "/callbacks/{id}/disposition", handler: s.requireAgent(s.disposition)},
	}
}

// requireAgent lets in the agent named in the path with its own password
// ([agent.NAME] password), or an admin user of [users]. An agent acting
// for another agent is FORBIDDEN.
func (s *Server) requireAgent(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		client := clientOf(r)
		if s.authBlocked(w, r, client) {
			return
		}
		target := r.PathValue("agent")
		name, password, ok := r.BasicAuth()
		cfg := s.Config()
		if ok {
			if a, isAgent := cfg.Agents[name]; isAgent && a.PasswordHash != "" {
				if !s.verifyHash(name, password, a.PasswordHash, true) {
					s.authFailed(w, r, client, name, authAgent)
					return
				}
				if name != target {
					s.writeError(w, r, callbackd.Errorf(callbackd.CodeForbidden, map[string]any{"agent": target},
						"Agent %s cannot act for agent %s", name, target))
					return
				}
				next(w, r)
				return
			}
			if s.verify(name, password) {
				next(w, r) // an admin acts for any agent
				return
			}
		}
		s.authFailed(w, r, client, name, authAgent)
	}
}

// agentJSON is an agent as the agent API answers it.
func agentJSON(v engine.AgentView) map[string]any {
	queues := v.Queues
	if queues == nil {
		queues = []string{}
	}
	body := map[string]any{"agent": v.Name, "state": string(v.State), "reason": v.Reason,
		"queues": queues, "callback": v.Callback, "phone": v.Phone}
	if !v.Since.IsZero() {
		body["since"] = callbackd.FormatTime(v.Since)
	}
	return body
}

func (s *Server) listAgents(w http.ResponseWriter, r *http.Request) {
	if s.Agents == nil {
		s.writeError(w, r, errNoEngine)
		return
	}
	list := s.Agents.Agents()
	out := make([]map[string]any, len(list))
	for i, v := range list {
		out[i] = agentJSON(v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"agents": out})
}

func (s *Server) getAgent(w http.ResponseWriter, r *http.Request) {
	if s.Agents == nil {
		s.writeError(w, r, errNoEngine)
		return
	}
	name := r.PathValue("agent")
	v, err := s.Agents.Agent(name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.Agents.Touch(name)
	writeJSON(w, http.StatusOK, agentJSON(v))
}

// agentBody is the optional body of the state changes.
type agentBody struct {
	Reason string `json:"reason"`
}

// agentState is a state change (login, ready, not-ready, logout).
func (s *Server) agentState(change func(ctx context.Context, agent string, b agentBody) (engine.AgentView, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Agents == nil {
			s.writeError(w, r, errNoEngine)
			return
		}
		var b agentBody
		if err := s.readJSONBody(w, r, &b); err != nil {
			s.writeError(w, r, err)
			return
		}
		v, err := change(r.Context(), r.PathValue("agent"), b)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, agentJSON(v))
	}
}

// agentAction is an action on the callback the agent holds.
func (s *Server) agentAction(act func(d AgentDesk, ctx context.Context, agent, id string) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Agents == nil {
			s.writeError(w, r, errNoEngine)
			return
		}
		s.answerAction(w, r, act(s.Agents, r.Context(), r.PathValue("agent"), r.PathValue("id")))
	}
}

// answerAction answers an action with the agent's state after it.
func (s *Server) answerAction(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v, err := s.Agents.Agent(r.PathValue("agent"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, agentJSON(v))
}

// disposition is the disposition dialog's answer:
// {"disposition":"...","notes":"...","reschedule":"ISO time"}.
func (s *Server) disposition(w http.ResponseWriter, r *http.Request) {
	if s.Agents == nil {
		s.writeError(w, r, errNoEngine)
		return
	}
	var b struct {
		Disposition string `json:"disposition"`
		Notes       string `json:"notes"`
		Reschedule  string `json:"reschedule"`
	}
	if err := s.readJSONBody(w, r, &b); err != nil {
		s.writeError(w, r, err)
		return
	}
	id := r.PathValue("id")
	d := engine.Disposition{Disposition: strings.TrimSpace(b.Disposition), Notes: b.Notes}
	if d.Disposition == "" {
		s.writeError(w, r, callbackd.BadParameter(map[string]any{"id": id, "option": "disposition"},
			"Missing parameter disposition: what the call came to"))
		return
	}
	if v := strings.TrimSpace(b.Reschedule); v != "" {
		t, err := callbackd.ParseTime(v)
		if err != nil {
			s.writeError(w, r, callbackd.BadParameter(map[string]any{"id": id, "option": "reschedule"},
				"Invalid reschedule [%s]: expected an ISO 8601 time such as 2013-05-28T15:30:00.000Z", v))
			return
		}
		d.Reschedule = t.UTC()
	}
	s.answerAction(w, r, s.Agents.Dispose(r.Context(), r.PathValue("agent"), id, d))
}

// readJSONBody decodes an optional JSON body into v; an empty body is
// fine, a malformed one is BAD_PARAMETER.
func (s *Server) readJSONBody(w http.ResponseWriter, r *http.Request, v any) error {
	if r.Body == nil {
		return nil
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, s.Config().Server.MaxBodyBytes))
	if err := dec.Decode(v); err != nil && err.Error() != "EOF" {
		return callbackd.BadParameter(nil, "Invalid JSON body: %s", err.Error())
	}
	return nil
}

// agentEvents streams the agent's events (server-sent events): state,
// invitation, call, disposition. A comment line every 15 s keeps proxies
// from closing an idle stream.
func (s *Server) agentEvents(w http.ResponseWriter, r *http.Request) {
	if s.Agents == nil {
		s.writeError(w, r, errNoEngine)
		return
	}
	events, stop, err := s.Agents.Subscribe(r.PathValue("agent"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer stop()
	flusher, rc, ok := s.openStream(w, r)
	if !ok {
		return
	}
	keepAlive := time.NewTicker(15 * time.Second)
	defer keepAlive.Stop()
	for {
		_ = rc.SetWriteDeadline(time.Now().Add(time.Minute))
		select {
		case <-r.Context().Done():
			return
		case <-s.closing():
			return
		case <-keepAlive.C:
			if _, err := w.Write([]byte(": keep-alive\n\n")); err != nil {
				return
			}
		case ev, open := <-events:
			if !open {
				return // fell behind or the engine stopped: the client reconnects
			}
			data, _ := json.Marshal(ev.Data)
			if _, err := w.Write([]byte("event: " + ev.Type + "\ndata: " + string(data) + "\n\n")); err != nil {
				return
			}
		}
		flusher.Flush()
	}
}

// errNoEngine answers the agent API on a server without the engine.
var errNoEngine = callbackd.Errorf(callbackd.CodeNotFound, nil, "The agent API needs the built-in engine, which this server does not run")
