package sqlstore

import (
	"database/sql"
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pressly/goose/v3/database"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect holds every difference between SQLite and PostgreSQL that the
// query code has to know about. Queries are written once, in the subset
// both engines share: "?" placeholders, INSERT ... ON CONFLICT, RETURNING
// (SQLite >= 3.35), row values, UPDATE ... RETURNING, CASE instead of
// max()/GREATEST(). Booleans are bound as Go bools and tested as bare
// columns (WHERE allow_ack), which both engines accept: SQLite stores them
// as 0/1 INTEGER, PostgreSQL as BOOLEAN. Column types differ only in the
// migration files (migrations/sqlite, migrations/postgres).
type dialect struct {
	name  string           // "sqlite" or "postgres"
	goose database.Dialect // for the migration provider
	// dollar is true when placeholders are $1, $2, ... instead of ?.
	dollar bool
}

var (
	sqliteDialect   = &dialect{name: "sqlite", goose: database.DialectSQLite3}
	postgresDialect = &dialect{name: "postgres", goose: database.DialectPostgres, dollar: true}
)

// migrationsDir is the directory of the embedded migration files.
func (d *dialect) migrationsDir() string { return "migrations/" + d.name }

// rebind turns the "?" placeholders of q into the dialect's. Queries
// contain no "?" inside string literals.
func (d *dialect) rebind(q string) string {
	if !d.dollar || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + len(q)/4)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] != '?' {
			b.WriteByte(q[i])
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// engine is 1 on PostgreSQL and 0 on SQLite: the index of a statement
// that differs between them.
func (t *tx) engine() int {
	if _, pg := t.q.(pgQ); pg {
		return 1
	}
	return 0
}

// maxParams is how many bind parameters one statement may carry. SQLite's
// SQLITE_MAX_VARIABLE_NUMBER is 32766 (since 3.32), PostgreSQL's wire limit
// 65535; multi-row statements are split well below both.
const maxParams = 8000

// isUnique reports whether err is a unique or primary key violation.
func isUnique(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505" // unique_violation
	}
	return false
}

// isNoRows reports whether err says a single-row query found nothing.
func isNoRows(err error) bool {
	return errors.Is(err, sql.ErrNoRows) || errors.Is(err, pgx.ErrNoRows)
}

// isBusy reports whether err is SQLite's "database is locked". The store
// is built so that this never happens (one writer connection, immediate
// transactions, busy_timeout); tests assert it.
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}
