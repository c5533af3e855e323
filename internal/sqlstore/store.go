package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"seen/internal/chat"
)

//go:embed migrations
var migrations embed.FS

// Store is a chat.Store on SQLite or PostgreSQL. It is safe for
// concurrent use.
type Store struct {
	d   *dialect
	eng engine
}

var _ chat.Store = (*Store)(nil)

// engine runs transactions on one database engine.
type engine interface {
	// run runs fn in a transaction and commits when it returns nil.
	run(ctx context.Context, write bool, fn func(querier) error) error
	close() error
}

// Open opens the store named by dsn and brings its schema up to date.
// dsn is "postgres://..." (or "postgresql://...") for PostgreSQL, and
// "sqlite:<path>" or a plain file path for SQLite.
func Open(ctx context.Context, dsn string) (*Store, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		e, err := openPostgres(ctx, dsn)
		if err != nil {
			return nil, err
		}
		return &Store{d: postgresDialect, eng: e}, nil
	case strings.HasPrefix(dsn, "sqlite:"):
		dsn = strings.TrimPrefix(dsn, "sqlite:")
		fallthrough
	default:
		if dsn == "" || strings.HasPrefix(dsn, ":memory:") {
			return nil, fmt.Errorf("open sqlite: need a file path, got %q", dsn)
		}
		e, err := openSQLite(ctx, dsn)
		if err != nil {
			return nil, err
		}
		return &Store{d: sqliteDialect, eng: e}, nil
	}
}

// Read runs fn in a read-only transaction that sees one consistent
// snapshot.
func (s *Store) Read(ctx context.Context, fn func(chat.Tx) error) error {
	return s.eng.run(ctx, false, func(q querier) error { return fn(&tx{q: q}) })
}

// Write runs fn in a read-write transaction and commits when fn returns
// nil; the commit is durable when Write returns.
func (s *Store) Write(ctx context.Context, fn func(chat.Tx) error) error {
	return s.eng.run(ctx, true, func(q querier) error { return fn(&tx{q: q, write: true}) })
}

// Close closes the database connections.
func (s *Store) Close() error { return s.eng.close() }

// migrate applies the pending embedded migrations of d to db.
func migrate(ctx context.Context, d *dialect, db *sql.DB) error {
	fsys, err := fs.Sub(migrations, d.migrationsDir())
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if d == postgresDialect {
		// Nodes starting together take turns (an advisory lock, retried
		// every second for up to 5 minutes).
		l, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(l))
	}
	p, err := goose.NewProvider(d.goose, db, fsys, opts...)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// querier runs statements inside one transaction. Queries are written
// with "?" placeholders; the implementation rebinds them.
type querier interface {
	exec(ctx context.Context, q string, args ...any) (int64, error)
	query(ctx context.Context, q string, args ...any) (rows, error)
	// batch runs q once per argument list, in order, and calls scan for
	// each row returned. PostgreSQL pipelines them in one round trip;
	// SQLite runs one prepared statement repeatedly.
	batch(ctx context.Context, q string, args [][]any, scan func(rows) error) error
}

// rows is the part of *sql.Rows and pgx.Rows the queries use.
type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// errNotWrite is returned by write-only methods in Read.
var errNotWrite = errors.New("write in a read-only transaction")
