package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"seen/internal/chat"
)

func TestOutbox(t *testing.T) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s *Store)
	}{
		{"Lifecycle", testOutboxLifecycle},
		{"Lease", testOutboxLease},
		{"FailedAndRetry", testOutboxFailed},
		{"ConcurrentClaims", testOutboxConcurrentClaims},
		{"ClaimByTarget", testOutboxClaimByTarget},
		{"ConcurrentClaimsByTarget", testOutboxConcurrentClaimsByTarget},
		{"Rollback", testOutboxRollback},
	}
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.fn(t, e.open(t))
				})
			}
		})
	}
}

// outboxEvents returns n events for target, created at ms 0..n-1.
func outboxEvents(target string, n int) []chat.OutboxEvent {
	evs := make([]chat.OutboxEvent, n)
	for i := range evs {
		p, _ := json.Marshal(chat.WebhookEvent{Kind: chat.WebhookRead, Group: 7, Msg: chat.MsgID(100 + i), Reader: fmt.Sprint("u", i), At: at(int64(i)).UnixMilli()})
		evs[i] = chat.OutboxEvent{Target: target, Kind: chat.WebhookRead, Payload: p, CreatedAt: at(int64(i))}
	}
	return evs
}

func claim(t *testing.T, s *Store, owner string, now time.Time, lease time.Duration, limit int) []chat.OutboxEvent {
	t.Helper()
	var evs []chat.OutboxEvent
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		var err error
		evs, err = tx.ClaimOutbox(ctx, owner, now, lease, limit)
		return err
	})
	return evs
}

func ids(evs []chat.OutboxEvent) []int64 {
	out := make([]int64, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func testOutboxLifecycle(t *testing.T, s *Store) {
	in := outboxEvents("http://a.example/hook", 5)
	write(t, s, func(ctx context.Context, tx chat.Tx) error { return tx.InsertOutbox(ctx, in) })

	got := claim(t, s, "n1", at(10), time.Minute, 3)
	if len(got) != 3 {
		t.Fatalf("ClaimOutbox(limit 3) = %d rows, want 3", len(got))
	}
	for i, e := range got {
		want := in[i]
		want.ID, want.NextAt = e.ID, at(10).Add(time.Minute)
		if diff := cmp.Diff(want, e); diff != "" {
			t.Errorf("claimed row %d (-want +got):\n%s", i, diff)
		}
		if i > 0 && e.ID <= got[i-1].ID {
			t.Errorf("claimed ids %v are not in order", ids(got))
		}
	}
	// The leased rows are not due; the other two are.
	rest := claim(t, s, "n1", at(20), time.Minute, 10)
	if len(rest) != 2 || string(rest[0].Payload) != string(in[3].Payload) {
		t.Fatalf("second claim = %v, want the 2 rows not leased", ids(rest))
	}
	write(t, s, func(ctx context.Context, tx chat.Tx) error { return tx.DeleteOutbox(ctx, "n1", ids(got)) })
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		return tx.RescheduleOutbox(ctx, "n1", ids(rest), at(5_000), "HTTP 500", false)
	})
	if evs := claim(t, s, "n1", at(4_999), time.Minute, 10); len(evs) != 0 {
		t.Fatalf("claim before the backoff = %v, want none", ids(evs))
	}
	evs := claim(t, s, "n2", at(5_000), time.Minute, 10)
	if len(evs) != 2 || evs[0].Attempts != 1 || evs[0].LastError != "HTTP 500" || evs[0].Failed {
		t.Fatalf("claim after the backoff = %+v, want the 2 rescheduled rows with 1 attempt", evs)
	}
	// Release: due at once, no attempt counted.
	write(t, s, func(ctx context.Context, tx chat.Tx) error { return tx.ReleaseOutbox(ctx, "n2", ids(evs), at(5_001)) })
	evs = claim(t, s, "n3", at(5_001), time.Minute, 10)
	if len(evs) != 2 || evs[0].Attempts != 1 {
		t.Fatalf("claim after release = %+v, want the 2 rows, still 1 attempt", evs)
	}
	write(t, s, func(ctx context.Context, tx chat.Tx) error { return tx.DeleteOutbox(ctx, "n3", ids(evs)) })
	if evs := claim(t, s, "n1", at(1_000_000), time.Minute, 10); len(evs) != 0 {
		t.Fatalf("claim after every row was delivered = %v, want none", ids(evs))
	}
}

