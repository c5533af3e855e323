// Package sqltest gives tests a private PostgreSQL schema, so that test
// packages running in parallel against one database never see each
// other's rows.
package sqltest

import (
	"context"
	"testing"

	"seen/internal/sqlstore"
)

// EnvPostgres names the variable holding the PostgreSQL URL tests use.
const EnvPostgres = "SEEN_TEST_POSTGRES_URL"

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
