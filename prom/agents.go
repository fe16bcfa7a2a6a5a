package prom

import (
	"context"

	"github.com/callbackd/callbackd"
)

// instrumentedAgentStore is the wrapper of a store that also keeps agents
// (both real stores do): code that looks for callbackd.AgentStore on the
// wrapped store, as the engine does, finds it, timed like the rest. A
// store without agents gets the plain instrumentedStore, so that the
// assertion fails there as it does on the store itself, rather than
// finding methods that can only fail.
type instrumentedAgentStore struct {
	*instrumentedStore
	agents callbackd.AgentStore
}

var _ callbackd.AgentStore = (*instrumentedAgentStore)(nil)

// instrument wraps s, keeping its AgentStore if it has one.
func instrument(s *instrumentedStore) callbackd.Store {
	if a, ok := s.Store.(callbackd.AgentStore); ok {
		return &instrumentedAgentStore{instrumentedStore: s, agents: a}
	}
	return s
}

func (s *instrumentedAgentStore) GetAgent(ctx context.Context, name string) (*callbackd.Agent, error) {
	defer s.timed("GetAgent")()
	return s.agents.GetAgent(ctx, name)
}

func (s *instrumentedAgentStore) ListAgents(ctx context.Context) ([]*callbackd.Agent, error) {
	defer s.timed("ListAgents")()
	return s.agents.ListAgents(ctx)
}

func (s *instrumentedAgentStore) PutAgents(ctx context.Context, agents []*callbackd.Agent) error {
	defer s.timed("PutAgents")()
	return s.agents.PutAgents(ctx, agents)
}
