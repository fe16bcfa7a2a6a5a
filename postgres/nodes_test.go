package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/internal/pgtest"
)

// TestHeartbeat: nodes on two pools see each other and each other's
// configuration, a changed configuration replaces the old one, a node gone
// for a day is forgotten, and a node that leaves is gone at once.
func TestHeartbeat(t *testing.T) {
	u, _ := pgtest.Schema(t)
	a, b := open(t, u), open(t, u)
	ctx := context.Background()
	list := func(nodes []callbackd.Node) string {
		var s string
		for _, n := range nodes {
			s += fmt.Sprintf("%s:%s@%s(%d) ", n.ID, n.Config, n.Addr, n.SeenAt.Sub(t0)/time.Second)
		}
		return s
	}
	beat := func(s *Store, id, cfg string, at time.Duration) string {
		t.Helper()
		nodes, err := s.Heartbeat(ctx, callbackd.Node{ID: id, Addr: "http://" + id, Config: cfg, StartedAt: t0, SeenAt: t0.Add(at)})
		if err != nil {
			t.Fatal(err)
		}
		return list(nodes)
	}
	beat(a, "old", "c0", 0)
	beat(a, "n1", "c1", 10*time.Second)
	if got, want := beat(b, "n2", "c1", 10*time.Second), "n1:c1@http://n1(10) n2:c1@http://n2(10) old:c0@http://old(0) "; got != want {
		t.Fatalf("nodes %q, want %q", got, want)
	}
	if got, want := beat(a, "n1", "c2", 20*time.Second), "n1:c2@http://n1(20) n2:c1@http://n2(10) old:c0@http://old(0) "; got != want {
		t.Fatalf("after a reload: %q, want %q", got, want)
	}
	if got, want := beat(b, "n2", "c2", 24*time.Hour+time.Second), "n1:c2@http://n1(20) n2:c2@http://n2(86401) "; got != want {
		t.Fatalf("a day later: %q, want %q (old forgotten)", got, want)
	}
	if err := a.Leave(ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	if got, want := beat(b, "n2", "c2", 24*time.Hour+2*time.Second), "n2:c2@http://n2(86402) "; got != want {
		t.Fatalf("after n1 left: %q, want %q", got, want)
	}
}
