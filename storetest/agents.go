package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
)

// agentTests prove callbackd.AgentStore, which every store implements
// beside callbackd.Store: the built-in engine finds its agents there after
// a restart or a takeover.
func agentTests() []namedTest {
	return []namedTest{
		{"AgentRoundTrip", testAgentRoundTrip},
		{"AgentMissingIsNotFound", testAgentMissing},
		{"AgentPutReplaces", testAgentReplace},
		{"AgentsPutTogether", testAgentsTogether},
		{"AgentsPutNoneIsNoOp", testAgentsNone},
		{"AgentsListedByName", testAgentsByName},
		{"ConcurrentPutAgentsAreWholeCalls", testAgentsConcurrent},
	}
}

// agentStore is s as an AgentStore; a backend without it fails the suite
// rather than skipping the agents' tests.
func agentStore(t *testing.T, s callbackd.Store) callbackd.AgentStore {
	t.Helper()
	as, ok := s.(callbackd.AgentStore)
	if !ok {
		t.Fatalf("%T does not implement callbackd.AgentStore", s)
	}
	return as
}

func putAgents(t *testing.T, s callbackd.AgentStore, agents ...*callbackd.Agent) {
	t.Helper()
	if err := s.PutAgents(context.Background(), agents); err != nil {
		t.Fatalf("PutAgents: %v", err)
	}
}

func getAgent(t *testing.T, s callbackd.AgentStore, name string) *callbackd.Agent {
	t.Helper()
	a, err := s.GetAgent(context.Background(), name)
	if err != nil {
		t.Fatalf("GetAgent(%s): %v", name, err)
	}
	return a
}

func listAgents(t *testing.T, s callbackd.AgentStore) []*callbackd.Agent {
	t.Helper()
	as, err := s.ListAgents(context.Background())
	if err != nil {
		t.Fatalf("ListAgents: %v", err)
	}
	return as
}

// stored is what a store gives back of a: its times in UTC, cut to the
// millisecond, the API's precision.
func stored(a *callbackd.Agent) *callbackd.Agent {
	cut := func(t time.Time) time.Time {
		if t.IsZero() {
			return t
		}
		return t.Truncate(time.Millisecond).UTC()
	}
	out := *a
	out.Since, out.IdleSince, out.SeenAt = cut(a.Since), cut(a.IdleSince), cut(a.SeenAt)
	return &out
}

// wantAgent fails unless got is what the store should give back of put,
// field by field, with non-zero times in UTC.
func wantAgent(t *testing.T, got, put *callbackd.Agent) {
	t.Helper()
	want := stored(put)
	sameTime := func(g, w time.Time) bool {
		if w.IsZero() {
			return g.IsZero()
		}
		return g.Equal(w) && g.Location() == time.UTC
	}
	if got.Name != want.Name || got.State != want.State || got.Reason != want.Reason || got.Callback != want.Callback ||
		!sameTime(got.Since, want.Since) || !sameTime(got.IdleSince, want.IdleSince) || !sameTime(got.SeenAt, want.SeenAt) {
		t.Fatalf("agent %s:\n got %+v\nwant %+v", want.Name, got, want)
	}
}

func testAgentRoundTrip(t *testing.T, s callbackd.Store) {
	as := agentStore(t, s)
	paris := time.FixedZone("CET", 3600)
	busy := &callbackd.Agent{
		Name: "anna", State: callbackd.AgentBusy, Callback: "cb-42", Reason: "ünïcode, \"quoted\"",
		// Sub-millisecond parts and a zone other than UTC: stored cut to
		// the millisecond, read in UTC.
		Since:     t0.Add(1234567 * time.Nanosecond).In(paris),
		IdleSince: t0.Add(-time.Hour).In(paris),
		SeenAt:    t0.Add(2 * time.Second),
	}
	// Zero times, no callback, no reason: read back as zero and empty,
	// not as 1970.
	fresh := &callbackd.Agent{Name: "bert", State: callbackd.AgentNotReady}
	putAgents(t, as, busy, fresh)
	wantAgent(t, getAgent(t, as, "anna"), busy)
	wantAgent(t, getAgent(t, as, "bert"), fresh)
	got := listAgents(t, as)
	if len(got) != 2 {
		t.Fatalf("ListAgents: %d agents, want 2", len(got))
	}
	wantAgent(t, got[0], busy)
	wantAgent(t, got[1], fresh)
}

