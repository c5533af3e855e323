// Package sqltest gives tests a private PostgreSQL schema, so that test
// packages running in parallel against one database never see each
// other's rows.
package sqltest

import (
	"context"
	"os"
	"testing"

	"seen/internal/sqlstore"
)

// EnvPostgres names the variable holding the PostgreSQL URL tests use.
const EnvPostgres = "SEEN_TEST_POSTGRES_URL"

// PostgresURL returns the test database URL, or skips the test when
// SEEN_TEST_POSTGRES_URL is not set.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvPostgres)
	if u == "" {
		t.Skip(EnvPostgres + " is not set: PostgreSQL tests skipped")
	}
	return u
}

// PostgresDSN creates a fresh schema in the database at base and returns a
// DSN whose search_path is that schema. The schema is dropped when the
// test ends.
func PostgresDSN(t testing.TB, base string) string {
	t.Helper()
	dsn, drop, err := sqlstore.NewSchema(context.Background(), base, "t_")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Error(err)
		}
	})
	return dsn
}
