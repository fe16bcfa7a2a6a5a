package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callbackd/callbackd/internal/pgtest"
)

// The multi-node process test: three callbackd processes on one
// PostgreSQL schema, under a load of Start, Cancel and Reschedule sent to
// any of them, while nodes are killed with SIGKILL at random instants (and
// on purpose in the middle of a submission) and restarted. One node's
// machine clock is ten minutes fast. Afterwards, once leases have expired
// and the nodes have drained what was due:
//
//   - every acknowledged callback exists, in the state its last
//     acknowledged operation implies;
//   - the platform received every idempotency key at most once, every
//     callback due and not cancelled was submitted, none before it was due,
//     and none that was cancelled before it was due;
//   - a node killed while its submission was at the platform lost
//     nothing: another node took the callback over under the next attempt,
//     and only once its lease had expired;
//   - no bucket holds more than its capacity, and the counters table
//     agrees with a recount from the callbacks.

// Load shape. The lease is short so that rescues happen within the test.
const (
	mnLease      = 2 * time.Second
	mnLoad       = 12 * time.Second
	mnWorkers    = 6
	mnBuffer     = time.Second // _request_execution_time_buffer: due = desired - 1 s
	mnCapacity   = 20          // per 5-minute bucket of service "cap"
	mnTraps      = 3
	mnSkewedNode = 1
	mnSkew       = "10m"
	// mnClockError bounds how far a node's reading of the database's clock
	// may be off on a loaded test machine (half a sample's round trip).
	mnClockError = 100 * time.Millisecond
)

func multiNodeConfig(platformURL string) string {
	return fmt.Sprintf(`
[server]
listen = 127.0.0.1:0
[callback]
static-ewt = 0
[dispatcher]
lease = %d
max_per_second = 0
[service.cb]
_ors = %s
_request_execution_time_buffer = %d
_throttle_callbacks_per_service_1 = 0
_throttle_callbacks_per_service_2 = 0
_max_request_by_time_bucket = 100000
_max_queued_callbacks_per_service = 100000
_enable_in_queue_checking = false
[service.cap]
_ors = %s
_request_execution_time_buffer = %d
_throttle_callbacks_per_service_1 = 0
_throttle_callbacks_per_service_2 = 0
_request_time_bucket = 5
_max_request_by_time_bucket = %d
_max_queued_callbacks_per_service = 100000
_enable_in_queue_checking = false
`, int(mnLease/time.Second), platformURL, int(mnBuffer/time.Second), platformURL, int(mnBuffer/time.Second), mnCapacity)
}

