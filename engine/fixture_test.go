package engine_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/callbacks"
	"github.com/callbackd/callbackd/engine"
	"github.com/callbackd/callbackd/inifile"
	"github.com/callbackd/callbackd/simdialer"
	"github.com/callbackd/callbackd/sqlite"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// hash is one bcrypt hash for every test agent (the engine never checks
// passwords; the configuration needs one).
var hash = func() string {
	h, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	return string(h)
}()

// baseConfig is a builtin service "support" and agents alice and bob
// serving its queue, with the simulated dialer: person unless the number
// says otherwise, no ring, no talk. extra is appended to [service.support].
func baseConfig(extra string) string {
	return `
[service.support]
_type = builtin
_request_execution_time_buffer = 0
_dial_retry_timeout = 60
` + extra + `

[agent.alice]
password = ` + hash + `
queues = support
phone = sip:alice@pbx

[agent.bob]
password = ` + hash + `
queues = support
phone = sip:bob@pbx

[dialer]
type = simulated
outcome.busy = ^\+1555000
outcome.machine = ^\+1555001
outcome.fax = ^\+1555002
outcome.invalid = ^\+1555004
`
}

// fixture is an engine on a real SQLite store, a ManualClock and the
// simulated dialer behind a recorder.
type fixture struct {
	t      testing.TB
	ctx    context.Context
	clock  *callbackd.ManualClock
	store  *sqlite.Store
	cfg    *callbackd.Config
	dialer *recorder
	eng    *engine.Engine
	seq    int
	path   string
}

func newFixture(t testing.TB, ini string) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), clock: callbackd.NewManualClock(t0), cfg: parseConfig(t, ini),
		path: filepath.Join(t.TempDir(), "engine.db")}
	f.open()
	return f
}

// parseConfig validates a test configuration.
func parseConfig(tb testing.TB, ini string) *callbackd.Config {
	tb.Helper()
	sections, err := inifile.Parse([]byte(ini))
	if err != nil {
		tb.Fatal(err)
	}
	cfg, err := callbackd.NewConfig(sections)
	if err != nil {
		tb.Fatal(err)
	}
	return cfg
}

