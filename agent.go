package callbackd

import (
	"context"
	"time"
)

// AgentState is an agent's state as the agent API shows it.
type AgentState string

// Agent states. An agent logs in NOT_READY, goes READY to take callbacks,
// is RESERVED while a callback is offered to it, BUSY while its call runs,
// and in AFTER_CALL_WORK while it picks a disposition.
const (
	AgentLoggedOut     AgentState = "LOGGED_OUT"
	AgentReady         AgentState = "READY"
	AgentNotReady      AgentState = "NOT_READY"
	AgentReserved      AgentState = "RESERVED"
	AgentBusy          AgentState = "BUSY"
	AgentAfterCallWork AgentState = "AFTER_CALL_WORK"
)

// Agent is one agent's live state. The built-in engine keeps it in the
// store (AgentStore), so that a restarted node, or the node that takes
// over the engine, knows who is logged in, who is ready and who holds
// which callback.
type Agent struct {
	// Name is the NAME of the agent's [agent.NAME] section.
	Name  string
	State AgentState
	// Since is when the agent entered State.
	Since time.Time
	// Reason says why the agent is NOT_READY ("break", "no-answer"...).
	Reason string
	// Callback is the id of the callback the agent holds (RESERVED, BUSY,
	// AFTER_CALL_WORK); "" otherwise.
	Callback string
	// IdleSince is when the agent last became free (READY without a
	// callback): the longest-idle READY agent gets the next callback.
	IdleSince time.Time
	// SeenAt is the agent's last sign of life: a request, or an open
	// event stream. An agent silent for longer than [agents] heartbeat is
	// logged out, so no ghost READY agent is offered callbacks.
	SeenAt time.Time
}

// AgentStore keeps agents' live states durably. The stores (sqlite,
// postgres) implement it beside Store and pass the same suite.
type AgentStore interface {
	// GetAgent returns the stored agent, or ErrNotFound when it never
	// logged in.
	GetAgent(ctx context.Context, name string) (*Agent, error)

	// ListAgents returns every stored agent, by name.
	ListAgents(ctx context.Context) ([]*Agent, error)

	// PutAgents writes the agents' states (inserted or replaced, keyed by
	// Name) in one transaction; they are durable when it returns. Returns
	// SERVICE_UNAVAILABLE when the store cannot be reached.
	PutAgents(ctx context.Context, agents []*Agent) error
}
