package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/internal/pgtest"
	"github.com/callbackd/callbackd/server"
)

// Several nodes in one process: each node is a server.Server with its own
// pgx pool on one PostgreSQL schema, as separate processes would be. The
// process-level test with SIGKILLs is cmd/callbackd/multinode_test.go.

// pgNode is one node of a multi-node test.
type pgNode struct {
	*harness
	log *syncBuffer
}

// skewedClock is the machine's clock off by a fixed amount, as on a node
// whose NTP is broken.
type skewedClock time.Duration

func (d skewedClock) Now() time.Time { return callbackd.SystemClock{}.Now().Add(time.Duration(d)) }

// nodeOptions say how a test node keeps time: a shared ManualClock (the
// node's clock as is), or none and a local clock under the database's.
type nodeOptions struct {
	clock *callbackd.ManualClock
	local callbackd.Clock
	// grace is the engine's grace period (default: the server's 5 s,
	// so that nodes of tests about other things run no engine).
	grace time.Duration
}

// newPGNode starts a node on the configuration file cfgPath and the store
// at storeURL.
func newPGNode(t *testing.T, cfgPath, storeURL string, o nodeOptions) *pgNode {
	t.Helper()
	n := &pgNode{harness: &harness{t: t, clock: o.clock, cfgPath: cfgPath, logs: &syncBuffer{}}, log: &syncBuffer{}}
	opts := server.Options{
		ConfigPath: cfgPath, Listen: "127.0.0.1:0", StoreURL: storeURL, LocalClock: o.local,
		Logger: slog.New(slog.NewTextHandler(n.log, nil)), NoDispatch: true, EngineGrace: o.grace,
	}
	if o.clock != nil {
		opts.Clock = o.clock
		opts.Sleep = func(_ context.Context, d time.Duration) bool { o.clock.Advance(d); return true }
	}
	srv, err := server.Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("server.Open: %v", err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	n.srv, n.base = srv, "http://"+srv.Addr()+"/genesys"
	return n
}

// writeFile writes a configuration file in a fresh directory.
func writeFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "callbackd.ini")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// threeNodes starts three nodes sharing a fresh schema, one file and a
// ManualClock at t0.
func threeNodes(t *testing.T, config string) ([]*pgNode, string) {
	t.Helper()
	u, _ := pgtest.Schema(t)
	cfg := writeFile(t, config)
	clock := callbackd.NewManualClock(t0)
	var nodes []*pgNode
	for range 3 {
		nodes = append(nodes, newPGNode(t, cfg, u, nodeOptions{clock: clock}))
	}
	return nodes, u
}

// post sends a Start-Callback and returns the status and the body.
func post(t *testing.T, base, service, body string) (int, string) {
	t.Helper()
	res, err := http.Post(base+"/1/service/callback/"+service, "application/json", strings.NewReader(body))
	if err != nil {
		t.Error(err)
		return 0, ""
	}
	defer res.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(res.Body)
	return res.StatusCode, b.String()
}

const multiNodeCapacityConfig = `
[service.busy]
_max_request_by_time_bucket = 50
_request_time_bucket = 60
_enable_in_queue_checking = false

[service.strict]
_enable_in_queue_checking = strict
`

