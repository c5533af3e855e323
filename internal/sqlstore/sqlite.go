package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// sqliteEngine runs SQLite transactions. All writes go through one
// connection (w has MaxOpenConns 1) whose transactions begin IMMEDIATE:
// Write calls queue in Go for that connection instead of racing for the
// database lock, so "database is locked" cannot happen between them, and
// sequence numbers commit in order trivially. Reads use a separate pool
// of query_only connections; in WAL mode they never wait for the writer.
type sqliteEngine struct {
	w, r           *sql.DB
	wStmts, rStmts map[string]*sql.Stmt // the hot statements, prepared once per pool
}

// sqliteParams are the connection settings shared by both pools.
// synchronous=FULL: in WAL mode NORMAL may lose the last commits on power
// loss (they are not fsynced until the next checkpoint); an acknowledged
// write must survive, so every commit fsyncs the WAL. busy_timeout covers
// the rare waits left (WAL recovery, checkpoints, another process).
const sqliteParams = "_busy_timeout=10000&_foreign_keys=1&_journal_mode=WAL&_synchronous=FULL"

func openSQLite(ctx context.Context, path string) (_ *sqliteEngine, err error) {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	e := &sqliteEngine{}
	defer func() {
		if err != nil {
			e.close()
		}
	}()
	e.w, err = sql.Open("sqlite", path+sep+sqliteParams+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	e.w.SetMaxOpenConns(1)
	e.w.SetMaxIdleConns(1)
	e.w.SetConnMaxLifetime(0)
	e.w.SetConnMaxIdleTime(0)
	if err := e.w.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if err := migrate(ctx, sqliteDialect, e.w); err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}

	e.r, err = sql.Open("sqlite", path+sep+sqliteParams+"&_query_only=1")
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	e.r.SetMaxOpenConns(n)
	e.r.SetMaxIdleConns(n)
	e.r.SetConnMaxLifetime(0)
	e.r.SetConnMaxIdleTime(0)

	if e.wStmts, err = prepareHot(ctx, e.w, false); err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if e.rStmts, err = prepareHot(ctx, e.r, true); err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return e, nil
}

// prepareHot prepares the registered hot statements on db. It runs before
// any transaction: preparing on the single writer connection while a
// transaction holds it would wait forever. Transactions then use
// Tx.StmtContext, which reuses the statement already prepared on their
// connection (or prepares it there once).
func prepareHot(ctx context.Context, db *sql.DB, readOnly bool) (map[string]*sql.Stmt, error) {
	m := make(map[string]*sql.Stmt, len(hotStmts))
	for _, h := range hotStmts {
		if readOnly && h.write {
			continue
		}
		st, err := db.PrepareContext(ctx, h.q)
		if err != nil {
			return nil, fmt.Errorf("prepare %q: %w", h.q, err)
		}
		m[h.q] = st
	}
	return m, nil
}

func (e *sqliteEngine) run(ctx context.Context, write bool, fn func(querier) error) error {
	db, stmts := e.r, e.rStmts
	if write {
		db, stmts = e.w, e.wStmts
	}
	t, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: !write})
	if err != nil {
		return fmt.Errorf("sqlite begin: %w", err)
	}
	defer t.Rollback()
	if err := fn(&sqliteQ{tx: t, stmts: stmts}); err != nil {
		return err
	}
	if err := t.Commit(); err != nil {
		return fmt.Errorf("sqlite commit: %w", err)
	}
	return nil
}

func (e *sqliteEngine) close() error {
	var errs []error
	for _, m := range []map[string]*sql.Stmt{e.wStmts, e.rStmts} {
		for _, st := range m {
			st.Close()
		}
	}
	for _, db := range []*sql.DB{e.r, e.w} {
		if db != nil {
			if err := db.Close(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("close sqlite: %w", errs[0])
	}
	return nil
}

// sqliteQ is a querier on one SQLite transaction.
type sqliteQ struct {
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

func (q *sqliteQ) exec(ctx context.Context, s string, args ...any) (int64, error) {
	var r sql.Result
	var err error
	if st := q.stmts[s]; st != nil {
		r, err = q.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	} else {
		r, err = q.tx.ExecContext(ctx, s, args...)
	}
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

func (q *sqliteQ) query(ctx context.Context, s string, args ...any) (rows, error) {
	var rs *sql.Rows
	var err error
	if st := q.stmts[s]; st != nil {
		rs, err = q.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	} else {
		rs, err = q.tx.QueryContext(ctx, s, args...)
	}
	if err != nil {
		return nil, err
	}
	return sqlRows{rs}, nil
}

func (q *sqliteQ) batch(ctx context.Context, s string, args [][]any, scan func(rows) error) error {
	var st *sql.Stmt
	if p := q.stmts[s]; p != nil {
		st = q.tx.StmtContext(ctx, p)
	} else {
		var err error
		if st, err = q.tx.PrepareContext(ctx, s); err != nil {
			return err
		}
		defer st.Close()
	}
	for _, a := range args {
		rs, err := st.QueryContext(ctx, a...)
		if err != nil {
			return err
		}
		for rs.Next() {
			if err := scan(sqlRows{rs}); err != nil {
				rs.Close()
				return err
			}
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return err
		}
	}
	return nil
}

// sqlRows adapts *sql.Rows to rows.
type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { r.Rows.Close() }
