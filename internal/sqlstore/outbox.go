package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"seen/internal/chat"
)

// The webhook outbox (migrations/*/00004_outbox.sql). A claim moves a
// row's next_at to the end of the lease and names the owner, so that one
// condition, next_at <= now, selects rows that are due and not leased.
// A deliverer claims per target, only the targets it has (ClaimOutboxFor):
// each claim is one range of the partial index outbox_due (target,
// next_at, id), so rows of a target that no node has, which stay due for
// good, are never read by the claims of the others. Delete, reschedule
// and release act only on rows the caller still holds (lease_owner), which
// fences a deliverer whose lease was taken over after it expired.

const outboxCols = `id, target, kind, payload, created_at, attempts, next_at, failed, last_error`

var (
	sqlInsertOutbox = hot(`INSERT INTO outbox (target, kind, payload, created_at, attempts, next_at) VALUES (?, ?, ?, ?, 0, ?)`)
	// sqlClaimOutbox is completed by claimSQL: first the target's
	// condition (none: any target), then the lock. PostgreSQL locks the
	// rows it picks and skips those another claimer has locked, so
	// concurrent claims on several nodes never pick one row twice nor wait
	// for each other. SQLite has one writer at a time and needs no lock.
	sqlClaimOutbox = `UPDATE outbox SET lease_owner = ?, next_at = ?
WHERE id IN (SELECT id FROM outbox WHERE %sNOT failed AND next_at <= ? ORDER BY next_at, id LIMIT ?%s)
RETURNING ` + outboxCols
	sqlPendingOutbox = `SELECT target, COUNT(*) FROM outbox WHERE NOT failed GROUP BY target`
	sqlFailedOutbox  = `SELECT ` + outboxCols + ` FROM outbox WHERE failed AND id > ? ORDER BY id LIMIT ?`
	sqlRetryAll      = `UPDATE outbox SET failed = ?, attempts = 0, next_at = ?, lease_owner = '' WHERE failed`
)

// sqlClaimOutboxes are the claim statements by [postgres][one target].
var sqlClaimOutboxes = [2][2]string{
	{fmt.Sprintf(sqlClaimOutbox, "", ""), fmt.Sprintf(sqlClaimOutbox, "target = ? AND ", "")},
	{fmt.Sprintf(sqlClaimOutbox, "", " FOR UPDATE SKIP LOCKED"), fmt.Sprintf(sqlClaimOutbox, "target = ? AND ", " FOR UPDATE SKIP LOCKED")},
}

// claimSQL is the claim statement of t's engine, of one target or of any:
// the one place the outbox's SQL differs between the engines.
func (t *tx) claimSQL(oneTarget bool) string {
	_, pg := t.q.(pgQ)
	return sqlClaimOutboxes[b2i(pg)][b2i(oneTarget)]
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// maxOutboxIDs bounds the ids of one delete, reschedule, release or retry
// statement; longer lists are split.
const maxOutboxIDs = 1000

func scanOutbox(r rows, e *chat.OutboxEvent) error {
	var kind string
	err := r.Scan(&e.ID, &e.Target, &kind, jsonText{&e.Payload}, msTime{&e.CreatedAt}, &e.Attempts, msTime{&e.NextAt}, &e.Failed, &e.LastError)
	e.Kind = chat.WebhookKind(kind)
	return err
}

// InsertOutbox stores evs, due at their NextAt (CreatedAt when zero). On
// PostgreSQL the inserts go out in one round trip.
func (t *tx) InsertOutbox(ctx context.Context, evs []chat.OutboxEvent) error {
	if !t.write {
		return fmt.Errorf("insert outbox: %w", errNotWrite)
	}
	if len(evs) == 0 {
		return nil
	}
	args := make([][]any, len(evs))
	for i, e := range evs {
		if len(e.Payload) == 0 {
			return fmt.Errorf("insert outbox: event %d of %d has no payload", i, len(evs))
		}
		next := e.NextAt
		if next.IsZero() {
			next = e.CreatedAt
		}
		args[i] = []any{e.Target, string(e.Kind), string(e.Payload), toMS(e.CreatedAt), toMS(next)}
	}
	err := t.q.batch(ctx, sqlInsertOutbox, args, func(rows) error { return nil })
	return wrap(err, "insert outbox")
}

// ClaimOutbox leases to owner, until now+lease, up to limit due rows of
// any target, oldest due first. It reads every pending row: deliverers
// use ClaimOutboxFor, which claims only their targets' rows on the index.
func (t *tx) ClaimOutbox(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]chat.OutboxEvent, error) {
	evs, err := t.claim(ctx, owner, nil, now, lease, limit)
	if err != nil {
		return nil, err
	}
	sortByID(evs)
	return evs, nil
}

