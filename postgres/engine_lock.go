package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/callbackd/callbackd"
)

var _ callbackd.EngineElector = (*Store)(nil)

// engineLockKey names the engine's advisory lock. Advisory locks belong to
// the database, not the schema: the key is hashed with the schema's name,
// so that deployments (and tests) in separate schemas of one database
// elect their leaders apart.
const engineLockKey = `hashtext(current_schema() || '/callbackd-engine')`

// leaseCheckEvery and leaseCheckTimeout bound how long a leader whose
// connection died goes on believing it leads: at most their sum. A node
// that takes over waits longer than that first (the server's grace).
const (
	leaseCheckEvery   = time.Second
	leaseCheckTimeout = 2 * time.Second
)

// engineLease is the leader's hold: the connection that holds the lock.
type engineLease struct {
	conn *pgx.Conn
	lost chan struct{}
	stop chan struct{}
	once sync.Once
	done chan struct{}
}

// TryLeadEngine takes the engine's lock on a connection of its own, or
// answers nil when another node holds it, and records n as the leader.
// While it leads, the connection is checked every second; when a check
// fails (the database or the network is gone, and with them the lock),
// Lost closes.
func (s *Store) TryLeadEngine(ctx context.Context, n callbackd.Node) (callbackd.EngineLease, error) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, translate(ctx, err)
	}
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(`+engineLockKey+`)`).Scan(&got); err != nil {
		_ = conn.Close(ctx)
		return nil, translate(ctx, err)
	}
	if !got {
		_ = conn.Close(ctx)
		return nil, nil
	}
	_, err = conn.Exec(ctx, `INSERT INTO engine_leader (id, node, addr, since) VALUES (1, $1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET node = EXCLUDED.node, addr = EXCLUDED.addr, since = EXCLUDED.since`,
		n.ID, n.Addr, ms(n.StartedAt))
	if err != nil {
		_ = conn.Close(ctx)
		return nil, translate(ctx, err)
	}
	l := &engineLease{conn: conn, lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	go l.watch()
	return l, nil
}

// watch checks the lock's connection until Release, and closes lost when
// a check fails.
func (l *engineLease) watch() {
	defer close(l.done)
	t := time.NewTicker(leaseCheckEvery)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), leaseCheckTimeout)
		_, err := l.conn.Exec(ctx, `SELECT 1`)
		cancel()
		if err != nil {
			close(l.lost)
			_ = l.conn.Close(context.Background())
			return
		}
	}
}

func (l *engineLease) Lost() <-chan struct{} { return l.lost }

// Release unlocks by closing the connection (the lock is the session's).
func (l *engineLease) Release() {
	l.once.Do(func() {
		close(l.stop)
		<-l.done
		_ = l.conn.Close(context.Background())
	})
}

// EngineLeader reads the recorded leader.
func (s *Store) EngineLeader(ctx context.Context) (callbackd.Node, error) {
	var n callbackd.Node
	var since int64
	err := s.retry(ctx, func() error {
		return s.pool.QueryRow(ctx, `SELECT node, addr, since FROM engine_leader WHERE id = 1`).Scan(&n.ID, &n.Addr, &since)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return n, callbackd.ErrNotFound
	}
	if err != nil {
		return n, fmt.Errorf("postgres: engine leader: %w", err)
	}
	n.StartedAt = fromMS(since)
	return n, nil
}

// LastEventSeq is the newest event's number (0 without events).
func (s *Store) LastEventSeq(ctx context.Context) (int64, error) {
	var seq int64
	err := s.retry(ctx, func() error {
		return s.pool.QueryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM events`).Scan(&seq)
	})
	return seq, err
}
