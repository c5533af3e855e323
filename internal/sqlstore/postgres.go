package sqlstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// pgEngine runs PostgreSQL transactions on a pgx pool. Writes are READ
// COMMITTED; Tx.NextSeq's UPDATE of the counter row holds its row lock
// until commit, which orders the commits of all writers that take
// numbers from the same counter, on every node. Reads are REPEATABLE READ
// READ ONLY so that all statements of one Read see one snapshot.
type pgEngine struct {
	pool *pgxpool.Pool
}

func openPostgres(ctx context.Context, dsn string) (_ *pgEngine, err error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	defer func() {
		if err != nil {
			pool.Close()
		}
	}()
	if err := pool.Ping(ctx); err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	if err := migrate(ctx, postgresDialect, db); err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	return &pgEngine{pool: pool}, nil
}

func (e *pgEngine) run(ctx context.Context, write bool, fn func(querier) error) error {
	opts := pgx.TxOptions{IsoLevel: pgx.ReadCommitted}
	if !write {
		opts = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	}
	t, err := e.pool.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("postgres begin: %w", err)
	}
	defer t.Rollback(context.WithoutCancel(ctx))
	if err := fn(pgQ{t}); err != nil {
		return err
	}
	if err := t.Commit(ctx); err != nil {
		return fmt.Errorf("postgres commit: %w", err)
	}
	return nil
}

func (e *pgEngine) close() error {
	e.pool.Close()
	return nil
}

// pgQ is a querier on one PostgreSQL transaction. pgx caches the prepared
// statement of each query text per connection.
type pgQ struct{ tx pgx.Tx }

func (q pgQ) exec(ctx context.Context, s string, args ...any) (int64, error) {
	tag, err := q.tx.Exec(ctx, postgresDialect.rebind(s), args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (q pgQ) query(ctx context.Context, s string, args ...any) (rows, error) {
	return q.tx.Query(ctx, postgresDialect.rebind(s), args...)
}

func (q pgQ) batch(ctx context.Context, s string, args [][]any, scan func(rows) error) error {
	if len(args) == 0 {
		return nil
	}
	s = postgresDialect.rebind(s)
	b := &pgx.Batch{}
	for _, a := range args {
		b.Queue(s, a...)
	}
	br := q.tx.SendBatch(ctx, b)
	for range args {
		rs, err := br.Query()
		if err != nil {
			br.Close()
			return err
		}
		for rs.Next() {
			if err := scan(rs); err != nil {
				rs.Close()
				br.Close()
				return err
			}
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			br.Close()
			return err
		}
	}
	return br.Close()
}
