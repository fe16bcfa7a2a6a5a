package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/internal/pgtest"
)

// engineNodesConfig is a builtin service served by agent alice, with the
// simulated dialer answering at once.
var engineNodesConfig = func() string {
	h, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	return `
[service.support]
_type = builtin

[agent.alice]
password = ` + string(h) + `
queues = support
phone = sip:alice@pbx

[dialer]
type = simulated
` + usersSection
}()

// asAlice is alice's credentials.
var asAlice = []string{"alice", "pw"}

// leaderOf waits until exactly one node runs the engine and returns its
// index.
func leaderOf(t *testing.T, nodes []*pgNode) int {
	t.Helper()
	leader := -1
	eventually(t, "one node to run the engine", func() bool {
		n := 0
		for i, node := range nodes {
			if node.srv.Engine().Leading() {
				leader, n = i, n+1
			}
		}
		if n > 1 {
			t.Fatalf("%d nodes run the engine at once", n)
		}
		return n == 1
	})
	return leader
}

// agentState reads alice's state through a node.
func agentState(t *testing.T, node *pgNode) map[string]any {
	t.Helper()
	r := node.send("GET", "/1/agents/alice", "", "", asAlice)
	if r.status != 200 {
		return map[string]any{"status": r.status, "body": string(r.body)}
	}
	return r.object(t)
}

// TestEngineRunsOnOneNode: three nodes share one PostgreSQL schema; one
// runs the engine. A callback started on another node is handed over
// through the store and offered by the leader to an agent who logged in,
// accepted and is seen through a third node; the customer is dialled
// once. When the leader stops, another node takes over and carries on.
func TestEngineRunsOnOneNode(t *testing.T) {
	u, _ := pgtest.Schema(t)
	cfg := writeFile(t, engineNodesConfig)
	clock := callbackd.NewManualClock(t0)
	var nodes []*pgNode
	for range 3 {
		nodes = append(nodes, newPGNode(t, cfg, u, nodeOptions{clock: clock, grace: 50 * time.Millisecond}))
	}
	lead := leaderOf(t, nodes)
	t.Cleanup(func() {
		if t.Failed() {
			for i, n := range nodes {
				t.Logf("node %d (leader %v):\n%s", i, i == lead, n.log.String())
			}
		}
	})
	a, b := nodes[(lead+1)%3], nodes[(lead+2)%3]

	// Alice works through node a; the agent API is forwarded to the leader.
	a.send("POST", "/1/agents/alice/login", "", "", asAlice).wantOK(t)
	if st := a.send("POST", "/1/agents/alice/ready", "", "", asAlice).wantOK(t); st["state"] != "READY" {
		t.Fatalf("ready through a follower: %v", st)
	}
	// The customer asks through node b.
	id := b.start("support", map[string]any{"_customer_number": "+14155550120"})
	eventually(t, "the invitation", func() bool { return agentState(t, a)["callback"] == id })
	if st := agentState(t, b); st["state"] != "RESERVED" || st["callback"] != id {
		t.Fatalf("alice seen through b: %v", st)
	}
	a.send("POST", "/1/agents/alice/callbacks/"+id+"/accept", "", "", asAlice).wantOK(t)
	eventually(t, "the callback to complete", func() bool { return b.get(id)["_callback_state"] == "COMPLETED" })
	if rec := a.get(id); rec["_callback_reason"] != "AGENT_CONNECTED" {
		t.Fatalf("completed %v", rec)
	}
	if st := agentState(t, b); st["state"] != "READY" {
		t.Fatalf("alice after the call: %v", st)
	}

	// A cancel made on a follower reaches the leader: the callback leaves
	// its queue (nobody is ready for it).
	b.send("POST", "/1/agents/alice/not-ready", "application/json", `{"reason":"break"}`, asAlice).wantOK(t)
	waiting := a.start("support", map[string]any{"_customer_number": "+14155550121"})
	eventually(t, "the hand-over taken up", func() bool {
		r := nodes[lead].do("GET", "/1/service/"+waiting+"/check-queue-position", "", "")
		return r.status == 200 && r.object(t)["_position"] == float64(1)
	})
	b.do("DELETE", "/1/service/callback/support/"+waiting, "", "").wantOK(t)
	eventually(t, "the leader to let go of the cancelled callback", func() bool {
		r := a.do("GET", "/1/service/"+waiting+"/check-queue-position", "", "")
		return r.status == 200 && r.object(t)["_total_waiting"] == float64(0)
	})

	// The leader stops: another node takes over and offers new callbacks.
	if err := nodes[lead].srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	next := leaderOf(t, []*pgNode{a, b})
	survivor := []*pgNode{a, b}[next]
	eventually(t, "the agent API on the new leader", func() bool {
		return survivor.send("POST", "/1/agents/alice/ready", "", "", asAlice).status == 200
	})
	again := survivor.start("support", map[string]any{"_customer_number": "+14155550122"})
	eventually(t, "the new leader's invitation", func() bool { return agentState(t, survivor)["callback"] == again })
	survivor.send("POST", "/1/agents/alice/callbacks/"+again+"/accept", "", "", asAlice).wantOK(t)
	eventually(t, "the second callback to complete", func() bool {
		return survivor.get(again)["_callback_reason"] == "AGENT_CONNECTED"
	})
	// Each callback's customer was dialled once: one ROUTING per callback.
	for _, cb := range []string{id, again} {
		evs := survivor.asAdmin("GET", "/1/events?_id="+cb, "", "")
		if n := countOf(string(evs.body), `"to":"ROUTING"`); n != 1 {
			t.Fatalf("%s reached ROUTING %d times: %s", cb, n, evs.body)
		}
	}
}

func countOf(s, sub string) int {
	n := 0
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			n++
		}
	}
	return n
}

var _ = fmt.Sprint