func TestMultiNodeNothingLostDoubledOrOverbooked(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node process test skipped in -short mode")
	}
	began := time.Now()
	storeURL, _ := pgtest.Schema(t)
	p := &recordingPlatform{perKey: map[string]int{}, byID: map[string][]mnSubmission{},
		trapped: make(chan mnSubmission, 16), held: map[string]bool{}, quit: make(chan struct{})}
	ps := httptest.NewServer(p)
	defer ps.Close()
	defer close(p.quit)
	cfg, _ := writeConfig(t, multiNodeConfig(ps.URL))
	cl := &cluster{t: t, args: []string{"-config", cfg, "-store", storeURL}}
	// The first node migrates the schema; the others start together.
	if err := cl.start(0); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	// report keeps the first errors of the load's goroutines for the test
	// goroutine (only it may end the test); the rest are dropped.
	report := func(err error) {
		select {
		case errs <- err:
		default:
		}
	}
	for i := 1; i < 3; i++ {
		wg.Go(func() {
			if err := cl.start(i); err != nil {
				report(err)
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}

	st := &mnLoadState{byID: map[string]*tracked{}, answers: map[string]int{}}
	stop := make(chan struct{})
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}

	// Clients: Start (scheduled, immediate, into the small bucket), Cancel
	// and Reschedule, each sent to any live node.
	var load sync.WaitGroup
	for range mnWorkers {
		load.Go(func() {
			for !stopped() {
				n := cl.pick()
				if n == nil {
					time.Sleep(10 * time.Millisecond) // every node is restarting
					continue
				}
				r := rand.IntN(100)
				switch {
				case r < 65:
					service, desired, due := "cb", "", time.Time{}
					if r < 50 {
						desired, due = desiredSoon()
					}
					if r < 20 {
						service = "cap"
					}
					body := fmt.Sprintf(`{"_customer_number":"555%07d"`, st.seq.Add(1))
					if desired != "" {
						body += `,"_desired_time":"` + desired + `"`
					}
					status, resp := send("POST", n.base+"/"+service, body+"}")
					st.count("start-"+service, status, resp)
					if status == 200 {
						var m map[string]string
						_ = json.Unmarshal([]byte(resp), &m)
						if m["_action"] == "ConfirmationDialog" { // the node took it as immediate
							due = time.Time{}
						}
						tc := &tracked{id: m["_id"], service: service, due: due}
						st.mu.Lock()
						st.tracked = append(st.tracked, tc)
						st.byID[tc.id] = tc
						st.mu.Unlock()
					} else if status >= 500 {
						report(fmt.Errorf("Start answered %d: %s", status, resp))
					}
				case r < 82:
					tc := st.claimOne()
					if tc == nil {
						continue
					}
					status, resp := send("DELETE", n.base+"/"+tc.service+"/"+tc.id, "")
					st.count("cancel", status, resp)
					st.mu.Lock()
					switch {
					case status == 200:
						tc.cancelled, tc.cancelAck = true, time.Now()
					case status == 0 || status >= 500:
						tc.uncertain = true
					}
					tc.busy = false
					st.mu.Unlock()
					if status >= 500 {
						report(fmt.Errorf("Cancel answered %d: %s", status, resp))
					}
				default:
					tc := st.claimOne()
					if tc == nil {
						continue
					}
					desired, due := desiredSoon()
					status, resp := send("PUT", n.base+"/"+tc.service+"/"+tc.id, `{"_new_desired_time":"`+desired+`"}`)
					st.count("reschedule", status, resp)
					st.mu.Lock()
					switch {
					case status == 200:
						tc.due = due
					case status == 0 || status >= 500:
						tc.uncertain = true
					}
					tc.busy = false
					st.mu.Unlock()
					if status >= 500 {
						report(fmt.Errorf("Reschedule answered %d: %s", status, resp))
					}
				}
			}
		})
	}

	// Chaos: a random node is killed and restarted every 0.8 to 1.6 s. The
	// restart runs on its own, so that kills go on while a node starts (a
	// kill that finds its node still down does nothing).
	var restarts sync.WaitGroup
	killRestart := func(i int) {
		restarts.Go(func() {
			if err := cl.killRestart(i); err != nil {
				report(err)
			}
		})
	}
	load.Go(func() {
		for !stopped() {
			select {
			case <-stop:
				return
			case <-time.After(800*time.Millisecond + time.Duration(rand.IntN(800))*time.Millisecond): // the crash's timing
			}
			killRestart(rand.IntN(3))
		}
	})

	// Traps: callbacks whose first submission the platform holds; the node
	// that sent it is killed while it waits for the answer. Traps are made
	// during the load; the killer runs until the drain is over.
	var traps []*tracked
	load.Go(func() {
		next := time.After(time.Second)
		for len(traps) < mnTraps {
			select {
			case <-stop:
				return
			case <-next:
			}
			next = time.After(2500 * time.Millisecond)
			n := cl.pick()
			if n == nil {
				continue
			}
			d := time.Now().Add(2 * time.Second).Truncate(time.Millisecond)
			status, resp := send("POST", n.base+"/cb", fmt.Sprintf(`{"_customer_number":"555%07d","_desired_time":"%s","trap":"1"}`, st.seq.Add(1), msTime(d)))
			if status != 200 {
				next = time.After(100 * time.Millisecond) // its node died: try again soon
				continue
			}
			var m map[string]string
			_ = json.Unmarshal([]byte(resp), &m)
			tc := &tracked{id: m["_id"], service: "cb", due: d.Add(-mnBuffer), trap: true}
			st.mu.Lock()
			st.tracked = append(st.tracked, tc)
			st.byID[tc.id] = tc
			traps = append(traps, tc)
			st.mu.Unlock()
		}
	})
	var trapKills []mnSubmission
	killerStop, killerDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(killerDone)
		for {
			select {
			case <-killerStop:
				return
			case s := <-p.trapped:
				st.mu.Lock()
				trapKills = append(trapKills, s)
				st.mu.Unlock()
				if i := cl.indexOf(s.node); i >= 0 {
					killRestart(i)
				}
			}
		}
	}()
	stopKiller := func() {
		select {
		case <-killerStop:
		default:
			close(killerStop)
			<-killerDone
		}
		restarts.Wait()
	}
	defer stopKiller()

	time.Sleep(mnLoad) // the load runs meanwhile: this is its duration, not a wait for logic
	close(stop)
	load.Wait()
	restarts.Wait()
	loadEnded := time.Now()
	failed := func() {
		for {
			select {
			case err := <-errs:
				t.Error(err)
			default:
				if t.Failed() {
					t.FailNow()
				}
				return
			}
		}
	}
	failed()
	for i := range cl.nodes {
		cl.mu.Lock()
		down := cl.nodes[i] == nil
		cl.mu.Unlock()
		if down {
			if err := cl.start(i); err != nil {
				t.Fatal(err)
			}
		}
	}

	// Drain: expired leases are rescued and what is due goes out. Poll the
	// database until nothing is left to dispatch and no lease is held.
	db := pgtest.Conn(t, storeURL)
	ctx := context.Background()
	deadline := time.Now().Add(40 * time.Second)
	for {
		var pending int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM callbacks WHERE state IN ('SCHEDULED', 'QUEUED') AND (session_id = '' OR lease_owner <> '')`).Scan(&pending); err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d callbacks still undispatched or leased 40 s after the load", pending)
		}
		time.Sleep(100 * time.Millisecond) // polling the database, not waiting for logic
	}
	drained := time.Since(loadEnded)
	stopKiller()
	failed()

	st.mu.Lock()
	all := append([]*tracked(nil), st.tracked...)
	st.mu.Unlock()
	records := readRecords(t, cl, all)
	// A Reschedule that took more than a second made its callback
	// immediate (due at once): its due time is not the one asked for.
	flipped := map[string]bool{}
	rows, err := db.Query(ctx, `SELECT DISTINCT callback_id FROM events WHERE type = 'state_changed' AND source = 'api' AND to_state = 'QUEUED'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		flipped[id] = true
	}
	rows.Close()

	p.mu.Lock()
	for key, n := range p.perKey {
		if n != 1 {
			t.Errorf("idempotency key %s submitted %d times", key, n)
		}
	}
	p.mu.Unlock()

	var certain, cancelledEarly, cancelled, rescued int
	for _, tc := range all {
		rec, ok := records[tc.id]
		if !ok {
			t.Errorf("acknowledged callback %s (%s) lost", tc.id, tc.service)
			continue
		}
		subs := p.of(tc.id)
		if len(subs) > 0 && subs[len(subs)-1].attempt > 1 {
			rescued++
		}
		if tc.uncertain {
			continue // exists; its last operation may or may not have happened
		}
		certain++
		if flipped[tc.id] {
			tc.due = time.Time{}
		}
		if tc.cancelled {
			cancelled++
			if rec["_callback_state"] != "COMPLETED" || rec["_callback_reason"] != "CANCELLED" {
				t.Errorf("cancelled callback %s is %s/%s", tc.id, rec["_callback_state"], rec["_callback_reason"])
			}
			if !tc.due.IsZero() && tc.cancelAck.Before(tc.due.Add(-mnClockError)) {
				cancelledEarly++
				if len(subs) > 0 {
					t.Errorf("callback %s cancelled %v before it was due was submitted: %+v", tc.id, tc.due.Sub(tc.cancelAck), subs)
				}
			}
			continue
		}
		if len(subs) == 0 {
			t.Errorf("callback %s (due %v) never submitted; record %v", tc.id, tc.due, rec)
			continue
		}
		last := subs[0]
		for _, s := range subs {
			if s.attempt > last.attempt {
				last = s
			}
			if s.key != fmt.Sprintf("%s-%d", tc.id, s.attempt) {
				t.Errorf("submission %+v: key is not {id}-{attempt}", s)
			}
			if !tc.due.IsZero() && s.at.Before(tc.due.Add(-mnClockError)) {
				t.Errorf("callback %s submitted %v before it was due (node %s)", tc.id, tc.due.Sub(s.at), s.node)
			}
		}
		if rec["_callback_state"] != "QUEUED" || rec["_ors_session_id"] != "S-"+last.key {
			t.Errorf("submitted callback %s is %s with session %q; want QUEUED with S-%s", tc.id, rec["_callback_state"], rec["_ors_session_id"], last.key)
		}
	}

	// Traps: each held attempt died with its node; another node took the
	// callback over under the next attempt, only after the lease had
	// expired (counted from the first claim, in the events).
	// (A trap whose Start lost its answer with its node is held and
	// killed too, but not tracked: it only adds a kill.)
	if len(traps) != mnTraps {
		t.Fatalf("%d trap callbacks acknowledged, want %d", len(traps), mnTraps)
	}
	for _, tc := range traps {
		subs := p.of(tc.id)
		if len(subs) < 2 || subs[1].attempt <= subs[0].attempt || subs[0].node == subs[1].node {
			t.Errorf("trap %s: submissions %+v; want the held attempt from the killed node, a later one from another node", tc.id, subs)
			continue
		}
		var claimed int64
		if err := db.QueryRow(ctx, `SELECT min(time) FROM events WHERE callback_id = $1 AND type = 'state_changed' AND to_state = 'QUEUED'`, tc.id).Scan(&claimed); err != nil {
			t.Fatal(err)
		}
		if gap := subs[1].at.Sub(time.UnixMilli(claimed)); gap < mnLease-mnClockError {
			t.Errorf("trap %s rescued %v after its claim, before its %v lease expired", tc.id, gap, mnLease)
		}
	}

	checkBuckets(t, db)

	p.mu.Lock()
	submissions := len(p.subs)
	p.mu.Unlock()
	st.mu.Lock()
	answers := make([]string, 0, len(st.answers))
	for k, v := range st.answers {
		answers = append(answers, fmt.Sprintf("%s: %d", k, v))
	}
	st.mu.Unlock()
	sort.Strings(answers)
	t.Logf("%d acknowledged callbacks (%d with a certain last operation, %d cancelled, %d of them before due), %d submissions, %d callbacks rescued under a later attempt, %d SIGKILLs (%d of them in mid-submission); drained in %v; total %v",
		len(all), certain, cancelled, cancelledEarly, submissions, rescued, cl.kills.Load(), len(trapKills), drained.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
	t.Logf("answers: %s", strings.Join(answers, ", "))
	if cancelledEarly == 0 || rescued < mnTraps {
		t.Errorf("the load did not exercise what it checks: %d cancels before due, %d rescues", cancelledEarly, rescued)
	}
}