// TestCapacityExactAcrossNodes sends 200 concurrent requests for the last
// 10 units of a bucket, spread over three nodes: exactly 10 are accepted,
// and the counter, the stored callbacks and every node's availability
// agree.
func TestCapacityExactAcrossNodes(t *testing.T) {
	nodes, _ := threeNodes(t, multiNodeCapacityConfig)
	slot := "2026-03-02T12:00:00.000Z"
	for i := range 40 {
		nodes[i%3].start("busy", map[string]any{"_customer_number": num(), "_desired_time": slot})
	}
	var ok, full, other atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 200 {
		wg.Go(func() {
			<-start
			status, body := post(t, nodes[i%3].base, "busy", `{"_customer_number":"`+num()+`","_desired_time":"`+slot+`"}`)
			switch {
			case status == 200:
				ok.Add(1)
			case status == 400 && strings.Contains(body, `"code":40051`) && strings.Contains(body, "Too many requests at desired time slot"):
				full.Add(1)
			default:
				other.Add(1)
				t.Errorf("unexpected answer %d: %s", status, body)
			}
		})
	}
	close(start)
	wg.Wait()
	if ok.Load() != 10 || full.Load() != 190 || other.Load() != 0 {
		t.Fatalf("accepted %d, refused as full %d, other %d; want exactly 10 accepted over 3 nodes", ok.Load(), full.Load(), other.Load())
	}
	ctx := context.Background()
	stored, err := nodes[1].srv.Store().FindCallbacks(ctx, callbackd.Query{Service: "busy"})
	if err != nil {
		t.Fatal(err)
	}
	counters, err := nodes[2].srv.Store().Counters(ctx, callbackd.SlotCounterPrefix+"busy/", callbackd.SlotCounterPrefix+"busy0")
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 50 || len(counters) != 1 || counters[0].Value != 50 {
		t.Fatalf("stored %d callbacks, counters %+v; want 50 and one counter at 50", len(stored), counters)
	}
	for i, n := range nodes {
		r := n.do("GET", "/2/service/callback/busy/availability?start="+slot+"&report-busy=true", "", "")
		if !strings.Contains(string(r.body), `"capacity":0,"total":50`) {
			t.Errorf("node %d does not report the bucket full: %s", i, r.body)
		}
	}
}

// TestInQueueCheckingAcrossNodes sends one number 30 times at once to three
// nodes of a service with strict in-queue checking: one is accepted, every
// other is NUMBER_ALREADY_BOOKED.
func TestInQueueCheckingAcrossNodes(t *testing.T) {
	nodes, _ := threeNodes(t, multiNodeCapacityConfig)
	var ok, booked atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 30 {
		wg.Go(func() {
			<-start
			status, body := post(t, nodes[i%3].base, "strict", `{"_customer_number":"555-546-1206","_desired_time":"`+ts(time.Hour)+`"}`)
			switch {
			case status == 200:
				ok.Add(1)
			case status == 429 && strings.Contains(body, `"code":40001`) && strings.Contains(body, `"phrase":"NUMBER_ALREADY_BOOKED"`):
				booked.Add(1)
			default:
				t.Errorf("unexpected answer %d: %s", status, body)
			}
		})
	}
	close(start)
	wg.Wait()
	if ok.Load() != 1 || booked.Load() != 29 {
		t.Fatalf("accepted %d, refused %d; want one accepted of 30 on 3 nodes", ok.Load(), booked.Load())
	}
}

