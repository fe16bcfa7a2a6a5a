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
	journal := filepath.Join(t.TempDir(), "dials.jsonl")
	const nAgents = 6
	cfg, _ := writeConfig(t, engineCrashConfig(journal, nAgents))
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
	placed, reasons := checkEngineRun(t, nodes[0], acked, journal)
	t.Logf("%d acknowledged callbacks over %d SIGKILLs of the engine's node, %d calls placed, reasons %v: none lost, no key dialled twice, every agent free",
		len(acked), kills, placed, reasons)
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