func testAgentMissing(t *testing.T, s callbackd.Store) {
	as := agentStore(t, s)
	if _, err := as.GetAgent(context.Background(), "ghost"); !errors.Is(err, callbackd.ErrNotFound) {
		t.Fatalf("empty store: err = %v, want ErrNotFound", err)
	}
	putAgents(t, as, &callbackd.Agent{Name: "anna", State: callbackd.AgentReady, Since: t0})
	for _, name := range []string{"ghost", "Anna", "anna ", ""} {
		if _, err := as.GetAgent(context.Background(), name); !errors.Is(err, callbackd.ErrNotFound) {
			t.Errorf("GetAgent(%q): err = %v, want ErrNotFound", name, err)
		}
	}
}

// testAgentReplace puts an agent twice: the second state replaces every
// column of the first, down to clearing the callback and the times.
func testAgentReplace(t *testing.T, s callbackd.Store) {
	as := agentStore(t, s)
	first := &callbackd.Agent{Name: "anna", State: callbackd.AgentReserved, Since: t0, Callback: "cb-1",
		Reason: "x", IdleSince: t0.Add(-time.Minute), SeenAt: t0}
	second := &callbackd.Agent{Name: "anna", State: callbackd.AgentLoggedOut, Since: t0.Add(time.Minute)}
	putAgents(t, as, first)
	putAgents(t, as, second)
	wantAgent(t, getAgent(t, as, "anna"), second)
	if got := listAgents(t, as); len(got) != 1 {
		t.Fatalf("ListAgents after a replace: %d agents, want 1", len(got))
	}
}

// testAgentsTogether puts several agents in one call, one of them twice:
// all are written, and a name given twice keeps the last of its states,
// as if they had been put one after the other.
func testAgentsTogether(t *testing.T, s callbackd.Store) {
	as := agentStore(t, s)
	putAgents(t, as, &callbackd.Agent{Name: "a0", State: callbackd.AgentBusy, Since: t0, Callback: "old"})
	var put []*callbackd.Agent
	for i := range 5 {
		put = append(put, &callbackd.Agent{Name: fmt.Sprintf("a%d", i), State: callbackd.AgentReady,
			Since: t0.Add(time.Duration(i) * time.Second), IdleSince: t0, SeenAt: t0.Add(time.Minute)})
	}
	again := &callbackd.Agent{Name: "a3", State: callbackd.AgentNotReady, Reason: "break", Since: t0.Add(time.Hour)}
	putAgents(t, as, append(put, again)...)
	put[3] = again
	got := listAgents(t, as)
	if len(got) != len(put) {
		t.Fatalf("ListAgents: %d agents, want %d", len(got), len(put))
	}
	for i, a := range put {
		wantAgent(t, got[i], a)
		wantAgent(t, getAgent(t, as, a.Name), a)
	}
}

func testAgentsNone(t *testing.T, s callbackd.Store) {
	as := agentStore(t, s)
	for _, none := range [][]*callbackd.Agent{nil, {}} {
		if err := as.PutAgents(context.Background(), none); err != nil {
			t.Fatalf("PutAgents(%#v): %v", none, err)
		}
	}
	if got := listAgents(t, as); len(got) != 0 {
		t.Fatalf("ListAgents after putting none: %+v", got)
	}
}