func testOutboxLease(t *testing.T, s *Store) {
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		return tx.InsertOutbox(ctx, outboxEvents("http://a.example/hook", 2))
	})
	a := claim(t, s, "n1", at(100), time.Second, 10)
	if len(a) != 2 {
		t.Fatalf("claim = %d rows, want 2", len(a))
	}
	if b := claim(t, s, "n2", at(100).Add(999*time.Millisecond), time.Second, 10); len(b) != 0 {
		t.Fatalf("claim within n1's lease = %v, want none", ids(b))
	}
	// The lease expired: n2 takes the rows over, and n1, which lost them,
	// can neither delete nor reschedule nor release them.
	b := claim(t, s, "n2", at(100).Add(time.Second), time.Second, 10)
	if !slices.Equal(ids(b), ids(a)) {
		t.Fatalf("claim after n1's lease = %v, want %v", ids(b), ids(a))
	}
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		if err := tx.DeleteOutbox(ctx, "n1", ids(a)); err != nil {
			return err
		}
		if err := tx.RescheduleOutbox(ctx, "n1", ids(a), at(0), "late", true); err != nil {
			return err
		}
		return tx.ReleaseOutbox(ctx, "n1", ids(a), at(0))
	})
	c := claim(t, s, "n3", at(100).Add(2*time.Second), time.Second, 10)
	if !slices.Equal(ids(c), ids(a)) || c[0].Attempts != 0 || c[0].Failed {
		t.Fatalf("claim after n2's lease = %+v, want both rows untouched by n1", c)
	}
}

func testOutboxFailed(t *testing.T, s *Store) {
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		return tx.InsertOutbox(ctx, outboxEvents("http://a.example/hook", 5))
	})
	evs := claim(t, s, "n1", at(10), time.Minute, 10)
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		if err := tx.RescheduleOutbox(ctx, "n1", ids(evs[:4]), at(20), "HTTP 503", true); err != nil {
			return err
		}
		return tx.DeleteOutbox(ctx, "n1", ids(evs[4:]))
	})
	if got := claim(t, s, "n1", at(1_000_000), time.Minute, 10); len(got) != 0 {
		t.Fatalf("claim of failed rows = %v, want none", ids(got))
	}
	var page1, page2 []chat.OutboxEvent
	read(t, s, func(ctx context.Context, tx chat.Tx) error {
		var err error
		if page1, err = tx.FailedOutbox(ctx, 0, 3); err != nil {
			return err
		}
		page2, err = tx.FailedOutbox(ctx, page1[len(page1)-1].ID, 3)
		return err
	})
	if got, want := append(ids(page1), ids(page2)...), ids(evs[:4]); !slices.Equal(got, want) {
		t.Fatalf("FailedOutbox pages = %v, want %v", got, want)
	}
	if !page1[0].Failed || page1[0].Attempts != 1 || page1[0].LastError != "HTTP 503" {
		t.Errorf("failed row = %+v, want failed after 1 attempt with its error", page1[0])
	}

	var n int
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		var err error
		// evs[4] is gone and 999 never was: only the failed rows count.
		n, err = tx.RetryOutbox(ctx, []int64{evs[0].ID, evs[4].ID, 999}, at(30))
		return err
	})
	if n != 1 {
		t.Errorf("RetryOutbox(one failed, one delivered, one unknown) = %d, want 1", n)
	}
	if got := claim(t, s, "n1", at(30), time.Minute, 10); !slices.Equal(ids(got), ids(evs[:1])) || got[0].Attempts != 0 {
		t.Fatalf("claim after retrying one = %+v, want row %d with 0 attempts", got, evs[0].ID)
	}
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		var err error
		n, err = tx.RetryOutbox(ctx, nil, at(40))
		return err
	})
	if n != 3 {
		t.Errorf("RetryOutbox(all) = %d, want 3", n)
	}
	if got := claim(t, s, "n1", at(40), time.Minute, 10); !slices.Equal(ids(got), ids(evs[1:4])) {
		t.Fatalf("claim after retrying all = %v, want %v", ids(got), ids(evs[1:4]))
	}
}

