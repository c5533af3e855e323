package sqlstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"

	"github.com/jackc/pgx/v5"
)

// NewSchema creates an empty schema named prefix plus a random suffix in
// the PostgreSQL database at base, and returns a DSN whose search_path is
// that schema, with a function that drops it. Tests and `seen bench` use it
// to get a fresh store without touching anything else in the database.
func NewSchema(ctx context.Context, base, prefix string) (dsn string, drop func() error, err error) {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return "", nil, err
	}
	schema := prefix + hex.EncodeToString(b)
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, fmt.Errorf("parse postgres url: %w", err)
	}
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", nil, fmt.Errorf("connect to postgres: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, fmt.Errorf("create schema %s: %w", schema, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	drop = func() error {
		c, err := pgx.Connect(context.Background(), base)
		if err != nil {
			return fmt.Errorf("connect to drop schema %s: %w", schema, err)
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			return fmt.Errorf("drop schema %s: %w", schema, err)
		}
		return nil
	}
	return u.String(), drop, nil
}
