package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"syscall"
	"testing"
	"time"
)

// countingPlatform is an execution platform that counts submissions per
// idempotency key and per callback, answering after a short random delay
// so that kills land before, during and after submissions.
type countingPlatform struct {
	mu     sync.Mutex
	perKey map[string]int
	perID  map[string]int
}

func (p *countingPlatform) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body map[string]string
	_ = json.NewDecoder(r.Body).Decode(&body)
	time.Sleep(time.Duration(rand.IntN(15)) * time.Millisecond) // the platform's own work, not a test wait
	p.mu.Lock()
	p.perKey[r.Header.Get("Idempotency-Key")]++
	p.perID[body["_id"]]++
	p.mu.Unlock()
	fmt.Fprintf(w, `{"_ors_session_id":"S-%s"}`, r.Header.Get("Idempotency-Key"))
}

// TestDispatchCrashNothingLostNothingDoubled kills callbackd with SIGKILL
// at random instants while it claims and submits scheduled and immediate
// callbacks, restarts it, and finally checks: every acknowledged callback
// was submitted, and no idempotency key was ever submitted twice.
func TestDispatchCrashNothingLostNothingDoubled(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	p := &countingPlatform{perKey: map[string]int{}, perID: map[string]int{}}
	ps := httptest.NewServer(p)
	defer ps.Close()
	cfg, db := writeConfig(t, `
[server]
listen = 127.0.0.1:0
[dispatcher]
lease = 2
max_per_second = 0
[service.cb]
_ors = `+ps.URL+`
_request_execution_time_buffer = 0
_throttle_callbacks_per_service_1 = 0
_throttle_callbacks_per_service_2 = 0
_max_request_by_time_bucket = 100000
_max_queued_callbacks_per_service = 100000
_enable_in_queue_checking = false
`)
	var mu sync.Mutex
	var acked []string
	const rounds = 6
	for round := 0; round < rounds; round++ {
		c := startChild(t, cfg, db)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					body := fmt.Sprintf(`{"_customer_number":"555%d%d%05d"}`, round, w, i)
					if i%2 == 0 { // scheduled, due within the next two seconds
						desired := time.Now().UTC().Add(time.Duration(200+rand.IntN(1800)) * time.Millisecond)
						body = fmt.Sprintf(`{"_customer_number":"555%d%d%05d","_desired_time":"%s"}`, round, w, i, desired.Format("2006-01-02T15:04:05.000Z"))
					}
					status, id, err := c.post("cb", body)
					if err != nil {
						return
					}
					if status == 200 {
						mu.Lock()
						acked = append(acked, id)
						mu.Unlock()
					} else {
						t.Errorf("status %d: %s", status, id)
						return
					}
				}
			}(w)
		}
		// Let it work for a random while, then kill it without warning.
		time.Sleep(time.Duration(300+rand.IntN(700)) * time.Millisecond) // the load runs meanwhile: this is the crash's timing, not a wait for time to pass
		_ = c.cmd.Process.Signal(syscall.SIGKILL)
		close(stop)
		wg.Wait()
		<-c.done
	}
	// A last run finishes what was due: expired leases are rescued.
	c := startChild(t, cfg, db)
	deadline := time.Now().Add(60 * time.Second)
	for {
		p.mu.Lock()
		missing := 0
		for _, id := range acked {
			if p.perID[id] == 0 {
				missing++
			}
		}
		p.mu.Unlock()
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged callbacks never submitted", missing, len(acked))
		}
		time.Sleep(100 * time.Millisecond) // polling the platform's count
	}
	for _, id := range acked {
		if !c.exists(id) {
			t.Fatalf("acknowledged callback %s lost", id)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	retried := 0
	for key, n := range p.perKey {
		if n > 1 {
			t.Errorf("idempotency key %s submitted %d times", key, n)
		}
	}
	for _, n := range p.perID {
		if n > 1 {
			retried++
		}
	}
	t.Logf("%d acknowledged callbacks over %d SIGKILLs: all submitted, no key twice; %d callbacks needed a second attempt after a crash", len(acked), rounds, retried)
}
