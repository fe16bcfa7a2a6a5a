package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/callbackd/callbackd"
	"github.com/callbackd/callbackd/internal/pgtest"
	"github.com/callbackd/callbackd/storetest"
)

// The test database, fresh schemas and statements on their own connection
// come from internal/pgtest, shared with the multi-node tests outside this
// package.

func open(t *testing.T, u string) *Store {
	t.Helper()
	s, err := Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func newCallback(id string, holds ...callbackd.Hold) *callbackd.Callback {
	return &callbackd.Callback{
		ID: id, Service: "svc", State: callbackd.StateScheduled, CustomerNumber: "555",
		DesiredTime: t0, ExpirationTime: t0.Add(time.Hour), CreatedAt: t0, UpdatedAt: t0,
		Properties: map[string]string{}, Lookup: map[string]string{callbackd.KeyCustomerNumber: "555"}, Holds: holds,
	}
}

func TestStoreSuite(t *testing.T) {
	pgtest.URL(t) // one skip for the suite, not one per case
	start := time.Now()
	storetest.Run(t, func(t *testing.T) callbackd.Store {
		u, _ := pgtest.Schema(t)
		s, err := Open(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
	t.Logf("suite took %v", time.Since(start))
}

func TestStoreSuiteReopen(t *testing.T) {
	pgtest.URL(t)
	storetest.RunReopen(t, func(t *testing.T) (callbackd.Store, func(t *testing.T) callbackd.Store) {
		u, _ := pgtest.Schema(t)
		s, err := Open(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		return s, func(t *testing.T) callbackd.Store { return open(t, u) }
	})
}

// TestConcurrentOpenMigratesOnce starts six nodes at once on an empty
// schema: all must open, and each migration must be recorded once.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	u, _ := pgtest.Schema(t)
	const nodes = 6
	stores := make([]*Store, nodes)
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() { stores[i], errs[i] = Open(context.Background(), u) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: Open: %v", i, err)
		}
		defer stores[i].Close()
		if err := stores[i].Ping(context.Background()); err != nil {
			t.Fatalf("node %d: Ping: %v", i, err)
		}
	}
	rows, err := stores[0].pool.Query(context.Background(), `SELECT version, count(*) FROM schema_migrations GROUP BY version ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	counts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]int, error) {
		var v [2]int
		return v, r.Scan(&v[0], &v[1])
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) != len(migrationFiles()) {
		t.Fatalf("versions %v, want %d", counts, len(migrationFiles()))
	}
	for i, c := range counts {
		if c[0] != i+1 || c[1] != 1 {
			t.Fatalf("schema_migrations %v: want each version 1..%d once", counts, len(migrationFiles()))
		}
	}
}

// TestDurabilitySettings checks what a crash test cannot see: every pool
// connection commits synchronously, even when the URL tries to lower it
// through "options", and a URL asking for synchronous_commit=off is refused.
func TestDurabilitySettings(t *testing.T) {
	u, _ := pgtest.Schema(t)
	ctx := context.Background()
	s := open(t, pgtest.WithParams(u, "options", "-c synchronous_commit=off"))
	var conns []interface{ Release() }
	defer func() {
		for _, c := range conns {
			c.Release()
		}
	}()
	for range s.pool.Config().MaxConns {
		c, err := s.pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		var v string
		if err := c.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&v); err != nil || v != "on" {
			t.Fatalf("connection %d: synchronous_commit = %q, %v; want on", len(conns), v, err)
		}
	}
	if _, err := Open(ctx, pgtest.WithParams(u, "synchronous_commit", "off")); err == nil {
		t.Fatal("Open accepted synchronous_commit=off")
	}
}

// TestHoldsAcrossNodes is the limit test of the suite with the contenders
// spread over three stores, as on three nodes: three pools, one schema.
func TestHoldsAcrossNodes(t *testing.T) {
	u, _ := pgtest.Schema(t)
	nodes := []*Store{open(t, u), open(t, u), open(t, u)}
	const limit, tries = 10, 90
	h := callbackd.Hold{Key: "slot/svc/0900", Limit: limit}
	var ok, refused atomic.Int32
	var wg sync.WaitGroup
	for i := range tries {
		wg.Go(func() {
			err := nodes[i%len(nodes)].CreateCallback(context.Background(), newCallback(fmt.Sprintf("n%02d", i), h), nil)
			var le *callbackd.LimitError
			switch {
			case err == nil:
				ok.Add(1)
			case errors.As(err, &le):
				refused.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	cs, err := nodes[1].Counters(context.Background(), h.Key, h.Key+"\x00")
	if err != nil {
		t.Fatal(err)
	}
	stored, err := nodes[2].FindCallbacks(context.Background(), callbackd.Query{Service: "svc"})
	if err != nil {
		t.Fatal(err)
	}
	if ok.Load() != limit || refused.Load() != tries-limit || len(cs) != 1 || cs[0].Value != limit || len(stored) != limit {
		t.Fatalf("accepted %d, refused %d, counters %+v, stored %d; want exactly %d", ok.Load(), refused.Load(), cs, len(stored), limit)
	}
}

// TestCrossedHoldsAcrossNodes has transactions on three nodes take the
// same counters listed in opposite orders, and move them back and forth.
// Unsorted, they would deadlock (and burn retries); sorted, they all go
// through and the counters are exact.
func TestCrossedHoldsAcrossNodes(t *testing.T) {
	u, _ := pgtest.Schema(t)
	nodes := []*Store{open(t, u), open(t, u), open(t, u)}
	keys := []string{"k/a", "k/b", "k/c", "k/d"}
	hold := func(order []int) []callbackd.Hold {
		var hs []callbackd.Hold
		for _, i := range order {
			hs = append(hs, callbackd.Hold{Key: keys[i]})
		}
		return hs
	}
	orders := [][]int{{0, 1, 2, 3}, {3, 2, 1, 0}, {1, 3, 0, 2}}
	const n = 30
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ctx := context.Background()
			s := nodes[i%len(nodes)]
			id := fmt.Sprintf("x%02d", i)
			if err := s.CreateCallback(ctx, newCallback(id, hold(orders[i%3])...), nil); err != nil {
				t.Error(err)
				return
			}
			_, err := s.UpdateCallback(ctx, id, func(cb *callbackd.Callback) ([]callbackd.Event, error) {
				cb.Holds = hold(orders[(i+1)%3][:2])
				return nil, nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	want := map[string]int{}
	for i := range n {
		for _, k := range orders[(i+1)%3][:2] {
			want[keys[k]]++
		}
	}
	cs, err := nodes[0].Counters(context.Background(), "k/", "k0")
	if err != nil {
		t.Fatal(err)
	}
	if r := nodes[0].retried.Load() + nodes[1].retried.Load() + nodes[2].retried.Load(); r != 0 {
		t.Errorf("%d transactions retried: the lock order let them deadlock", r)
	}
	if len(cs) != len(want) {
		t.Fatalf("counters %+v, want %v", cs, want)
	}
	for _, c := range cs {
		if c.Value != want[c.Key] {
			t.Fatalf("counters %+v, want %v", cs, want)
		}
	}
}

func TestHoldOpsSortedByKey(t *testing.T) {
	before := []callbackd.Hold{{Key: "z"}, {Key: "m"}, {Key: "b"}}
	after := []callbackd.Hold{{Key: "y", Limit: 1}, {Key: "m"}, {Key: "a"}, {Key: "Z"}}
	var got []string
	for _, op := range holdOps(before, after) {
		sign := "-"
		if op.take {
			sign = "+"
		}
		got = append(got, sign+op.hold.Key)
	}
	if want := "+Z,+a,-b,+y,-z"; strings.Join(got, ",") != want {
		t.Fatalf("ops %v, want %s", got, want)
	}
}

func TestConcurrentUpdatesAcrossNodes(t *testing.T) {
	u, _ := pgtest.Schema(t)
	nodes := []*Store{open(t, u), open(t, u), open(t, u)}
	ctx := context.Background()
	if err := nodes[0].CreateCallback(ctx, newCallback("c"), nil); err != nil {
		t.Fatal(err)
	}
	const n = 45
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, err := nodes[i%3].UpdateCallback(ctx, "c", func(cb *callbackd.Callback) ([]callbackd.Event, error) {
				k, _ := strconv.Atoi(cb.Properties["counter"])
				cb.Properties["counter"] = strconv.Itoa(k + 1)
				return nil, nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, err := nodes[2].GetCallback(ctx, "c")
	if err != nil || got.Properties["counter"] != strconv.Itoa(n) {
		t.Fatalf("counter = %v, %v after %d increments on 3 nodes: lost updates", got.Properties["counter"], err, n)
	}
}

func TestErrorTranslation(t *testing.T) {
	u, _ := pgtest.Schema(t)
	s := open(t, u)
	ctx := context.Background()
	if err := s.CreateCallback(ctx, newCallback("dup"), nil); err != nil {
		t.Fatal(err)
	}
	t.Run("DuplicateIsConflict", func(t *testing.T) {
		err := s.CreateCallback(ctx, newCallback("dup"), nil)
		if !errors.Is(err, callbackd.ErrConflict) {
			t.Fatalf("err = %v, want ErrConflict", err)
		}
	})
	t.Run("NULIsBadParameter", func(t *testing.T) {
		cb := newCallback("nul")
		cb.CustomerNumber = "555\x00"
		if err := s.CreateCallback(ctx, cb, nil); callbackd.ErrorCode(err) != callbackd.CodeBadParameter {
			t.Fatalf("err = %v, want BAD_PARAMETER", err)
		}
	})
	t.Run("NULInPropertiesRoundTrips", func(t *testing.T) {
		cb := newCallback("nulprop")
		cb.Properties["note"] = "a\x00b"
		if err := s.CreateCallback(ctx, cb, nil); err != nil {
			t.Fatal(err)
		}
		if got, err := s.GetCallback(ctx, "nulprop"); err != nil || got.Properties["note"] != "a\x00b" {
			t.Fatalf("got %q, %v", got.Properties["note"], err)
		}
	})
	t.Run("UnreachableIsUnavailable", func(t *testing.T) {
		_, err := Open(ctx, "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2")
		if callbackd.ErrorCode(err) != callbackd.CodeUnavailable {
			t.Fatalf("err = %v, want SERVICE_UNAVAILABLE", err)
		}
	})
}

// TestTerminatedConnections kills the store's server processes, as a
// PostgreSQL restart or failover would: every call answers either normally
// or SERVICE_UNAVAILABLE, never a raw driver error, and the pool recovers.
func TestTerminatedConnections(t *testing.T) {
	u, name := pgtest.Schema(t)
	s := open(t, u)
	ctx := context.Background()
	if err := s.CreateCallback(ctx, newCallback("t1"), nil); err != nil {
		t.Fatal(err)
	}
	pgtest.Exec(t, pgtest.URL(t), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, name)
	for i := range 3 {
		_, err := s.GetCallback(ctx, "t1")
		t.Logf("call %d after terminate: %v", i, err)
		if err != nil && callbackd.ErrorCode(err) != callbackd.CodeUnavailable {
			t.Fatalf("call %d after terminate: %v, want success or SERVICE_UNAVAILABLE", i, err)
		}
	}
	if _, err := s.GetCallback(ctx, "t1"); err != nil {
		t.Fatalf("pool did not recover: %v", err)
	}
}

// TestRetry drives the retry loop with fake server errors: the faults a
// real server produces only under rare timing.
func TestRetry(t *testing.T) {
	s := &Store{}
	ctx := context.Background()
	fail := func(code string, times int) (func() error, *int) {
		calls := 0
		return func() error {
			calls++
			if calls <= times {
				return &pgconn.PgError{Code: code}
			}
			return nil
		}, &calls
	}
	cases := []struct {
		name      string
		code      string
		times     int
		wantCalls int
		wantCode  callbackd.Code // 0: success
	}{
		{"DeadlockRetried", codeDeadlockDetected, 2, 3, 0},
		{"SerializationRetried", codeSerializationFailure, 4, 5, 0},
		{"SerializationExhausted", codeSerializationFailure, 10, maxAttempts, callbackd.CodeUnavailable},
		{"AdminShutdownUnavailable", codeAdminShutdown, 10, 1, callbackd.CodeUnavailable},
		{"TooManyConnectionsUnavailable", codeTooManyConnections, 10, 1, callbackd.CodeUnavailable},
		{"ConnectionExceptionUnavailable", "08006", 10, 1, callbackd.CodeUnavailable},
		{"OtherPassesThrough", "42P01", 10, 1, callbackd.CodeUnknownError},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			op, calls := fail(c.code, c.times)
			err := s.retry(ctx, op)
			if *calls != c.wantCalls {
				t.Errorf("ran %d times, want %d", *calls, c.wantCalls)
			}
			switch {
			case c.wantCode == 0 && err != nil:
				t.Errorf("err = %v, want success", err)
			case c.wantCode != 0 && callbackd.ErrorCode(err) != c.wantCode:
				t.Errorf("err = %v, want code %d", err, c.wantCode)
			}
		})
	}
	t.Run("CallerErrorAsIs", func(t *testing.T) {
		boom := &pgconn.PgError{Code: codeDeadlockDetected}
		calls := 0
		err := s.retry(ctx, func() error { calls++; return &callerError{boom} })
		if err != boom || calls != 1 {
			t.Fatalf("err = %v after %d calls, want fn's own error, once", err, calls)
		}
	})
}