// ClaimOutboxFor leases to owner, until now+lease, up to limit due rows of
// each of targets, oldest due first, in one transaction, and returns them
// by id. Rows of other targets are left alone: a node claims only what it
// can deliver, so that the rows of a target it does not have (yet: a
// rolling deploy that adds one) wait for a node that has it.
func (s *Store) ClaimOutboxFor(ctx context.Context, owner string, targets []string, now time.Time, lease time.Duration, limit int) ([]chat.OutboxEvent, error) {
	targets = slices.Compact(slices.Sorted(slices.Values(targets)))
	var evs []chat.OutboxEvent
	err := s.eng.run(ctx, true, func(q querier) error {
		evs = nil // a retried transaction starts over
		t := &tx{q: q, write: true}
		for _, target := range targets {
			got, err := t.claim(ctx, owner, &target, now, lease, limit)
			if err != nil {
				return err
			}
			evs = append(evs, got...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sortByID(evs)
	return evs, nil
}

// claim runs one claim statement: of *target, or of any target when nil.
func (t *tx) claim(ctx context.Context, owner string, target *string, now time.Time, lease time.Duration, limit int) ([]chat.OutboxEvent, error) {
	if !t.write {
		return nil, fmt.Errorf("claim outbox: %w", errNotWrite)
	}
	if owner == "" || lease <= 0 || limit <= 0 {
		return nil, fmt.Errorf("claim outbox: owner %q, lease %v, limit %d: want an owner and positive lease and limit", owner, lease, limit)
	}
	args := []any{owner, now.Add(lease).UnixMilli()}
	if target != nil {
		args = append(args, *target)
	}
	args = append(args, now.UnixMilli(), int64(limit))
	evs, err := queryAll(ctx, t.q, nil, t.claimSQL(target != nil), args, scanOutbox)
	if err != nil {
		if target != nil {
			return nil, wrap(err, "claim outbox of %s", *target)
		}
		return nil, wrap(err, "claim outbox")
	}
	return evs, nil
}

// sortByID orders claimed rows: RETURNING follows no ORDER BY.
func sortByID(evs []chat.OutboxEvent) {
	slices.SortFunc(evs, func(a, b chat.OutboxEvent) int { return cmp.Compare(a.ID, b.ID) })
}

// PendingOutbox counts the rows that are not failed (due, leased or
// waiting for a retry) per target.
func (s *Store) PendingOutbox(ctx context.Context) (map[string]int, error) {
	type count struct {
		target string
		n      int
	}
	var cs []count
	err := s.eng.run(ctx, false, func(q querier) error {
		var err error
		cs, err = queryAll(ctx, q, nil, sqlPendingOutbox, nil, func(r rows, c *count) error { return r.Scan(&c.target, &c.n) })
		return err
	})
	if err != nil {
		return nil, wrap(err, "pending outbox")
	}
	out := make(map[string]int, len(cs))
	for _, c := range cs {
		out[c.target] = c.n
	}
	return out, nil
}

// updateIDs runs q, whose last placeholder is followed by "id IN (%s)",
// with args and then ids, in chunks of maxOutboxIDs, and returns the rows
// changed.
func (t *tx) updateIDs(ctx context.Context, q string, args []any, ids []int64) (int, error) {
	n := 0
	for chunk := range slices.Chunk(ids, maxOutboxIDs) {
		a := append(slices.Clip(args), make([]any, 0, len(chunk))...)
		for _, id := range chunk {
			a = append(a, id)
		}
		k, err := t.q.exec(ctx, fmt.Sprintf(q, inList(len(chunk))), a...)
		if err != nil {
			return n, err
		}
		n += int(k)
	}
	return n, nil
}

// DeleteOutbox removes the delivered rows that owner still holds.
func (t *tx) DeleteOutbox(ctx context.Context, owner string, ids []int64) error {
	if !t.write {
		return fmt.Errorf("delete outbox: %w", errNotWrite)
	}
	_, err := t.updateIDs(ctx, `DELETE FROM outbox WHERE lease_owner = ? AND id IN (%s)`, []any{owner}, ids)
	return wrap(err, "delete outbox")
}

// RescheduleOutbox records a failed attempt of the rows owner still holds
// and releases them.
func (t *tx) RescheduleOutbox(ctx context.Context, owner string, ids []int64, next time.Time, lastErr string, failed bool) error {
	if !t.write {
		return fmt.Errorf("reschedule outbox: %w", errNotWrite)
	}
	_, err := t.updateIDs(ctx, `UPDATE outbox SET attempts = attempts + 1, next_at = ?, last_error = ?, failed = ?, lease_owner = ''
WHERE lease_owner = ? AND id IN (%s)`, []any{toMS(next), lastErr, failed, owner}, ids)
	return wrap(err, "reschedule outbox")
}

// ReleaseOutbox gives back the rows owner still holds, due at now, without
// counting an attempt.
func (t *tx) ReleaseOutbox(ctx context.Context, owner string, ids []int64, now time.Time) error {
	if !t.write {
		return fmt.Errorf("release outbox: %w", errNotWrite)
	}
	_, err := t.updateIDs(ctx, `UPDATE outbox SET next_at = ?, lease_owner = '' WHERE lease_owner = ? AND id IN (%s)`,
		[]any{now.UnixMilli(), owner}, ids)
	return wrap(err, "release outbox")
}

// FailedOutbox lists failed rows by id after afterID.
func (t *tx) FailedOutbox(ctx context.Context, afterID int64, limit int) ([]chat.OutboxEvent, error) {
	evs, err := queryAll(ctx, t.q, nil, sqlFailedOutbox, []any{afterID, lim(limit)}, scanOutbox)
	return evs, wrap(err, "failed outbox")
}

// RetryOutbox makes failed rows due at now with no attempts; all of them
// when ids is empty.
func (t *tx) RetryOutbox(ctx context.Context, ids []int64, now time.Time) (int, error) {
	if !t.write {
		return 0, fmt.Errorf("retry outbox: %w", errNotWrite)
	}
	if len(ids) == 0 {
		n, err := t.q.exec(ctx, sqlRetryAll, false, now.UnixMilli())
		return int(n), wrap(err, "retry outbox")
	}
	n, err := t.updateIDs(ctx, `UPDATE outbox SET failed = ?, attempts = 0, next_at = ?, lease_owner = '' WHERE failed AND id IN (%s)`,
		[]any{false, now.UnixMilli()}, ids)
	return n, wrap(err, "retry outbox")
}
