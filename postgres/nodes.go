package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/callbackd/callbackd"
)

var _ callbackd.NodeRegistry = (*Store)(nil)

// nodeMemory is how long a node that stopped heartbeating stays in the
// nodes table, so that an operator can still see which node vanished and
// with which configuration.
const nodeMemory = 24 * time.Hour

// Heartbeat implements callbackd.NodeRegistry: one upsert of the node's
// row, the pruning of nodes gone for nodeMemory, and the read of the
// table, in one transaction. The table holds one row per node and is
// written every few seconds: nothing else waits on it.
func (s *Store) Heartbeat(ctx context.Context, n callbackd.Node) ([]callbackd.Node, error) {
	var out []callbackd.Node
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		out = nil
		b := &pgx.Batch{}
		b.Queue(`INSERT INTO nodes (id, addr, config, started_at, seen_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (id) DO UPDATE SET addr = EXCLUDED.addr, config = EXCLUDED.config, seen_at = EXCLUDED.seen_at`,
			n.ID, n.Addr, n.Config, ms(n.StartedAt), ms(n.SeenAt))
		b.Queue(`DELETE FROM nodes WHERE seen_at < $1`, ms(n.SeenAt.Add(-nodeMemory)))
		b.Queue(`SELECT id, addr, config, started_at, seen_at FROM nodes ORDER BY id`).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var m callbackd.Node
				var started, seen int64
				if err := rows.Scan(&m.ID, &m.Addr, &m.Config, &started, &seen); err != nil {
					return err
				}
				m.StartedAt, m.SeenAt = fromMS(started), fromMS(seen)
				out = append(out, m)
			}
			return rows.Err()
		})
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Leave implements callbackd.NodeRegistry.
func (s *Store) Leave(ctx context.Context, id string) error {
	return s.retry(ctx, func() error {
		_, err := s.pool.Exec(ctx, `DELETE FROM nodes WHERE id = $1`, id)
		return err
	})
}
