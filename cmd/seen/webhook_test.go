package main_test

// The process test of the webhook outbox: a `seen serve` on SQLite with a
// webhook target is killed with SIGKILL while the target hangs, after the
// acks were acknowledged; restarted on the same data, it delivers every
// event: none is lost.

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"seen/internal/sqlstore/sqltest"
)

func TestWebhookSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("process test skipped in -short mode")
	}
	s := newHookScene(t, 25, "--data", t.TempDir())
	defer s.recv.Close()
	p := s.start("w1")
	t.Cleanup(http.DefaultClient.CloseIdleConnections)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	s.sendNotices(ctx, p, 8, 12, "n")
	// Every read the server acknowledged as counted must reach the target.
	s.ackAll(ctx, p)
	// The target hangs: wait until the node is in the middle of a POST,
	// then kill it. Its rows are leased, rescheduled or never tried.
	s.waitPosts(ctx, 2, "the node never POSTed")
	p.kill(t)

	s.h.up.Store(true)
	s.start("w1")
	dups := s.waitDelivered(60*time.Second, "after the restart") // the dead node's lease: 3 timeouts + 10s
	t.Logf("%d reads and %d read-by-all events delivered after SIGKILL; %d reads twice (sent before the kill, not recorded)", len(s.want), len(s.msgs), dups)
}

// TestWebhookClusterSIGKILL: two nodes over one PostgreSQL deliver one
// outbox; one is killed while its requests hang. The survivor delivers
// every event, the dead node's leased rows once their lease ends.
func TestWebhookClusterSIGKILL(t *testing.T) {
	pg, natsURL := os.Getenv(sqltest.EnvPostgres), os.Getenv(envNATS)
	if pg == "" || natsURL == "" {
		t.Skipf("%s and %s must both be set: webhook cluster process test skipped", sqltest.EnvPostgres, envNATS)
	}
	if testing.Short() {
		t.Skip("process test skipped in -short mode")
	}
	s := newHookScene(t, 10, "--postgres", sqltest.PostgresDSN(t, pg), "--nats", natsURL)
	defer s.recv.Close()
	n1 := s.start("n1")
	s.start("n2")
	t.Cleanup(http.DefaultClient.CloseIdleConnections)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	s.sendNotices(ctx, n1, 6, 10, "c")
	s.ackAll(ctx, n1)
	// n1 committed the acks: its commit woke its deliverer, whose requests
	// now hang. Kill it mid-request.
	s.waitPosts(ctx, 3, "no node POSTed")
	n1.kill(t)

	s.h.up.Store(true)
	s.waitDelivered(60*time.Second, "with n1 dead,")
}
