package engine_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/callbacks"
	"github.com/callbackd/callbackd/engine"
	"github.com/callbackd/callbackd/simdialer"
	"github.com/callbackd/callbackd/sqlite"
	"github.com/callbackd/callbackd/storetest"
)

// Benchmarks of the built-in engine (issue 13): how soon an agent that
// goes READY hears of a callback with 100,000 waiting (and how long a
// restart takes to take them up), how many callbacks per second the
// engine carries from due to COMPLETED, and how far the EWT it gives a
// callback entering its queue is from the wait it then has. They run on
// a real SQLite file (synchronous=FULL, the store's default). The
// commands and the figures are in BENCHMARKS.md, "Built-in engine".

// benchConfig is one builtin service "support" and n agents (agent0000,
// agent0001...) serving its queue; service is appended to the service's
// section and dialer to [dialer].
func benchConfig(n int, autoAnswer bool, service, dialer string) string {
	var sb strings.Builder
	sb.WriteString("[service.support]\n_type = builtin\n_urs_virtual_queue = support\n" + service + "\n")
	for i := range n {
		fmt.Fprintf(&sb, "\n[agent.%s]\npassword = %s\nqueues = support\nphone = sip:%s@pbx\n", agentName(i), hash, agentName(i))
		if autoAnswer {
			sb.WriteString("auto_answer = true\n")
		}
	}
	sb.WriteString("\n[dialer]\ntype = simulated\n" + dialer + "\n")
	return sb.String()
}

func agentName(i int) string { return fmt.Sprintf("agent%04d", i) }

// countingStore counts the engine's writes: callback updates and agent
// puts, the two kinds of write a callback's run makes.
type countingStore struct {
	*sqlite.Store
	updates atomic.Int64
	agents  atomic.Int64
}

func (s *countingStore) UpdateCallback(ctx context.Context, id string, fn func(cb *callbackd.Callback) ([]callbackd.Event, error)) (*callbackd.Callback, error) {
	s.updates.Add(1)
	return s.Store.UpdateCallback(ctx, id, fn)
}

func (s *countingStore) PutAgents(ctx context.Context, agents []*callbackd.Agent) error {
	s.agents.Add(1)
	return s.Store.PutAgents(ctx, agents)
}

// benchEngine is an engine on a SQLite file, as the server builds it.
type benchEngine struct {
	eng    *engine.Engine
	store  *countingStore
	policy *callbacks.Policy
	// recovery is how long Start took, recovering what the file holds,
	// and recoveryCPU the process's CPU meanwhile.
	recovery, recoveryCPU time.Duration
}

// openEngine opens the store at path and starts an engine on it; the
// engine and the store are closed when the benchmark ends.
func openEngine(tb testing.TB, path string, cfg *callbackd.Config, clock callbackd.Clock, dialer callbackd.Dialer) *benchEngine {
	tb.Helper()
	ctx := context.Background()
	raw, err := sqlite.Open(ctx, path)
	if err != nil {
		tb.Fatal(err)
	}
	store := &countingStore{Store: raw}
	config := func() *callbackd.Config { return cfg }
	stats := engine.NewStats(config)
	policy := &callbacks.Policy{Store: store, Clock: clock, Config: config, EWT: stats}
	eng := engine.New(engine.Options{Store: store, Agents: store, Dialer: dialer, Clock: clock, Config: config,
		Policy: policy, Stats: stats, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	elapsed, cpu := callbackd.Stopwatch(), storetest.ProcessCPU()
	if err := eng.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	be := &benchEngine{eng: eng, store: store, policy: policy, recovery: elapsed(), recoveryCPU: storetest.ProcessCPU() - cpu}
	tb.Cleanup(func() {
		eng.Stop()
		_ = raw.Close()
	})
	return be
}

// preloadWaiting writes n callbacks waiting in the queue "support" (QUEUED,
// handed to the engine, step waiting, entered over the hour before now,
// one every 36 ms), as the engine leaves them when a node stops, and the
// agents logged in NOT_READY. It uses the store's importer, so a run does
// not spend minutes submitting them one by one.
func preloadWaiting(tb testing.TB, path string, n, agents int, now time.Time) {
	tb.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		tb.Fatal(err)
	}
	defer store.Close()
	const batch = 10_000
	cbs := make([]*callbackd.Callback, 0, batch)
	for i := range n {
		entered := now.Add(-time.Hour + time.Duration(i)*time.Hour/time.Duration(n)).Truncate(time.Millisecond)
		id := fmt.Sprintf("wait-%06d", i)
		cbs = append(cbs, &callbackd.Callback{ID: id, Service: "support", State: callbackd.StateQueued,
			CustomerNumber: fmt.Sprintf("+1415%07d", i), DesiredTime: entered, ExpirationTime: entered.Add(24 * time.Hour),
			SessionID: "builtin-" + id, SubmitAttempts: 1, CreatedAt: entered, UpdatedAt: entered,
			Properties: map[string]string{
				callbackd.KeyVQ: "support", callbackd.KeyVQEntered: callbackd.FormatTime(entered), callbackd.KeyVQPriority: "0",
				callbackd.KeyEngineStep: callbackd.StepWaiting, callbackd.KeyEWTAtOffer: "0", callbackd.KeyPosAtOffer: strconv.Itoa(i + 1),
			}})
		if len(cbs) == batch || i == n-1 {
			if err := store.Import(ctx, cbs); err != nil {
				tb.Fatal(err)
			}
			cbs = cbs[:0]
		}
	}
	list := make([]*callbackd.Agent, agents)
	for i := range list {
		list[i] = &callbackd.Agent{Name: agentName(i), State: callbackd.AgentNotReady, Reason: "login", Since: now, SeenAt: now}
	}
	if err := store.PutAgents(ctx, list); err != nil {
		tb.Fatal(err)
	}
}

// percentile is the p-th percentile (0-100) of sorted durations, in ms.
func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := min(int(float64(len(sorted))*p/100), len(sorted)-1)
	return float64(sorted[i].Microseconds()) / 1000
}

