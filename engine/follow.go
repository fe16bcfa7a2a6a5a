package engine

import (
	"context"
	"errors"
	"time"

	"github.com/callbackd/callbackd"
)

// followEvery is how often the leading engine reads the event log when
// several nodes share the store. It is I/O polling, not business time:
// it bounds how late a callback handed over by another node, or a cancel
// made there, reaches the engine.
const followEvery = 50 * time.Millisecond

// handOver records a due callback as handed to the engine without holding
// it: this node does not lead (yet). The write is the one Submit makes
// (session id, queue, place in line); the leading engine learns of it
// from the event log and takes it up as it would after a restart.
func (e *Engine) handOver(ctx context.Context, cb *callbackd.Callback, s callbackd.Submission) error {
	now := e.o.Clock.Now().UTC()
	j := e.newJob(cb, s.Options, s.Params, s.Attempt)
	j.entered = now
	if err := e.recordHandOver(ctx, j, now); err != nil && !errors.Is(err, errGone) {
		return err
	}
	return nil
}

// follow reads the event log after seq until the engine stops, and takes
// up what other nodes did: callbacks they handed over, callbacks they
// cancelled.
func (e *Engine) follow(after int64) {
	defer e.running.Done()
	t := time.NewTicker(followEvery)
	defer t.Stop()
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-t.C:
		}
		for {
			evs, err := e.o.Store.ListEvents(e.ctx, callbackd.EventQuery{AfterSeq: after, Limit: callbackd.DefaultQueryLimit})
			if err != nil {
				if e.ctx.Err() == nil {
					e.o.Logger.Error("engine: reading the event log failed", "error", err)
				}
				break
			}
			for _, ev := range evs {
				after = ev.Seq
				e.followed(ev)
			}
			if len(evs) < callbackd.DefaultQueryLimit {
				break
			}
		}
	}
}

// followed takes up one event of the log.
func (e *Engine) followed(ev callbackd.Event) {
	switch {
	case ev.Type == callbackd.EventSubmitted && ev.Properties[callbackd.KeySessionID] == sessionID(ev.CallbackID):
		e.mu.Lock()
		_, held := e.jobs[ev.CallbackID]
		e.mu.Unlock()
		if held {
			return // our own hand-over
		}
		cb, err := e.o.Store.GetCallback(e.ctx, ev.CallbackID)
		if err != nil || cb.SessionID != sessionID(cb.ID) || !cb.State.InExecution() {
			return // cancelled meanwhile, or gone
		}
		e.mu.Lock()
		_, held = e.jobs[ev.CallbackID]
		e.mu.Unlock()
		if !held && e.recoverCallback(e.ctx, cb) {
			e.o.Logger.Info("engine: callback handed over by another node taken up", "id", cb.ID)
			e.mu.Lock()
			if j, ok := e.jobs[cb.ID]; ok && j.queue != nil {
				e.match(j.queue, e.o.Clock.Now().UTC()) // recoverCallback places without offering
			}
			e.mu.Unlock()
		}
	case ev.Type == callbackd.EventCompleted && ev.Source != "engine":
		// Cancelled on another node (or by the expiry sweep): let go of it.
		e.mu.Lock()
		defer e.mu.Unlock()
		j, held := e.jobs[ev.CallbackID]
		if !held {
			return
		}
		e.cancelLocked(j)
	}
}