// testAgentsByName wants ListAgents in byte order, as Go compares
// strings: upper case before lower case and accents last, whatever the
// database's locale.
func testAgentsByName(t *testing.T, s callbackd.Store) {
	as := agentStore(t, s)
	names := []string{"carol", "Émile", "bob", "Bob", "10", "9", "alice", "al", "a-b", "a_b"}
	// In this unsorted order: every other name in a call of its own, the
	// rest in one call.
	var rest []*callbackd.Agent
	for i, n := range names {
		a := &callbackd.Agent{Name: n, State: callbackd.AgentReady, Since: t0}
		if i%2 == 0 {
			putAgents(t, as, a)
		} else {
			rest = append(rest, a)
		}
	}
	putAgents(t, as, rest...)
	var got []string
	for _, a := range listAgents(t, as) {
		got = append(got, a.Name)
	}
	if want := slices.Sorted(slices.Values(names)); !slices.Equal(got, want) {
		t.Fatalf("ListAgents order:\n got %q\nwant %q", got, want)
	}
}

// testAgentsConcurrent has several goroutines each put every agent again
// and again, in orders that cross (a store that locked rows one by one in
// the given order would deadlock). No call may fail, and every agent must
// end with a state some call wrote, whole: and since each call writes all
// agents in one transaction, all of them from the same call.
func testAgentsConcurrent(t *testing.T, s callbackd.Store) {
	as := agentStore(t, s)
	const writers, rounds, agents = 8, 15, 6
	call := func(w, r int) []*callbackd.Agent {
		out := make([]*callbackd.Agent, agents)
		for i := range agents {
			out[i] = &callbackd.Agent{Name: fmt.Sprintf("agent-%d", i), State: callbackd.AgentReady,
				Reason: fmt.Sprintf("w%d-r%d", w, r), Callback: fmt.Sprintf("cb-%d-%d-%d", w, r, i),
				Since: t0.Add(time.Duration(w*rounds+r) * time.Second), SeenAt: t0.Add(time.Duration(i) * time.Millisecond)}
		}
		if w%2 == 1 {
			slices.Reverse(out)
		} else {
			k := (w + r) % agents
			out = append(out[k:], out[:k]...)
		}
		return out
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers*rounds)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				if err := as.PutAgents(context.Background(), call(w, r)); err != nil {
					errs <- fmt.Errorf("writer %d, round %d: %w", w, r, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got := listAgents(t, as)
	if len(got) != agents {
		t.Fatalf("ListAgents: %d agents, want %d", len(got), agents)
	}
	var w, r int
	if _, err := fmt.Sscanf(got[0].Reason, "w%d-r%d", &w, &r); err != nil || w >= writers || r >= rounds {
		t.Fatalf("agent %s holds a state no call wrote: %+v", got[0].Name, got[0])
	}
	want := call(w, r)
	slices.SortFunc(want, func(a, b *callbackd.Agent) int { return strings.Compare(a.Name, b.Name) })
	for i, a := range got {
		wantAgent(t, a, want[i])
	}
}

// testAgentsSurviveReopen puts agents, closes the store and wants them all
// back from the reopened database: the engine of a restarted node starts
// from them.
func testAgentsSurviveReopen(t *testing.T, s callbackd.Store, reopen func(t *testing.T) callbackd.Store) {
	put := []*callbackd.Agent{
		{Name: "anna", State: callbackd.AgentBusy, Since: t0, Callback: "cb-1", IdleSince: t0.Add(-time.Hour), SeenAt: t0},
		{Name: "bert", State: callbackd.AgentNotReady, Reason: "break", Since: t0.Add(time.Minute)},
	}
	putAgents(t, agentStore(t, s), put...)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = reopen(t)
	defer s.Close()
	got := listAgents(t, agentStore(t, s))
	if len(got) != len(put) {
		t.Fatalf("ListAgents after reopen: %d agents, want %d", len(got), len(put))
	}
	for i, a := range put {
		wantAgent(t, got[i], a)
	}
}