// TestSkewedNodeKeepsTheDatabasesTime runs two nodes on the database's
// clock, one of them on a machine whose clock is ten minutes fast. The
// fast node accepts a callback five minutes ahead (by its own clock it
// would be five minutes in the past), does not dispatch it early, and does
// not take a callback whose lease another node holds (by its own clock
// that lease ended nine minutes ago); once the callback is due, it
// dispatches it.
func TestSkewedNodeKeepsTheDatabasesTime(t *testing.T) {
	p := newPlatform(t)
	u, _ := pgtest.Schema(t)
	cfg := writeFile(t, `
[callback]
static-ewt = 0

[service.ors]
_ors = `+p.url()+`
_request_execution_time_buffer = 60
_enable_in_queue_checking = false
`)
	right := newPGNode(t, cfg, u, nodeOptions{})
	fast := newPGNode(t, cfg, u, nodeOptions{local: skewedClock(10 * time.Minute)})
	ctx := context.Background()
	if d := fast.srv.Clock().Now().Sub(callbackd.SystemClock{}.Now()); d.Abs() > time.Second {
		t.Fatalf("the fast node's clock is %v off the real time; want the database's time", d)
	}
	if !strings.Contains(fast.log.String(), "this machine's clock is off the database's") {
		t.Errorf("no warning about the fast machine's clock:\n%s", fast.log)
	}

	desired := callbackd.FormatTime(right.srv.Clock().Now().Add(5 * time.Minute))
	id := fast.start("ors", map[string]any{"_customer_number": num(), "_desired_time": desired})
	for _, n := range []*pgNode{fast, right} {
		if k, err := n.srv.Dispatcher().RunOnce(ctx); k != 0 || err != nil {
			t.Fatalf("a callback due in 5 minutes was claimed (%d, %v)", k, err)
		}
	}
	if subs := p.submissions(); len(subs) != 0 {
		t.Fatalf("submitted early: %v", subs)
	}

	// The right node submits an immediate callback; the platform holds the
	// submission, so its lease is live while the fast node polls.
	p.mu.Lock()
	p.hold, p.received = make(chan struct{}), make(chan struct{})
	release, received := p.hold, p.received
	p.mu.Unlock()
	answered := make(chan string)
	go func() {
		status, body := post(t, right.base, "ors", `{"_customer_number":"`+num()+`"}`)
		if status != 200 {
			t.Errorf("immediate callback: %d %s", status, body)
		}
		answered <- body
	}()
	select {
	case <-received:
	case body := <-answered:
		t.Fatalf("answered before the platform got the submission: %s", body)
	}
	if k, err := fast.srv.Dispatcher().RunOnce(ctx); k != 0 || err != nil {
		t.Fatalf("the fast node claimed %d callbacks (%v) while another node's lease was live", k, err)
	}
	close(release)
	<-answered
	if subs := p.submissions(); len(subs) != 1 || p.duplicates() != nil {
		t.Fatalf("submissions %v; want the immediate callback once", subs)
	}

	// Due now: the fast node dispatches it.
	fast.json("PUT", "/1/service/callback/ors/"+id, map[string]any{"_new_desired_time": callbackd.FormatTime(right.srv.Clock().Now())}).wantOK(t)
	if k, err := fast.srv.Dispatcher().RunOnce(ctx); k != 1 || err != nil {
		t.Fatalf("the fast node claimed %d (%v) once the callback was due; want 1", k, err)
	}
	if subs := p.submissions(); len(subs) != 2 || subs[1] != id+"-1" {
		t.Fatalf("submissions %v; want %s-1 last", subs, id)
	}
}

