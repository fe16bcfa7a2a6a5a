package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The cast of the multi-node process test (multinode_test.go): the
// recording platform, the cluster of child processes, what the clients
// know of each callback, and the final recounts.
// mnSubmission is one submission as the platform received it.
type mnSubmission struct {
	key, id string
	attempt int
	node    string // host:port of the submitting node, from _progress_url
	at      time.Time
}

// recordingPlatform is an execution platform that records every
// submission with its idempotency key. A callback created with
// "trap":"1" has the first submission that reaches the platform held
// (never answered): the test kills the node that sent it, in the middle of
// its submission. (Usually attempt 1; a later one if a random kill got the
// first claim's node before it submitted.)
type recordingPlatform struct {
	mu      sync.Mutex
	subs    []mnSubmission
	perKey  map[string]int
	byID    map[string][]mnSubmission
	cancels int
	trapped chan mnSubmission
	held    map[string]bool
	quit    chan struct{} // closed at the end: held submissions give up
}

func (p *recordingPlatform) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodDelete {
		p.mu.Lock()
		p.cancels++
		p.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		return
	}
	var body map[string]string
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	s := mnSubmission{key: r.Header.Get("Idempotency-Key"), id: body["_id"], at: time.Now()}
	s.attempt, _ = strconv.Atoi(body["_attempt"])
	if u, err := url.Parse(body["_progress_url"]); err == nil {
		s.node = u.Host
	}
	p.mu.Lock()
	p.subs = append(p.subs, s)
	p.perKey[s.key]++
	p.byID[s.id] = append(p.byID[s.id], s)
	hold := body["trap"] == "1" && !p.held[s.id]
	if hold {
		p.held[s.id] = true
	}
	p.mu.Unlock()
	if hold {
		p.trapped <- s
		select { // until the node that sent it dies
		case <-r.Context().Done():
		case <-p.quit:
		}
		return
	}
	time.Sleep(time.Duration(rand.IntN(10)) * time.Millisecond) // the platform's own work
	fmt.Fprintf(w, `{"_ors_session_id":"S-%s"}`, s.key)
}

func (p *recordingPlatform) of(id string) []mnSubmission {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]mnSubmission(nil), p.byID[id]...)
}

// cluster is three callbackd processes; a slot is nil while its node is
// down.
type cluster struct {
	t     *testing.T
	args  []string
	mu    sync.Mutex
	nodes [3]*child
	kills atomic.Int32
}

func (c *cluster) start(i int) error {
	var env []string
	if i == mnSkewedNode {
		env = append(env, "CALLBACKD_TEST_CLOCK_SKEW="+mnSkew)
	}
	ch, err := spawn(c.t, c.args, env...)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.nodes[i] = ch
	c.mu.Unlock()
	return nil
}

// pick returns a random live node, or nil when all are down.
func (c *cluster) pick() *child {
	c.mu.Lock()
	defer c.mu.Unlock()
	var live []*child
	for _, n := range c.nodes {
		if n != nil {
			live = append(live, n)
		}
	}
	if len(live) == 0 {
		return nil
	}
	return live[rand.IntN(len(live))]
}

// killRestart kills node i with SIGKILL and starts a new process in its
// place; it does nothing if that node is already down (another goroutine
// is restarting it).
func (c *cluster) killRestart(i int) error {
	c.mu.Lock()
	n := c.nodes[i]
	c.nodes[i] = nil
	c.mu.Unlock()
	if n == nil {
		return nil
	}
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.done
	c.kills.Add(1)
	return c.start(i)
}

// indexOf finds the live node listening on addr.
func (c *cluster) indexOf(addr string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, n := range c.nodes {
		if n != nil && n.addr == addr {
			return i
		}
	}
	return -1
}

// tracked is what the test knows of one acknowledged callback. Operations
// on one callback are sent one at a time, so "its last acknowledged
// operation" is well defined; after an operation without an answer (the
// node died), its outcome is unknown and the callback gets no more.
type tracked struct {
	id, service string
	due         time.Time // due time of the last acknowledged Start/Reschedule; zero: immediate
	trap        bool

	busy      bool
	uncertain bool
	cancelled bool
	cancelAck time.Time // when the Cancel's 200 arrived
}

type mnLoadState struct {
	mu      sync.Mutex
	tracked []*tracked
	byID    map[string]*tracked
	answers map[string]int // "op status code" -> count
	seq     atomic.Int64
}

