package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/callbackd/callbackd"
)

// Policy is what the engine asks of the use cases (package callbacks
// implements it).
type Policy interface {
	// Execution returns a callback's effective options and parameters
	// (after a restart the engine has no submission to read them from).
	Execution(cb *callbackd.Callback) (opts callbackd.ServiceOptions, params map[string]string, pauseKey string, err error)
	// RescheduleAfterCall moves a callback whose call ended to desired,
	// inside the engine's update (the disposition's reschedule).
	RescheduleAfterCall(ctx context.Context, cb *callbackd.Callback, desired, now time.Time) ([]callbackd.Event, error)
}

// Options configure an Engine. Every field but Logger and Stats is
// required.
type Options struct {
	Store  callbackd.Store
	Agents callbackd.AgentStore
	Dialer callbackd.Dialer
	Clock  callbackd.Clock
	Config func() *callbackd.Config
	Policy Policy
	Logger *slog.Logger
	// Stats receives queue lengths and handle times, and answers EWT
	// from them; nil makes a new one.
	Stats *Stats
	// LastEventSeq, when set, means other nodes hand callbacks over too
	// (several nodes on one store): the leading engine then follows the
	// event log after that number to learn of their hand-overs and
	// cancels (follow.go).
	LastEventSeq func(ctx context.Context) (int64, error)
}

// Engine runs the callbacks of _type=builtin services. It implements
// callbackd.Executor (the dispatcher hands it due callbacks) and
// callbackd.QueueReporter (check-queue-position).
type Engine struct {
	o Options

	mu     sync.Mutex
	jobs   map[string]*job
	queues map[string]*vqueue
	agents map[string]*agent
	timers timerHeap
	hub    hub

	wake    chan struct{}
	ctx     context.Context
	cancel  context.CancelFunc
	done    chan struct{}
	running sync.WaitGroup // sessions and dials
	stopped bool
	// leading is true once Start has recovered the store: before (and on
	// a node that does not lead), Submit only records the hand-over, for
	// the leader to take up.
	leading bool
}

var (
	_ callbackd.Executor      = (*Engine)(nil)
	_ callbackd.QueueReporter = (*Engine)(nil)
)

