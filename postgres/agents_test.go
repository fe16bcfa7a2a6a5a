package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/internal/pgtest"
)

// TestCrossedAgentsAcrossNodes has three nodes put the same agents listed
// in crossing orders. The store sorts them by name, so the upserts lock
// the rows in one order: none deadlocks (and burns a retry after
// deadlock_timeout, a second each). In the order given, this test
// measured 106 retries and 100 s; the suite's concurrent test passes
// either way, only slower, since a deadlock is retried.
func TestCrossedAgentsAcrossNodes(t *testing.T) {
	u, _ := pgtest.Schema(t)
	nodes := []*Store{open(t, u), open(t, u), open(t, u)}
	names := []string{"a", "b", "c", "d", "e"}
	orders := [][]int{{0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}, {2, 4, 0, 3, 1}}
	const n = 60
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var agents []*callbackd.Agent
			for _, k := range orders[i%len(orders)] {
				agents = append(agents, &callbackd.Agent{Name: names[k], State: callbackd.AgentReady,
					Reason: fmt.Sprint(i), Since: t0.Add(time.Duration(i) * time.Second)})
			}
			if err := nodes[i%len(nodes)].PutAgents(context.Background(), agents); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if r := nodes[0].retried.Load() + nodes[1].retried.Load() + nodes[2].retried.Load(); r != 0 {
		t.Errorf("%d PutAgents retried: the lock order let them deadlock", r)
	}
	got, err := nodes[0].ListAgents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(names) {
		t.Fatalf("%d agents, want %d", len(got), len(names))
	}
	for _, a := range got {
		if a.Reason != got[0].Reason {
			t.Fatalf("agents written by different calls (%s by %s, %s by %s): a call was not one transaction",
				got[0].Name, got[0].Reason, a.Name, a.Reason)
		}
	}
}

// TestAgentsErrors: a database that went away is SERVICE_UNAVAILABLE for
// every AgentStore method, as for the callbacks' methods; a NUL byte,
// which PostgreSQL text cannot hold, is BAD_PARAMETER, and the call
// writes none of its agents.
func TestAgentsErrors(t *testing.T) {
	u, _ := pgtest.Schema(t)
	ctx := context.Background()
	t.Run("NULIsBadParameter", func(t *testing.T) {
		s := open(t, u)
		err := s.PutAgents(ctx, []*callbackd.Agent{
			{Name: "fine", State: callbackd.AgentReady},
			{Name: "nul\x00", State: callbackd.AgentReady},
		})
		if callbackd.ErrorCode(err) != callbackd.CodeBadParameter {
			t.Fatalf("err = %v, want BAD_PARAMETER", err)
		}
		if got, err := s.ListAgents(ctx); err != nil || len(got) != 0 {
			t.Fatalf("after a refused call: %d agents, %v; want none", len(got), err)
		}
	})
	t.Run("UnreachableIsUnavailable", func(t *testing.T) {
		proxy := pgtest.NewProxy(t, u)
		s := open(t, proxy.URL(u))
		a := &callbackd.Agent{Name: "anna", State: callbackd.AgentReady, Since: t0}
		if err := s.PutAgents(ctx, []*callbackd.Agent{a}); err != nil {
			t.Fatal(err)
		}
		proxy.Cut()
		calls := []struct {
			name string
			call func() error
		}{
			{"GetAgent", func() error { _, err := s.GetAgent(ctx, "anna"); return err }},
			{"ListAgents", func() error { _, err := s.ListAgents(ctx); return err }},
			{"PutAgents", func() error { return s.PutAgents(ctx, []*callbackd.Agent{a}) }},
		}
		for _, c := range calls {
			if err := c.call(); callbackd.ErrorCode(err) != callbackd.CodeUnavailable {
				t.Errorf("%s with the database gone: err = %v, want SERVICE_UNAVAILABLE", c.name, err)
			}
		}
	})
}