func (s *mnLoadState) count(op string, status int, body string) {
	code := ""
	if status != 200 && status != 0 {
		var m map[string]any
		if json.Unmarshal([]byte(body), &m) == nil {
			code = fmt.Sprint(m["code"])
		}
	}
	s.mu.Lock()
	s.answers[fmt.Sprintf("%s %d %s", op, status, code)]++
	s.mu.Unlock()
}

// claimOne picks a callback for a Cancel or Reschedule among the 40 most
// recent, so that many operations land before the callback is due.
func (s *mnLoadState) claimOne() *tracked {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.tracked)
	for try := 0; try < 8 && n > 0; try++ {
		tc := s.tracked[n-1-rand.IntN(min(n, 40))]
		if !tc.busy && !tc.uncertain && !tc.cancelled && !tc.trap {
			tc.busy = true
			return tc
		}
	}
	return nil
}

var mnClient = &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}

// send returns the status (0: no answer) and the body.
func send(method, u, body string) (int, string) {
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := mnClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func msTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// desiredSoon is a desired time 2 to 5 s ahead, at millisecond precision
// (the API's), and the due time it implies. Unless the request takes more
// than a second, the node schedules it (desired >= now + buffer).
func desiredSoon() (string, time.Time) {
	d := time.Now().Add(2*time.Second + time.Duration(rand.IntN(3000))*time.Millisecond).Truncate(time.Millisecond)
	return msTime(d), d.Add(-mnBuffer)
}

// readRecords reads every tracked callback through the API, as a client
// would, from any live node.
func readRecords(t *testing.T, cl *cluster, all []*tracked) map[string]map[string]string {
	t.Helper()
	out := make(map[string]map[string]string, len(all))
	var mu sync.Mutex
	var wg sync.WaitGroup
	ids := make(chan string)
	for range 8 {
		wg.Go(func() {
			for id := range ids {
				status, body := send("GET", cl.pick().base+"?_id="+id, "")
				var recs []map[string]string
				if status != 200 || json.Unmarshal([]byte(body), &recs) != nil {
					t.Errorf("query of %s answered %d: %s", id, status, body)
					continue
				}
				if len(recs) == 1 && recs[0]["_id"] == id {
					mu.Lock()
					out[id] = recs[0]
					mu.Unlock()
				}
			}
		})
	}
	for _, tc := range all {
		ids <- tc.id
	}
	close(ids)
	wg.Wait()
	return out
}

// checkBuckets recounts the holds from the callbacks and compares them
// with the counters table, and recounts the small service's buckets from
// the callbacks' desired times: none may hold more than its capacity.
func checkBuckets(t *testing.T, db *pgx.Conn) {
	t.Helper()
	ctx := context.Background()
	collect := func(sql string) map[string]int {
		t.Helper()
		rows, err := db.Query(ctx, sql)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for rows.Next() {
			var k string
			var v int
			if err := rows.Scan(&k, &v); err != nil {
				t.Fatal(err)
			}
			if v != 0 {
				out[k] = v
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	counters := collect(`SELECT key, value FROM counters WHERE key LIKE 'slot/%' OR key LIKE 'queued/%'`)
	held := collect(`SELECT h->>'k', count(*) FROM callbacks, json_array_elements(holds::json) h
		WHERE h->>'k' LIKE 'slot/%' OR h->>'k' LIKE 'queued/%' GROUP BY 1`)
	for k, v := range counters {
		if held[k] != v {
			t.Errorf("counter %s = %d, but %d callbacks hold it", k, v, held[k])
		}
	}
	for k, v := range held {
		if _, ok := counters[k]; !ok {
			t.Errorf("%d callbacks hold %s, which has no counter", v, k)
		}
	}
	// 5-minute buckets on the UTC grid (no office hours).
	buckets := collect(`SELECT 'slot/cap/' || lpad(((desired_time / 300000) * 300000)::text, 15, '0'), count(*)
		FROM callbacks WHERE service = 'cap' AND state <> 'COMPLETED' GROUP BY 1`)
	if len(buckets) == 0 {
		t.Error("no callback of the small-capacity service was kept")
	}
	for k, n := range buckets {
		if n > mnCapacity {
			t.Errorf("bucket %s holds %d callbacks, capacity %d", k, n, mnCapacity)
		}
		if counters[k] != n {
			t.Errorf("bucket %s: %d unfinished callbacks, counter %d", k, n, counters[k])
		}
	}
	t.Logf("buckets of the small service (capacity %d): %v", mnCapacity, buckets)
}