// TestConfigurationDisagreementReported: nodes publish the fingerprint of
// the configuration they run; while a rollout is half done, nodes warn
// once, naming who runs what, and say so when all agree again. Nodes that
// stopped heartbeating do not count, and a node that stops cleanly leaves.
func TestConfigurationDisagreementReported(t *testing.T) {
	u, _ := pgtest.Schema(t)
	clock := callbackd.NewManualClock(t0)
	const v1 = "[service.cb]\n_ttl = 600\n"
	const v2 = v1 + "[service.new]\n"
	files := []string{writeFile(t, v1), writeFile(t, "; node b's copy, laid out differently\n[service.cb]\n_ttl=600\n"), writeFile(t, v1)}
	var nodes []*pgNode
	for _, f := range files {
		nodes = append(nodes, newPGNode(t, f, u, nodeOptions{clock: clock}))
	}
	ctx := context.Background()
	beat := func(n *pgNode) []callbackd.Node {
		t.Helper()
		live, err := n.srv.Heartbeat(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return live
	}
	const warning = "live nodes run different configurations"
	for _, n := range nodes {
		if live := beat(n); len(live) != 3 {
			t.Fatalf("live nodes %+v, want 3", live)
		}
	}
	for i, n := range nodes {
		if strings.Contains(n.log.String(), warning) {
			t.Fatalf("node %d warns about equal configurations:\n%s", i, n.log)
		}
	}

	// Roll v2 out to node c only: c announces it on reload, a notices.
	if err := os.WriteFile(files[2], []byte(v2), 0o600); err != nil {
		t.Fatal(err)
	}
	if changed, err := nodes[2].srv.CheckConfigFile(); !changed || err != nil {
		t.Fatalf("reload: %v %v", changed, err)
	}
	live := beat(nodes[0])
	configs := map[string]string{}
	for _, n := range live {
		configs[n.ID] = n.Config
	}
	v1fp, v2fp := nodes[0].srv.Config().Fingerprint, nodes[2].srv.Config().Fingerprint
	if v1fp == v2fp || configs[nodes[1].srv.NodeID()] != v1fp || configs[nodes[2].srv.NodeID()] != v2fp {
		t.Fatalf("nodes table %+v; want c on %s, a and b on %s", live, v2fp, v1fp)
	}
	beat(nodes[0])
	logA := nodes[0].log.String()
	if strings.Count(logA, warning) != 1 || !strings.Contains(logA, v2fp+": "+nodes[2].srv.NodeID()) {
		t.Fatalf("node a should warn once, naming node c with %s:\n%s", v2fp, logA)
	}

	// The rest of the rollout: they agree again.
	for _, i := range []int{0, 1} {
		if err := os.WriteFile(files[i], []byte(v2), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := nodes[i].srv.CheckConfigFile(); err != nil {
			t.Fatal(err)
		}
	}
	beat(nodes[0])
	if !strings.Contains(nodes[0].log.String(), "all live nodes run the same configuration again") {
		t.Fatalf("no notice that the rollout is complete:\n%s", nodes[0].log)
	}

	// A node that stops heartbeating with an old configuration stops
	// counting after nodeGone (30 s).
	if err := os.WriteFile(files[1], []byte(v1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := nodes[1].srv.CheckConfigFile(); err != nil {
		t.Fatal(err)
	}
	clock.Advance(31 * time.Second)
	if live := beat(nodes[0]); len(live) != 1 {
		t.Fatalf("live nodes %+v, want only node a after 31 s without the others' heartbeats", live)
	}
	warned := strings.Count(nodes[2].log.String(), warning)
	if live := beat(nodes[2]); len(live) != 2 || strings.Count(nodes[2].log.String(), warning) != warned {
		t.Fatalf("live %+v; node c warned about a node that stopped heartbeating:\n%s", live, nodes[2].log)
	}

	// A clean stop leaves the table.
	if err := nodes[2].srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if live := beat(nodes[0]); len(live) != 1 || live[0].ID != nodes[0].srv.NodeID() {
		t.Fatalf("live %+v after node c stopped; want node a alone", live)
	}
}

// TestDatabaseGone: while the database cannot be reached, clients get the
// spec's error format with 503 SERVICE_UNAVAILABLE (never a hang or a raw
// driver error), the node keeps the database's time from its last sample,
// and everything works again when the database is back.
func TestDatabaseGone(t *testing.T) {
	u, _ := pgtest.Schema(t)
	proxy := pgtest.NewProxy(t, u)
	n := newPGNode(t, writeFile(t, baseConfig), proxy.URL(u), nodeOptions{})
	id := n.start("cb", map[string]any{"_customer_number": num(), "_desired_time": callbackd.FormatTime(n.srv.Clock().Now().Add(time.Hour))})

	proxy.Cut()
	const msg = "The store is temporarily unavailable; retry later."
	n.json("POST", "/1/service/callback/cb", map[string]any{"_customer_number": num(), "_desired_time": callbackd.FormatTime(n.srv.Clock().Now().Add(time.Hour))}).
		wantError(t, 503, 50300, "SERVICE_UNAVAILABLE", msg)
	n.do("GET", "/1/service/callback?_id="+id, "", "").wantError(t, 503, 50300, "SERVICE_UNAVAILABLE", msg)
	n.do("DELETE", "/1/service/callback/cb/"+id, "", "").wantError(t, 503, 50300, "SERVICE_UNAVAILABLE", msg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.srv.SyncClock(ctx); callbackd.ErrorCode(err) != callbackd.CodeUnavailable {
		t.Fatalf("clock sample without database: %v", err)
	}
	if d := n.srv.Clock().Now().Sub(callbackd.SystemClock{}.Now()); d.Abs() > time.Second {
		t.Fatalf("without the database the node's clock drifted to %v off", d)
	}

	proxy.Restore()
	if rec := n.get(id); rec["_callback_state"] != "SCHEDULED" {
		t.Fatalf("after the database came back: %v", rec)
	}
	n.do("DELETE", "/1/service/callback/cb/"+id, "", "").wantOK(t)
	if err := n.srv.SyncClock(ctx); err != nil {
		t.Fatalf("clock sample after the database came back: %v", err)
	}
}
