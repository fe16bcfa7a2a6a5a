package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// TestEngineCrashNothingLostNothingDialledTwice runs the built-in engine
// in a callbackd process with auto-answering agents and the simulated
// dialer (calls ring and talk for real seconds, some numbers are busy),
// kills it with SIGKILL at random instants while callbacks are offered,
// dialled and connected, and restarts it. The simulated dialer's journal
// (a file, so it outlives each process) records every call placed.
// Finally: every acknowledged callback is COMPLETED with a reason a real
// path reaches, no dial key was ever placed twice, no callback was
// dialled more than _max_dial_attempts times, and every agent is free.
func TestEngineCrashNothingLostNothingDialledTwice(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	journal := filepath.Join(t.TempDir(), "dials.jsonl")
	const nAgents = 8
	cfg, db := writeConfig(t, engineCrashConfig(journal, nAgents))

	var acked []string
	var mu sync.Mutex
	const rounds = 5
	for round := range rounds {
		c := startChild(t, cfg, db)
		if round == 0 {
			for i := range nAgents {
				for _, action := range []string{"login", "ready"} {
					c.agentPost(fmt.Sprintf("a%d", i), action)
				}
			}
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range 1 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					number := fmt.Sprintf("+1415555%d%d%02d", round, w, i%100)
					if i%4 == 3 {
						number = fmt.Sprintf("+1555000%d%d%02d", round, w, i%100) // busy: retried
					}
					status, id, err := c.post("support", `{"_customer_number":"`+number+`"}`)
					if err != nil {
						return
					}
					if status != 200 {
						t.Errorf("status %d: %s", status, id)
						return
					}
					mu.Lock()
					acked = append(acked, id)
					mu.Unlock()
					time.Sleep(300 * time.Millisecond) // the customers' pace (about what 8 agents carry): the load, not a wait for time
				}
			}()
		}
		time.Sleep(time.Duration(1500+rand.IntN(2000)) * time.Millisecond) // the crash's timing, not a wait for time to pass
		_ = c.cmd.Process.Signal(syscall.SIGKILL)
		close(stop)
		wg.Wait()
		<-c.done
	}

	if len(acked) < 20 {
		t.Fatalf("only %d callbacks acknowledged: the test proves nothing", len(acked))
	}
	// A last run finishes what was left: every callback reaches COMPLETED.
	c := startChild(t, cfg, db)
	placed, reasons := checkEngineRun(t, c, acked, journal)
	t.Logf("%d acknowledged callbacks over %d SIGKILLs, %d calls placed, reasons %v: none lost, no key dialled twice, every agent free",
		len(acked), rounds, placed, reasons)
}

// engineCrashConfig is the crash tests' configuration: a builtin service
// dialling each customer at most 3 times, 1 s apart, with no limits in
// the way; nAgents auto-answering agents a0, a1, ... (password pw) who are
// never logged out for silence; the admin (pw); and the simulated dialer,
// whose calls ring and talk for a real second, numbers +1555000... busy,
// with its journal in the given file.
func engineCrashConfig(journal string, nAgents int) string {
	hash, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	var agents strings.Builder
	for i := range nAgents {
		fmt.Fprintf(&agents, "[agent.a%d]\npassword = %s\nqueues = support\nphone = sip:a%d@pbx\nauto_answer = true\n\n", i, hash, i)
	}
	return `
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
journal = ` + journal + `
outcome.busy = ^\+1555000
[users]
admin = ` + string(hash) + "\n\n" + agents.String()
}

// checkEngineRun waits until every acknowledged callback is COMPLETED
// (through node c) and checks what the crash tests promise: none lost,
// only reasons these calls can reach, no dial key placed twice, no
// customer dialled more than _max_dial_attempts (3) times, every agent
// free. It returns the calls placed and the reasons, for the log.
func checkEngineRun(t *testing.T, c *child, acked []string, journal string) (int, map[string]int) {
	t.Helper()
	reasons := map[string]int{}
	deadline := time.Now().Add(90 * time.Second)
	for _, id := range acked {
		for {
			rec := c.record(id)
			if rec == nil {
				t.Fatalf("acknowledged callback %s lost", id)
			}
			if rec["_callback_state"] == "COMPLETED" {
				reasons[rec["_callback_reason"]]++
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("callback %s still %s; agents %v", id, rec["_callback_state"], c.agents())
			}
			time.Sleep(50 * time.Millisecond) // polling the child's progress
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
	for _, a := range c.agents() {
		if a["state"] != "READY" || a["callback"] != "" {
			t.Errorf("agent %v not freed", a)
		}
	}
	return len(perKey), reasons
}

// agentPost sends an agent action as the admin.
func (c *child) agentPost(agent, action string) {
	c.t.Helper()
	if status := c.agentStatus(agent, action); status != 200 {
		c.t.Fatalf("%s %s: %d", agent, action, status)
	}
}

// httpClient bounds the tests' requests to a child.
var httpClient = &http.Client{Timeout: 10 * time.Second}

// newAdminRequest is a request with the test configurations' admin
// credentials (admin / pw).
func newAdminRequest(method, url string) (*http.Request, error) {
	req, err := http.NewRequest(method, url, nil)
	if err == nil {
		req.SetBasicAuth("admin", "pw")
	}
	return req, err
}

// readJournal counts the simulated dialer's journal: calls placed per dial
// key, and customer calls per callback.
func readJournal(t *testing.T, path string) (perKey, perCallback map[string]int) {
	t.Helper()
	perKey, perCallback = map[string]int{}, map[string]int{}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var d map[string]string
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatalf("journal line %q: %v", sc.Text(), err)
		}
		perKey[d["key"]]++
		if d["leg"] == "customer" {
			perCallback[strings.SplitN(d["key"], "/", 2)[0]]++
		}
	}
	return perKey, perCallback
}

// record returns a callback as the query by id shows it, or nil.
func (c *child) record(id string) map[string]string {
	c.t.Helper()
	res, err := http.Get(c.base + "?_id=" + id)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	var recs []map[string]string
	if err := json.NewDecoder(res.Body).Decode(&recs); err != nil || len(recs) != 1 {
		return nil
	}
	return recs[0]
}

// agents lists the agents as the admin sees them.
func (c *child) agents() []map[string]any {
	c.t.Helper()
	req, _ := newAdminRequest("GET", "http://"+c.addr+"/genesys/1/agents")
	res, err := httpClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		Agents []map[string]any `json:"agents"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		c.t.Fatal(err)
	}
	return body.Agents
}
