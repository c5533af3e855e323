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
// condition, next_at <= now, selects rows that are due and not leased, on
// the partial index outbox_due. Delete, reschedule and release act only on
// rows the caller still holds (lease_owner), which fences a deliverer
// whose lease was taken over after it expired.

const outboxCols = `id, target, kind, payload, created_at, attempts, next_at, failed, last_error`

var (
	sqlInsertOutbox = hot(`INSERT INTO outbox (target, kind, payload, created_at, attempts, next_at) VALUES (?, ?, ?, ?, 0, ?)`)
	// sqlClaimOutbox is completed by claimSQL: PostgreSQL locks the rows
	// it picks and skips those another claimer has locked, so concurrent
	// claims on several nodes never pick one row twice nor wait for each
	// other. SQLite has one writer at a time and needs no lock.
	sqlClaimOutbox = `UPDATE outbox SET lease_owner = ?, next_at = ?
WHERE id IN (SELECT id FROM outbox WHERE NOT failed AND next_at <= ? ORDER BY next_at, id LIMIT ?%s)
RETURNING ` + outboxCols
	sqlFailedOutbox = `SELECT ` + outboxCols + ` FROM outbox WHERE failed AND id > ? ORDER BY id LIMIT ?`
	sqlRetryAll     = `UPDATE outbox SET failed = ?, attempts = 0, next_at = ?, lease_owner = '' WHERE failed`
)

var (
	sqlClaimOutboxSQLite   = fmt.Sprintf(sqlClaimOutbox, "")
	sqlClaimOutboxPostgres = fmt.Sprintf(sqlClaimOutbox, " FOR UPDATE SKIP LOCKED")
)

// claimSQL is the claim statement of t's engine: the one place the
// outbox's SQL differs between them.
func (t *tx) claimSQL() string {
	if _, pg := t.q.(pgQ); pg {
		return sqlClaimOutboxPostgres
	}
	return sqlClaimOutboxSQLite
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

// ClaimOutbox leases to owner, until now+lease, up to limit due rows,
// oldest due first.
func (t *tx) ClaimOutbox(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]chat.OutboxEvent, error) {
	if !t.write {
		return nil, fmt.Errorf("claim outbox: %w", errNotWrite)
	}
	if owner == "" || lease <= 0 || limit <= 0 {
		return nil, fmt.Errorf("claim outbox: owner %q, lease %v, limit %d: want an owner and positive lease and limit", owner, lease, limit)
	}
	evs, err := queryAll(ctx, t.q, nil, t.claimSQL(), []any{owner, now.Add(lease).UnixMilli(), now.UnixMilli(), int64(limit)}, scanOutbox)
	if err != nil {
		return nil, wrap(err, "claim outbox")
	}
	// RETURNING follows no ORDER BY.
	slices.SortFunc(evs, func(a, b chat.OutboxEvent) int { return cmp.Compare(a.ID, b.ID) })
	return evs, nil
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
