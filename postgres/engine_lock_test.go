package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/internal/pgtest"
)

// TestEngineLease: one node at a time leads the engine; the leader is
// recorded for the others; a released lease can be taken by another
// node; a leader whose connection is killed sees Lost and its lock is
// free at once; schemas elect apart.
func TestEngineLease(t *testing.T) {
	u, _ := pgtest.Schema(t)
	a, b := open(t, u), open(t, u)
	ctx := context.Background()
	if _, err := a.EngineLeader(ctx); !errors.Is(err, callbackd.ErrNotFound) {
		t.Fatalf("leader before any election: %v, want ErrNotFound", err)
	}
	la, err := a.TryLeadEngine(ctx, callbackd.Node{ID: "a", Addr: "http://a:8080/genesys", StartedAt: t0})
	if err != nil || la == nil {
		t.Fatalf("first campaign: %v, %v", la, err)
	}
	if lb, err := b.TryLeadEngine(ctx, callbackd.Node{ID: "b", Addr: "http://b"}); err != nil || lb != nil {
		t.Fatalf("second campaign while a leads: %v, %v; want no lease", lb, err)
	}
	if n, err := b.EngineLeader(ctx); err != nil || n.ID != "a" || n.Addr != "http://a:8080/genesys" || !n.StartedAt.Equal(t0) {
		t.Fatalf("recorded leader %+v, %v", n, err)
	}
	other, _ := pgtest.Schema(t)
	c := open(t, other)
	lc, err := c.TryLeadEngine(ctx, callbackd.Node{ID: "c"})
	if err != nil || lc == nil {
		t.Fatalf("another schema's election: %v, %v; want its own lease", lc, err)
	}
	lc.Release()

	la.Release()
	lb, err := b.TryLeadEngine(ctx, callbackd.Node{ID: "b", Addr: "http://b"})
	if err != nil || lb == nil {
		t.Fatalf("campaign after release: %v, %v", lb, err)
	}
	if n, _ := a.EngineLeader(ctx); n.ID != "b" {
		t.Fatalf("recorded leader %q, want b", n.ID)
	}
	// Kill b's lock connection from the server side, as a dead network
	// or a restarted database would.
	if _, err := a.pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()
		AND objid = (SELECT `+engineLockKey+`)::oid`); err != nil {
		t.Fatal(err)
	}
	select {
	case <-lb.Lost():
	case <-time.After(10 * time.Second):
		t.Fatal("the lease was not reported lost after its connection was killed")
	}
	lb.Release()
	la2, err := a.TryLeadEngine(ctx, callbackd.Node{ID: "a"})
	if err != nil || la2 == nil {
		t.Fatalf("campaign after the leader's connection died: %v, %v", la2, err)
	}
	la2.Release()
}