// New returns an engine; Start recovers what the store holds and runs it.
func New(o Options) *Engine {
	if o.Store == nil || o.Agents == nil || o.Dialer == nil || o.Clock == nil || o.Config == nil || o.Policy == nil {
		panic("engine: Options.Store, Agents, Dialer, Clock, Config and Policy are required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Stats == nil {
		o.Stats = NewStats(o.Config)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Engine{o: o, jobs: map[string]*job{}, queues: map[string]*vqueue{}, agents: map[string]*agent{},
		hub: hub{subs: map[string]map[chan AgentEvent]struct{}{}}, wake: make(chan struct{}, 1),
		ctx: ctx, cancel: cancel}
	o.Stats.live = e.live
	return e
}

// Stats is the engine's live statistics (the EWT provider).
func (e *Engine) Stats() *Stats { return e.o.Stats }

// job is one callback the engine holds, from its submission to its end.
type job struct {
	id      string
	service string
	opts    callbackd.ServiceOptions
	params  map[string]string
	number  string
	desired time.Time
	vq      string
	rank    rank
	entered time.Time
	// deadline ends the wait in the queue: _urs_queued_ttl, or for a
	// customer on hold _max_time_to_wait_for_agent_on_the_call.
	deadline  time.Time
	notBefore time.Time
	attempt   int // the last dial attempt to the customer
	rejects   int
	// key prefixes the dial keys of this run: "<id>/<submit attempt>".
	key string
	// call is the customer's call while on hold (_wait_for_agent=false).
	call callbackd.Call
	// queue is where the job waits (nil when not waiting); idx is its
	// place in the queue's heap (-1 when not there).
	queue *vqueue
	idx   int
	// sess is the agent session that holds the job, if any.
	sess *session
	// gen counts the job's moves, so stale timers do nothing.
	gen        int
	done       chan struct{} // closed when the engine lets go of the job
	ewtAtOffer time.Duration
	posAtOffer int
	// cancelled is set when a cancel took the job away: whoever cancelled
	// writes its completion, the engine writes nothing more for it.
	cancelled bool
}

func (j *job) finish() {
	select {
	case <-j.done:
	default:
		close(j.done)
	}
}

// sessionID is the execution session id the engine gives a callback.
func sessionID(id string) string { return "builtin-" + id }

// Submit takes a due callback into its virtual queue (or, with
// _wait_for_agent=false, starts dialing the customer). It records the
// hand-over itself (session id, queue, place in line) in one write, so
// that the callback's progress can never be recorded before its
// submission; the dispatcher does not record it again
// (callbackd.ServiceOptions.RecordsHandOver). A callback the engine
// already holds keeps its session.
func (e *Engine) Submit(ctx context.Context, s callbackd.Submission) (string, error) {
	cb := s.Callback
	sid := sessionID(cb.ID)
	e.mu.Lock()
	if e.stopped {
		e.mu.Unlock()
		return "", &callbackd.SubmitError{Retryable: true, Message: "the engine is stopping"}
	}
	if _, ok := e.jobs[cb.ID]; ok {
		e.mu.Unlock()
		return sid, nil
	}
	if !e.leading {
		e.mu.Unlock()
		return sid, e.handOver(ctx, cb, s)
	}
	now := e.o.Clock.Now().UTC()
	j := e.newJob(cb, s.Options, s.Params, s.Attempt)
	j.entered = now
	j.rank = rankOf(j.opts, j.opts.VQPriority, now, j.id)
	j.deadline = now.Add(j.opts.URSQueuedTTL)
	q := e.queue(j.vq)
	waiting, free, staffed := e.liveLocked(j.vq)
	j.posAtOffer = q.waiting() + 1
	j.ewtAtOffer = estimateWith(e.o.Stats.AHT(j.vq), waiting, free, staffed)
	e.jobs[j.id] = j // held: a second submission waits for this one
	e.mu.Unlock()

	err := e.recordHandOver(ctx, j, now)
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil {
		delete(e.jobs, j.id)
		if errors.Is(err, errGone) {
			return sid, nil // cancelled meanwhile: nothing to run
		}
		return "", err
	}
	if e.stopped {
		delete(e.jobs, j.id) // recovered at the next start
		return sid, nil
	}
	e.start(j, now)
	return sid, nil
}

// recordHandOver writes a callback's hand-over to the engine: its session
// id, its queue and place in line, and the submitted event. It returns
// errGone for a callback completed meanwhile (cancelled), else a
// retryable *SubmitError when the write fails.
func (e *Engine) recordHandOver(ctx context.Context, j *job, now time.Time) error {
	_, err := e.o.Store.UpdateCallback(ctx, j.id, func(c *callbackd.Callback) ([]callbackd.Event, error) {
		if c.State == callbackd.StateCompleted {
			return nil, errGone
		}
		c.Properties = withEntry(c.Properties, j, now)
		return []callbackd.Event{c.Submitted(now, sessionID(j.id))}, nil
	})
	if err != nil && !errors.Is(err, errGone) {
		return &callbackd.SubmitError{Retryable: true, Message: "engine: recording the hand-over failed: " + err.Error()}
	}
	return err
}

// withEntry sets the queue-entry properties of j.
func withEntry(p map[string]string, j *job, now time.Time) map[string]string {
	if p == nil {
		p = map[string]string{}
	}
	p[callbackd.KeyVQ] = j.vq
	p[callbackd.KeyVQEntered] = callbackd.FormatTime(j.entered)
	p[callbackd.KeyVQPriority] = itoa(j.opts.VQPriority)
	p[callbackd.KeyEngineStep] = callbackd.StepWaiting
	p[callbackd.KeyEWTAtOffer] = itoa(int(j.ewtAtOffer / time.Second))
	p[callbackd.KeyPosAtOffer] = itoa(j.posAtOffer)
	return p
}

// newJob builds the engine's record of a callback.
func (e *Engine) newJob(cb *callbackd.Callback, opts callbackd.ServiceOptions, params map[string]string, submitAttempt int) *job {
	return &job{
		id: cb.ID, service: cb.Service, opts: opts, params: params, number: cb.CustomerNumber, desired: cb.DesiredTime,
		vq: opts.VirtualQueue(cb.Service), idx: -1, done: make(chan struct{}),
		key: cb.ID + "/" + itoa(submitAttempt),
	}
}

// start puts a job to work: into its queue to wait for an agent, or, for
// a customer-first service, straight to dialing. e.mu is held.
func (e *Engine) start(j *job, now time.Time) {
	if !j.opts.WaitForAgent && j.call == nil {
		e.running.Add(1)
		go e.dialFirst(j)
		return
	}
	e.enqueue(j, now)
}

// enqueue puts a waiting job in its queue with its deadline, and offers
// what can be offered. e.mu is held.
func (e *Engine) enqueue(j *job, now time.Time) {
	e.match(e.place(j, now), now)
}

// place puts a waiting job in its queue with its deadline, without
// offering anything, and returns the queue. e.mu is held.
func (e *Engine) place(j *job, now time.Time) *vqueue {
	j.gen++
	q := e.queue(j.vq)
	q.push(j, now)
	e.timers.add(j.deadline, timerQueueTTL, j)
	if j.notBefore.After(now) {
		e.timers.add(j.notBefore, timerEligible, j)
	}
	e.poke()
	return q
}

// queue returns the named virtual queue, created on first use.
func (e *Engine) queue(name string) *vqueue {
	q, ok := e.queues[name]
	if !ok {
		q = newQueue(name)
		e.queues[name] = q
	}
	return q
}

// Cancel takes a callback away from the engine (Cancel-Callback): out of
// its queue, or, if an agent holds it, the session ends (the invitation
// is withdrawn, a ringing or on-hold customer hung up) and the agent is
// freed. The caller completes the callback in the store; the engine's own
// writes refuse a COMPLETED callback, so the two cannot both win.
func (e *Engine) Cancel(ctx context.Context, cb *callbackd.Callback) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	j, ok := e.jobs[cb.ID]
	if !ok {
		return nil
	}
	e.cancelLocked(j)
	return nil
}

// cancelLocked lets go of a cancelled job: its session stops (hanging up
// its calls and freeing its agent) and nothing more is written for it;
// the canceller records the completion. e.mu is held.
func (e *Engine) cancelLocked(j *job) {
	j.cancelled = true
	e.drop(j)
	if j.sess != nil {
		j.sess.stop(stopCancelled)
	} else if j.call != nil {
		go hangup(j.call)
	}
}

// drop forgets a job: out of its queue, its timers void. e.mu is held.
func (e *Engine) drop(j *job) {
	if j.queue != nil {
		j.queue.remove(j)
	}
	j.gen++
	delete(e.jobs, j.id)
	j.finish()
}

// errGone aborts an engine write to a callback that was completed
// meanwhile (cancelled).
var errGone = errors.New("engine: callback completed meanwhile")

// update writes a change of a callback the engine runs, refusing a
// callback completed meanwhile with errGone.
func (e *Engine) update(ctx context.Context, id string, fn func(c *callbackd.Callback, now time.Time) ([]callbackd.Event, error)) (*callbackd.Callback, error) {
	return e.o.Store.UpdateCallback(ctx, id, func(c *callbackd.Callback) ([]callbackd.Event, error) {
		if c.State == callbackd.StateCompleted {
			return nil, errGone
		}
		if c.Properties == nil {
			c.Properties = map[string]string{}
		}
		return fn(c, e.o.Clock.Now().UTC())
	})
}

// complete finishes a callback with reason (and properties to set, as
// key, value pairs) and lets go of its job, unless it was cancelled
// meanwhile (the cancel's reason stands).
func (e *Engine) complete(ctx context.Context, j *job, reason callbackd.Reason, props ...string) {
	e.finish(ctx, j, reason, func(c *callbackd.Callback, _ time.Time) []callbackd.Event {
		for i := 0; i+1 < len(props); i += 2 {
			c.Properties[props[i]] = props[i+1]
		}
		return nil
	})
}

// finish is complete with a change of its own, whose events come before
// the completion's.
func (e *Engine) finish(ctx context.Context, j *job, reason callbackd.Reason, change func(c *callbackd.Callback, now time.Time) []callbackd.Event) {
	e.mu.Lock()
	cancelled := j.cancelled
	e.mu.Unlock()
	if cancelled {
		return
	}
	_, err := e.update(ctx, j.id, func(c *callbackd.Callback, now time.Time) ([]callbackd.Event, error) {
		evs := change(c, now)
		ev, err := c.Transition(callbackd.StateCompleted, reason, now, "engine")
		if err != nil {
			return nil, err
		}
		return append(evs, ev), nil
	})
	if err != nil && !errors.Is(err, errGone) {
		e.o.Logger.Error("engine: completing a callback failed", "id", j.id, "reason", reason, "error", err)
	}
	e.mu.Lock()
	e.drop(j)
	e.mu.Unlock()
	e.o.Logger.Info("engine: callback completed", "id", j.id, "service", j.service, "reason", reason)
}

// poke wakes the timer loop, so that it waits for the nearest deadline.
func (e *Engine) poke() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Tick does what is due at the clock's now: deadlines of waiting
// callbacks, offers whose retry wait is over, redials, and the logout of
// silent agents. The loop calls it; tests call it after moving the clock.
func (e *Engine) Tick() {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.o.Clock.Now().UTC()
	for _, t := range e.timers.due(now) {
		j := t.j
		switch t.kind {
		case timerQueueTTL:
			if j.queue == nil {
				continue
			}
			e.drop(j)
			reason := callbackd.ReasonFailTargetNotFound
			if j.call != nil {
				reason = callbackd.ReasonFailAgentConnect
				go j.call.Hangup(context.Background())
			}
			e.running.Add(1)
			go func() { defer e.running.Done(); e.complete(e.ctx, j, reason) }()
		case timerEligible:
			if q := j.queue; q != nil {
				q.release(j)
				e.match(q, now)
			}
		case timerRedial:
			if _, ok := e.jobs[j.id]; ok && j.sess == nil && j.queue == nil {
				e.running.Add(1)
				go e.dialFirst(j)
			}
		}
	}
	e.logoutSilent(now)
}

// Start makes this engine the one that runs callbacks: it recovers the
// callbacks and agents the store holds, then runs the timer loop (and,
// with several nodes, follows the event log) until Stop. Call it once.
func (e *Engine) Start(ctx context.Context) error {
	var after int64
	if e.o.LastEventSeq != nil {
		// Taken before the recovery: a hand-over between the two is seen
		// twice (and held once), never missed.
		var err error
		if after, err = e.o.LastEventSeq(ctx); err != nil {
			return fmt.Errorf("engine: reading the event log: %w", err)
		}
	}
	if err := e.recover(ctx); err != nil {
		return err
	}
	e.mu.Lock()
	e.leading = true
	e.mu.Unlock()
	e.done = make(chan struct{})
	go e.loop()
	if e.o.LastEventSeq != nil {
		e.running.Add(1)
		go e.follow(after)
	}
	return nil
}

// Leading reports whether this engine runs callbacks (Start succeeded and
// Stop was not called).
func (e *Engine) Leading() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.leading && !e.stopped
}

// loop runs Tick when the nearest deadline is due, and at least every
// second for the agents' heartbeats.
func (e *Engine) loop() {
	defer close(e.done)
	for {
		e.mu.Lock()
		wait := time.Second
		if next := e.timers.next(); !next.IsZero() {
			wait = min(wait, max(next.Sub(e.o.Clock.Now()), 0))
		}
		e.mu.Unlock()
		select {
		case <-e.ctx.Done():
			return
		case <-e.wake:
		case <-callbackd.After(e.o.Clock, wait):
			e.Tick()
		}
	}
}

// Stop ends the loop and every session: calls are hung up, and what the
// callbacks were doing stays in the store for the next start to take up.
func (e *Engine) Stop() {
	e.mu.Lock()
	if e.stopped {
		e.mu.Unlock()
		return
	}
	e.stopped = true
	e.mu.Unlock()
	e.cancel()
	if e.done != nil {
		<-e.done
	}
	e.running.Wait()
	e.hub.closeAll()
}

// itoa is strconv.Itoa, shorter at the many call sites.
func itoa(n int) string { return strconv.Itoa(n) }

// trimmed reports whether s has content.
func trimmed(s string) bool { return strings.TrimSpace(s) != "" }
