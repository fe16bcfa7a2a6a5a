package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/callbackd/callbackd/internal/pgtest"
)

// TestEngineLeaderKilled runs two callbackd processes on one PostgreSQL
// schema with a builtin service: one runs the engine, the other hands
// callbacks over and forwards the agent API. Callbacks are started on
// either node while the engine's node is killed with SIGKILL, three
// times, mid-call; the other node takes the engine over and the killed
// one comes back as a follower. Finally every acknowledged callback is
// COMPLETED, no dial key was placed twice (the simulated dialer's journal
// is one file for both processes), no callback was dialled more than
// _max_dial_attempts times, and every agent is free.
func TestEngineLeaderKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	storeURL, _ := pgtest.Schema(t)
	hash, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	journal := filepath.Join(t.TempDir(), "dials.jsonl")
	var agents strings.Builder
	const nAgents = 6
	for i := range nAgents {
		fmt.Fprintf(&agents, "[agent.a%d]\npassword = %s\nqueues = support\nphone = sip:a%d@pbx\nauto_answer = true\n\n", i, hash, i)
	}
	cfg, _ := writeConfig(t, `
[server]
listen = 127.0.0.1:0
[agents]
heartbeat = 600
[service.support]
_type = builtin
_max_dial_attempts = 3
_dial_retry_timeout = 1
_throttle_callbacks_per_service_1 = 0
_throttle_callbacks_per_service_2 = 0
_max_request_by_time_bucket = 100000
_max_queued_callbacks_per_service = 100000
_enable_in_queue_checking = false
[dialer]
type = simulated
ring_seconds = 1
talk_seconds = 1
journal = `+journal+`
[users]
admin = `+string(hash)+"\n\n"+agents.String())
	args := []string{"-config", cfg, "-store", storeURL}
	var mu sync.Mutex
	nodes := [2]*child{}
	for i := range nodes {
		c, err := spawn(t, args)
		if err != nil {
			t.Fatal(err)
		}
		nodes[i] = c
	}
	live := func() []*child {
		mu.Lock()
		defer mu.Unlock()
		return []*child{nodes[0], nodes[1]}
	}
	// The agents log in through whichever node: it is forwarded to the
	// engine's node once one runs it (after its grace period).
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; i < nAgents; i++ {
		for _, action := range []string{"login", "ready"} {
			for live()[i%2].agentStatus(fmt.Sprintf("a%d", i), action) != 200 {
				if time.Now().After(deadline) {
					t.Fatal("no node runs the engine")
				}
				time.Sleep(100 * time.Millisecond) // the election's grace period
			}
		}
	}
	db, err := pgx.Connect(context.Background(), storeURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.Background())

	var acked []string
	const kills = 3
	for round := range kills {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				c := live()[rand.IntN(2)]
				status, id, err := c.post("support", fmt.Sprintf(`{"_customer_number":"+1415555%d%03d"}`, round, i%1000))
				if err == nil && status == 200 {
					mu.Lock()
					acked = append(acked, id)
					mu.Unlock()
				}
				time.Sleep(250 * time.Millisecond) // the customers' pace: the load, not a wait for time
			}
		}()
		time.Sleep(time.Duration(2000+rand.IntN(1500)) * time.Millisecond) // the crash's timing
		var addr string
		if err := db.QueryRow(context.Background(), `SELECT addr FROM engine_leader`).Scan(&addr); err != nil {
			t.Fatal(err)
		}
		victim := -1
		for i, c := range live() {
			if strings.Contains(addr, c.addr) {
				victim = i
			}
		}
		if victim < 0 {
			t.Fatalf("the leader %s is none of the nodes", addr)
		}
		_ = nodes[victim].cmd.Process.Signal(syscall.SIGKILL)
		<-nodes[victim].done
		c, err := spawn(t, args)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		nodes[victim] = c
		mu.Unlock()
		close(stop)
		wg.Wait()
	}
	mu.Lock()
	defer mu.Unlock()
	if len(acked) < 15 {
		t.Fatalf("only %d callbacks acknowledged: the test proves nothing", len(acked))
	}
	reasons := map[string]int{}
	deadline = time.Now().Add(90 * time.Second)
	for _, id := range acked {
		for {
			rec := nodes[0].record(id)
			if rec == nil {
				t.Fatalf("acknowledged callback %s lost", id)
			}
			if rec["_callback_state"] == "COMPLETED" {
				reasons[rec["_callback_reason"]]++
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("callback %s still %s", id, rec["_callback_state"])
			}
			time.Sleep(50 * time.Millisecond) // polling the nodes' progress
		}
	}
	for reason := range reasons {
		if reason != "AGENT_CONNECTED" && reason != "FAIL_CALL_TO_CUSTOMER" {
			t.Errorf("reason %s: not one the calls of this test can reach", reason)
		}
	}
	perKey, perCallback := readJournal(t, journal)
	for key, n := range perKey {
		if n > 1 {
			t.Errorf("dial key %s placed %d times", key, n)
		}
	}
	for id, n := range perCallback {
		if n > 3 {
			t.Errorf("callback %s dialled %d times, more than _max_dial_attempts", id, n)
		}
	}
	for _, a := range nodes[1].agents() {
		if a["state"] != "READY" || a["callback"] != "" {
			t.Errorf("agent %v not freed", a)
		}
	}
	t.Logf("%d acknowledged callbacks over %d SIGKILLs of the engine's node, %d calls placed, reasons %v: none lost, no key dialled twice, every agent free",
		len(acked), kills, len(perKey), reasons)
}

// agentStatus sends an agent action as the admin and returns the status.
func (c *child) agentStatus(agent, action string) int {
	req, _ := newAdminRequest("POST", "http://"+c.addr+"/genesys/1/agents/"+agent+"/"+action)
	res, err := httpClient.Do(req)
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}
