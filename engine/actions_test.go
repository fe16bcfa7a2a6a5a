package engine

import (
	"context"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
)

// heldSession returns an engine whose agent alice holds callback cb1 in a
// session at step: only what act reads, no store, dialer or run loop, so
// a test plays the session's side itself.
func heldSession(step string) (*Engine, *session) {
	cfg := &callbackd.Config{Agents: map[string]*callbackd.AgentConfig{"alice": {Name: "alice", Queues: []string{"support"}}}}
	e := &Engine{o: Options{Config: func() *callbackd.Config { return cfg }, Clock: callbackd.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))},
		agents: map[string]*agent{}}
	a := e.agentLocked("alice")
	s := &session{e: e, j: &job{id: "cb1"}, a: a, actions: make(chan action, 4), stopped: make(chan struct{}),
		ended: make(chan struct{}), step: step}
	a.sess, a.Callback = s, "cb1"
	return e, s
}

// queued waits (in real time, for the caller's goroutine) until the
// session has an action waiting, and returns it.
func queued(t *testing.T, s *session) action {
	t.Helper()
	select {
	case act := <-s.actions:
		return act
	case <-time.After(10 * time.Second):
		t.Fatal("no action reached the session within 10 s")
		return action{}
	}
}

// TestActAnswered checks that an agent's action always gets an answer:
// the session's reply when it took the action, even when it stops or
// ends right after; the refusal the API shows when it ended without
// taking it (a hangup queued while the customer's phone rang, and the
// customer was not reached), instead of a request left waiting.
func TestActAnswered(t *testing.T) {
	cases := []struct {
		name string
		// session plays the session's side once the action is queued.
		session func(s *session, act action)
		want    string // the error message, "" for success
	}{
		{name: "ErrEndedWithoutTakingIt", session: func(s *session, _ action) { close(s.ended) },
			want: "Agent alice no longer holds callback cb1"},
		{name: "ErrStoppedWithoutTakingIt", session: func(s *session, _ action) { s.stop(stopCancelled) },
			want: "Agent alice no longer holds callback cb1"},
		{name: "ReplyThenEnd", session: func(s *session, act action) { act.reply <- nil; close(s.ended) }},
		{name: "ReplyThenStop", session: func(s *session, act action) { act.reply <- nil; s.stop(stopCancelled) }},
		{name: "ErrNotNowThenEnd", session: func(s *session, act action) { act.reply <- errNotNow; close(s.ended) },
			want: "Callback cb1 cannot take hangup: the callback has moved on"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// The answer must not depend on which ready channel act's
			// select picks: run it enough times to see both.
			for range 50 {
				e, s := heldSession(sessConnected)
				got := make(chan error, 1)
				go func() { got <- e.Hangup(context.Background(), "alice", "cb1") }()
				c.session(s, queued(t, s))
				var err error
				select {
				case err = <-got:
				case <-time.After(10 * time.Second):
					t.Fatal("the hangup is still waiting for an answer 10 s after the session ended")
				}
				switch ae, _ := callbackd.AsError(err); {
				case c.want == "" && err != nil:
					t.Fatalf("Hangup: %v, want success", err)
				case c.want != "" && (ae == nil || ae.Code != callbackd.CodeInvalidOperation || ae.Message != c.want):
					t.Fatalf("Hangup: %v, want INVALID_OPERATION %q", err, c.want)
				}
			}
		})
	}
}