// open starts an engine on the fixture's database (again, for restarts).
func (f *fixture) open() {
	f.t.Helper()
	store, err := sqlite.Open(f.ctx, f.path)
	if err != nil {
		f.t.Fatal(err)
	}
	rules := make([]simdialer.Rule, len(f.cfg.Dialer.Rules))
	for i, r := range f.cfg.Dialer.Rules {
		rules[i] = simdialer.Rule{Outcome: r.Outcome, Pattern: r.Pattern}
	}
	if f.dialer == nil {
		f.dialer = &recorder{}
	}
	f.dialer.Dialer = simdialer.New(simdialer.Options{Clock: f.clock, Rules: rules, Ring: f.cfg.Dialer.Ring, Talk: f.cfg.Dialer.Talk})
	config := func() *callbackd.Config { return f.cfg }
	stats := engine.NewStats(config)
	f.store = store
	f.eng = engine.New(engine.Options{Store: store, Agents: store, Dialer: f.dialer, Clock: f.clock, Config: config,
		Policy: &callbacks.Policy{Store: store, Clock: f.clock, Config: config, EWT: stats}, Stats: stats,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := f.eng.Start(f.ctx); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(f.close)
}

func (f *fixture) close() {
	f.eng.Stop()
	_ = f.store.Close()
}

// restart stops the engine and starts a new one on the same store, as a
// process restart would (the dialer's memory of keys survives, as a
// carrier's would: a reused key would show as ErrAlreadyDialled).
func (f *fixture) restart() {
	f.t.Helper()
	f.close()
	f.open()
}

// submit stores an immediate callback for number and hands it to the
// engine as the dispatcher would (claimed, then submitted); props are
// extra properties.
func (f *fixture) submit(number string, props ...string) string {
	f.t.Helper()
	f.seq++
	id := fmt.Sprintf("cb-%03d", f.seq)
	now := f.clock.Now()
	cb := &callbackd.Callback{ID: id, Service: "support", State: callbackd.StateQueued, CustomerNumber: number,
		DesiredTime: now, ExpirationTime: now.Add(24 * time.Hour), DueAt: now, CreatedAt: now, UpdatedAt: now,
		Properties: map[string]string{}}
	for i := 0; i+1 < len(props); i += 2 {
		cb.Properties[props[i]] = props[i+1]
	}
	if err := f.store.CreateCallback(f.ctx, cb, []callbackd.Event{cb.Accepted(now, "test")}); err != nil {
		f.t.Fatal(err)
	}
	claimed, err := f.store.ClaimDue(f.ctx, callbackd.ClaimQuery{Now: now, Limit: 1, ID: id}, func(c *callbackd.Callback) ([]callbackd.Event, error) {
		return c.Claim(now, "test-node", now.Add(time.Minute))
	})
	if err != nil || len(claimed) != 1 {
		f.t.Fatalf("claim %s: %v (%d)", id, err, len(claimed))
	}
	policy := &callbacks.Policy{Store: f.store, Clock: f.clock, Config: func() *callbackd.Config { return f.cfg }}
	opts, params, _, err := policy.Execution(claimed[0])
	if err != nil {
		f.t.Fatal(err)
	}
	sid, err := f.eng.Submit(f.ctx, callbackd.Submission{Callback: claimed[0], Attempt: 1, Options: opts, Params: params})
	if err != nil || sid != "builtin-"+id {
		f.t.Fatalf("Submit(%s) = %q, %v", id, sid, err)
	}
	return id
}

// get reads a callback from the store.
func (f *fixture) get(id string) *callbackd.Callback {
	f.t.Helper()
	cb, err := f.store.GetCallback(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return cb
}

// eventually waits for cond, which reads what goroutines of the engine
// write: it waits for work to be done, never for business time to pass
// (the ManualClock only moves when a test moves it).
func (f *fixture) eventually(what string, cond func() bool) {
	f.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			f.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitState waits until the callback is in state (and, for COMPLETED,
// has reason) and returns it.
func (f *fixture) waitState(id string, state callbackd.State, reason callbackd.Reason) *callbackd.Callback {
	f.t.Helper()
	var cb *callbackd.Callback
	f.eventually(fmt.Sprintf("%s to be %s %s", id, state, reason), func() bool {
		cb = f.get(id)
		return cb.State == state && cb.Reason == reason
	})
	return cb
}

// waitAgent waits until the agent is in state and returns its view.
func (f *fixture) waitAgent(name string, state callbackd.AgentState) engine.AgentView {
	f.t.Helper()
	var v engine.AgentView
	f.eventually(fmt.Sprintf("agent %s to be %s", name, state), func() bool {
		var err error
		v, err = f.eng.Agent(name)
		return err == nil && v.State == state
	})
	return v
}

// subscribe opens the agent's event stream until the test ends.
func (f *fixture) subscribe(name string) <-chan engine.AgentEvent {
	f.t.Helper()
	events, stop, err := f.eng.Subscribe(name)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(stop)
	return events
}

// ready logs an agent in and makes it READY.
func (f *fixture) ready(name string) {
	f.t.Helper()
	if _, err := f.eng.Login(f.ctx, name); err != nil {
		f.t.Fatal(err)
	}
	if v, err := f.eng.Ready(f.ctx, name); err != nil || v.State != callbackd.AgentReady {
		f.t.Fatalf("Ready(%s) = %+v, %v", name, v, err)
	}
}

// advance moves the clock and runs what it made due, once the engine's
// waits on the clock are registered (so a timeout set just before is not
// missed).
func (f *fixture) advance(d time.Duration) {
	f.clock.Advance(d)
	f.eng.Tick()
}

// events returns the types of the callback's stored events, in order.
func (f *fixture) events(id string) []string {
	f.t.Helper()
	evs, err := f.store.ListEvents(f.ctx, callbackd.EventQuery{CallbackID: id})
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		s := string(ev.Type)
		if ev.To != "" {
			s += ":" + string(ev.To)
		}
		if ev.Reason != "" {
			s += ":" + string(ev.Reason)
		}
		out = append(out, s)
	}
	return out
}

// recorder is the simulated dialer, remembering every dial.
type recorder struct {
	*simdialer.Dialer
	mu    sync.Mutex
	dials []callbackd.DialRequest
}

func (r *recorder) Dial(ctx context.Context, req callbackd.DialRequest) (callbackd.Call, callbackd.DialResult, error) {
	r.mu.Lock()
	r.dials = append(r.dials, req)
	r.mu.Unlock()
	return r.Dialer.Dial(ctx, req)
}

// keys are the dial keys of a leg so far, in order.
func (r *recorder) keys(leg string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, d := range r.dials {
		if d.Leg == leg {
			out = append(out, d.Key)
		}
	}
	return out
}

func joined(s []string) string { return strings.Join(s, " ") }

var _ = regexp.MustCompile // keep regexp for tests that match causes