// drain empties an event stream without waiting.
func drain(c <-chan engine.AgentEvent) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

// waitFor reads events until one of the type, with a real-time guard.
func waitFor(c <-chan engine.AgentEvent, typ string) (engine.AgentEvent, error) {
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ev, ok := <-c:
			if !ok {
				return ev, fmt.Errorf("stream closed before a %s event", typ)
			}
			if ev.Type == typ {
				return ev, nil
			}
		case <-timeout:
			return engine.AgentEvent{}, fmt.Errorf("no %s event within 30 s", typ)
		}
	}
}

// parallel runs fn(i) for i in [0, n) on workers goroutines and returns
// the first error.
func parallel(n, workers int, fn func(i int) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// Sizes of the latency target (issue 13 item 10).
const (
	readyAgents  = 1000
	readyWaiting = 100_000
)

// BenchmarkReadyToInvitation is issue 13's latency target: 1,000 agents
// logged in NOT_READY and 100,000 callbacks waiting in their queue; the
// time from the call to Engine.Ready until the agent's invitation event
// arrives on its stream (Engine.Subscribe). Each iteration makes burst
// agents READY at once (1: one at a time; 16: a shift starting), each
// timed on its own. Once every agent holds an invitation they all log
// out (the invitations go back to the queue, keeping their places) and
// in again, off the clock. The setup is a restart: the callbacks are
// imported as a stopped node leaves them and the engine's Start takes
// them up; recover-ms is how long that took. Run with
//
//	go test -run '^$' -bench BenchmarkReadyToInvitation -benchtime 1000x ./engine
func BenchmarkReadyToInvitation(b *testing.B) {
	for _, burst := range []int{1, 16} {
		b.Run(fmt.Sprintf("burst=%d", burst), func(b *testing.B) { benchReady(b, burst) })
	}
}

func benchReady(b *testing.B, burst int) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "ready.db")
	cfg := parseConfig(b, benchConfig(readyAgents, false, "", ""))
	clock := callbackd.SystemClock{}
	imported := callbackd.Stopwatch()
	preloadWaiting(b, path, readyWaiting, readyAgents, clock.Now().UTC())
	importTime := imported()
	be := openEngine(b, path, cfg, clock, benchDialer(clock, 0, 0))
	e := be.eng
	first, err := be.store.GetCallback(ctx, "wait-000000")
	if err != nil {
		b.Fatal(err)
	}
	if pos, err := e.QueuePosition(ctx, first); err != nil || pos.TotalWaiting != readyWaiting || pos.Position != 1 {
		b.Fatalf("after the restart: %+v, %v; want %d waiting, wait-000000 first", pos, err, readyWaiting)
	}
	streams := make([]<-chan engine.AgentEvent, readyAgents)
	for i := range streams {
		c, stop, err := e.Subscribe(agentName(i))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(stop)
		streams[i] = c
	}

	var lat []time.Duration
	var mu sync.Mutex
	used := 0 // agents holding an invitation, from agent0000
	for b.Loop() {
		if used+burst > readyAgents {
			b.StopTimer()
			if err := resetAgents(ctx, e, used); err != nil {
				b.Fatal(err)
			}
			used = 0
			b.StartTimer()
		}
		err := parallel(burst, burst, func(k int) error {
			i := used + k
			drain(streams[i])
			elapsed := callbackd.Stopwatch()
			if _, err := e.Ready(ctx, agentName(i)); err != nil {
				return err
			}
			if _, err := waitFor(streams[i], "invitation"); err != nil {
				return fmt.Errorf("%s: %w", agentName(i), err)
			}
			d := elapsed()
			mu.Lock()
			lat = append(lat, d)
			mu.Unlock()
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		used += burst
	}
	slices.Sort(lat)
	b.ReportMetric(percentile(lat, 50), "ms-p50")
	b.ReportMetric(percentile(lat, 99), "ms-p99")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "ms-max")
	b.ReportMetric(float64(len(lat)), "readies")
	// Reported after the loop, which deletes what was reported before it.
	b.ReportMetric(importTime.Seconds(), "import-s")
	b.ReportMetric(float64(be.recovery.Microseconds())/1000, "recover-ms")
	b.ReportMetric(float64(be.recoveryCPU.Microseconds())/1000, "recover-cpu-ms")
	b.ReportMetric(0, "ns/op") // the percentiles say it
}

// resetAgents logs the first n agents out (their invitations go back to
// the queue) and in again, NOT_READY.
func resetAgents(ctx context.Context, e *engine.Engine, n int) error {
	return parallel(n, 16, func(i int) error {
		name := agentName(i)
		if _, err := e.Logout(ctx, name); err != nil {
			return err
		}
		// The session puts the callback back and lets the agent go.
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Microsecond) {
			if v, err := e.Agent(name); err == nil && v.Callback == "" {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s still holds a callback after its logout", name)
			}
		}
		_, err := e.Login(ctx, name)
		return err
	})
}

// benchDialer is the simulated dialer: everyone answers as a person,
// after ring, and talks for talk.
func benchDialer(clock callbackd.Clock, ring, talk time.Duration) *simdialer.Dialer {
	return simdialer.New(simdialer.Options{Clock: clock, Ring: ring, Talk: talk})
}