// claimConcurrently runs the claims at once, each again until it gets
// nothing, and returns who claimed each row; a row claimed twice fails
// the test.
func claimConcurrently(t *testing.T, claims map[string]func() ([]chat.OutboxEvent, error)) map[int64]claimed {
	t.Helper()
	var mu sync.Mutex
	seen := map[int64]claimed{}
	var wg sync.WaitGroup
	for owner, claim := range claims {
		wg.Go(func() {
			for {
				evs, err := claim()
				if err != nil {
					t.Errorf("claim of %s: %v", owner, err)
					return
				}
				if len(evs) == 0 {
					return
				}
				mu.Lock()
				for _, e := range evs {
					if o, dup := seen[e.ID]; dup {
						t.Errorf("row %d claimed by %s and %s", e.ID, o.owner, owner)
					}
					seen[e.ID] = claimed{owner, e.Target}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return seen
}

type claimed struct{ owner, target string }

// testOutboxConcurrentClaims claims from several goroutines at once (on
// PostgreSQL, concurrent transactions: FOR UPDATE SKIP LOCKED) and checks
// that every row goes to exactly one claimer.
func testOutboxConcurrentClaims(t *testing.T, s *Store) {
	const rows, claimers = 600, 6
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		return tx.InsertOutbox(ctx, outboxEvents("http://a.example/hook", rows))
	})
	claims := map[string]func() ([]chat.OutboxEvent, error){}
	for c := range claimers {
		owner := fmt.Sprint("n", c)
		claims[owner] = func() ([]chat.OutboxEvent, error) {
			var evs []chat.OutboxEvent
			err := s.Write(context.Background(), func(tx chat.Tx) error {
				var err error
				evs, err = tx.ClaimOutbox(context.Background(), owner, at(rows), time.Hour, 7)
				return err
			})
			return evs, err
		}
	}
	if seen := claimConcurrently(t, claims); len(seen) != rows {
		t.Errorf("%d rows claimed, want %d", len(seen), rows)
	}
}

func claimFor(t *testing.T, s *Store, owner string, targets []string, now time.Time, limit int) []chat.OutboxEvent {
	t.Helper()
	evs, err := s.ClaimOutboxFor(context.Background(), owner, targets, now, time.Minute, limit)
	if err != nil {
		t.Fatalf("ClaimOutboxFor(%s, %v) = %v", owner, targets, err)
	}
	return evs
}

func targetsOf(evs []chat.OutboxEvent) map[string]int {
	out := map[string]int{}
	for _, e := range evs {
		out[e.Target]++
	}
	return out
}

// testOutboxClaimByTarget: a node claims only the rows of its targets, up
// to the limit for each, and leaves the others' rows due and untouched (a
// rolling deploy that adds a target: the nodes without it must not take
// its rows).
func testOutboxClaimByTarget(t *testing.T, s *Store) {
	const a, b, c = "http://a.example/hook", "http://b.example/hook", "http://c.example/hook"
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		return tx.InsertOutbox(ctx, slices.Concat(outboxEvents(c, 3), outboxEvents(a, 3), outboxEvents(b, 3)))
	})
	got := claimFor(t, s, "old", []string{b, a, a}, at(10), 2)
	if diff := cmp.Diff(map[string]int{a: 2, b: 2}, targetsOf(got)); diff != "" {
		t.Errorf("ClaimOutboxFor(a, b, limit 2) targets (-want +got):\n%s", diff)
	}
	if !slices.IsSorted(ids(got)) {
		t.Errorf("claimed ids %v are not in order", ids(got))
	}
	for _, e := range got {
		if e.CreatedAt.After(at(1)) {
			t.Errorf("claimed %s created at %v, want each target's oldest", e.Target, e.CreatedAt)
		}
	}
	if got := claimFor(t, s, "old", nil, at(10), 10); len(got) != 0 {
		t.Errorf("ClaimOutboxFor(no targets) = %v, want none", ids(got))
	}
	counts, err := s.PendingOutbox(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{a: 3, b: 3, c: 3}, counts); diff != "" {
		t.Errorf("PendingOutbox() (-want +got):\n%s", diff)
	}
	// The node that has c gets all of its rows, untouched: due, no attempt.
	cs := claimFor(t, s, "new", []string{a, b, c}, at(20), 10)
	if diff := cmp.Diff(map[string]int{a: 1, b: 1, c: 3}, targetsOf(cs)); diff != "" {
		t.Errorf("ClaimOutboxFor(a, b, c) after the first claim (-want +got):\n%s", diff)
	}
	for _, e := range cs {
		if e.Attempts != 0 || e.Failed || e.LastError != "" {
			t.Errorf("row %d of %s = %+v, want untouched", e.ID, e.Target, e)
		}
	}
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		return tx.RescheduleOutbox(ctx, "new", ids(cs), at(30), "HTTP 500", true)
	})
	counts, err = s.PendingOutbox(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{a: 2, b: 2}, counts); diff != "" {
		t.Errorf("PendingOutbox() after failing some (-want +got):\n%s", diff)
	}
}

