package server

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"seen/internal/sqlstore"
)

// TestNodeSlotLost: when this node's slot is found in another process's
// hands at renewal (its lease lapsed during a stall), the node reports it
// instead of going on issuing ids from a shared slot.
func TestNodeSlotLost(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "seen.db")
	st, err := sqlstore.Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	lost := make(chan struct{}, 1)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	n, err := claimNode(ctx, st, "a/1", 300*time.Millisecond, log, func() { lost <- struct{}{} })
	if err != nil {
		t.Fatal(err)
	}
	defer n.stop()
	// Another process holds the slot now, as after a lapsed lease.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE nodes SET name = 'intruder/2' WHERE slot = ?`, n.slot); err != nil {
		t.Fatal(err)
	}
	select {
	case <-lost:
	case <-time.After(5 * time.Second):
		t.Fatal("the node did not notice that its slot was taken")
	}
}