// testOutboxConcurrentClaimsByTarget: claimers with overlapping target
// sets, at once (PostgreSQL: FOR UPDATE SKIP LOCKED in each statement),
// take every row of their targets exactly once and no other row.
func testOutboxConcurrentClaimsByTarget(t *testing.T, s *Store) {
	targets := []string{"http://a.example/hook", "http://b.example/hook", "http://c.example/hook"}
	const rows = 200
	write(t, s, func(ctx context.Context, tx chat.Tx) error {
		var evs []chat.OutboxEvent
		for _, target := range targets {
			evs = append(evs, outboxEvents(target, rows)...)
		}
		return tx.InsertOutbox(ctx, evs)
	})
	sets := [][]string{targets[:1], targets[:2], targets[1:], targets[:2], targets[1:], targets}
	claims := map[string]func() ([]chat.OutboxEvent, error){}
	setOf := map[string][]string{}
	for c, set := range sets {
		owner := fmt.Sprint("n", c)
		setOf[owner] = set
		claims[owner] = func() ([]chat.OutboxEvent, error) {
			return s.ClaimOutboxFor(context.Background(), owner, set, at(rows), time.Hour, 5)
		}
	}
	seen := claimConcurrently(t, claims)
	for id, c := range seen {
		if !slices.Contains(setOf[c.owner], c.target) {
			t.Errorf("%s, of %v, claimed row %d of %s", c.owner, setOf[c.owner], id, c.target)
		}
	}
	if len(seen) != rows*len(targets) {
		t.Errorf("%d rows claimed, want %d", len(seen), rows*len(targets))
	}
}

func testOutboxRollback(t *testing.T, s *Store) {
	err := s.Write(context.Background(), func(tx chat.Tx) error {
		if err := tx.InsertOutbox(context.Background(), outboxEvents("http://a.example/hook", 3)); err != nil {
			return err
		}
		return fmt.Errorf("the ack failed")
	})
	if err == nil {
		t.Fatal("Write() = nil, want the ack's error")
	}
	if got := claim(t, s, "n1", at(1_000), time.Minute, 10); len(got) != 0 {
		t.Fatalf("claim after a rolled-back insert = %v, want none", ids(got))
	}
	err = s.Write(context.Background(), func(tx chat.Tx) error {
		return tx.InsertOutbox(context.Background(), []chat.OutboxEvent{{Target: "http://a.example/hook", Kind: chat.WebhookRead, CreatedAt: at(0)}})
	})
	if err == nil {
		t.Error("InsertOutbox(no payload) = nil, want an error")
	}
}
