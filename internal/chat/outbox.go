package chat

import (
	"context"
	"encoding/json"
	"strconv"
	"time"
)

// WebhookKind is the kind of a webhook event.
type WebhookKind string

// The webhook events.
const (
	WebhookRead      WebhookKind = "read"      // a counted read
	WebhookThreshold WebhookKind = "threshold" // a message reached a threshold of its eligible readers
	WebhookRemind    WebhookKind = "remind"    // members were reminded
)

// WebhookEvent is the payload of an outbox row, as chat writes it. The
// webhook deliverer renders it in the target's format (the seen format
// sends it as it is). Ids are JSON strings: they are 64-bit, and
// JavaScript numbers lose precision above 2^53.
type WebhookEvent struct {
	Kind       WebhookKind `json:"kind"`
	Group      GroupID     `json:"group,string"`
	Msg        MsgID       `json:"msg,string"`
	Sender     string      `json:"sender"`
	SenderID   UserID      `json:"senderId,string"`
	Reader     string      `json:"reader,omitempty"` // read
	ReaderID   UserID      `json:"readerId,omitempty,string"`
	AckContent string      `json:"ackContent,omitempty"`
	Count      int         `json:"count"`               // readers after this event
	Eligible   int         `json:"eligible"`            // eligible readers at send
	Threshold  int         `json:"threshold,omitempty"` // percent, threshold
	// Remind: who reminded (a user's name and id, or ByAdmin: the
	// administrator, who is no user, and so not to be told from a user
	// named "admin" by name), and the members reminded (one event per at
	// most MaxRemindUsers of them).
	By      string   `json:"by,omitempty"`
	ByID    UserID   `json:"byId,omitempty,string"`
	ByAdmin bool     `json:"byAdmin,omitempty"`
	Users   []string `json:"users,omitempty"`
	At      int64    `json:"at"` // Unix ms
}

// OutboxEvent is one row of the webhook outbox: one event for one target.
type OutboxEvent struct {
	ID        int64
	Target    string // the target's URL, as configured
	Kind      WebhookKind
	Payload   json.RawMessage // a WebhookEvent
	CreatedAt time.Time
	Attempts  int
	NextAt    time.Time // due
	Failed    bool      // attempts exhausted; waits for an admin retry
	LastError string
}

// OutboxTx is the outbox's part of Tx. Rows are written by chat in the
// transaction of the ack or reminder they describe, and delivered by
// internal/webhook, which leases them so that no two nodes deliver the
// same row at once. A lease is a claim's owner and expiry; the methods
// that take an owner act only on rows that owner still holds, so a
// deliverer whose lease ran out and was taken over changes nothing.
type OutboxTx interface {
	// InsertOutbox stores events, due at NextAt (CreatedAt when zero); the
	// store assigns their IDs.
	InsertOutbox(ctx context.Context, evs []OutboxEvent) error
	// ClaimOutbox leases to owner, until now+lease, up to limit rows that
	// are due (NextAt <= now), not failed and not leased by a live lease,
	// oldest first, and returns them (NextAt is then the lease's end).
	ClaimOutbox(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]OutboxEvent, error)
	// DeleteOutbox removes delivered rows that owner holds.
	DeleteOutbox(ctx context.Context, owner string, ids []int64) error
	// RescheduleOutbox records a failed attempt of rows that owner holds:
	// Attempts+1, NextAt, LastError, Failed when attempts are exhausted;
	// the lease is released.
	RescheduleOutbox(ctx context.Context, owner string, ids []int64, next time.Time, lastErr string, failed bool) error
	// ReleaseOutbox gives back rows that owner holds and did not attempt
	// (a deliverer closing): due at now, Attempts unchanged.
	ReleaseOutbox(ctx context.Context, owner string, ids []int64, now time.Time) error
	// FailedOutbox lists failed rows by ID after afterID.
	FailedOutbox(ctx context.Context, afterID int64, limit int) ([]OutboxEvent, error)
	// RetryOutbox makes failed rows due again at now with zero attempts
	// (all failed rows when ids is empty); it returns how many.
	RetryOutbox(ctx context.Context, ids []int64, now time.Time) (int, error)
}

// MaxRetryIDs bounds the ids of one RetryDeliveries call.
const MaxRetryIDs = 1000

// FailedDeliveries lists webhook events whose delivery failed for good
// (their attempts ran out), oldest first, after the cursor (the last ID of
// the previous page, "" for the first); administrator only. limit is 1..1000,
// 0 for 100. The cursor returned is "" on the last page.
func (s *Service) FailedDeliveries(ctx context.Context, actor Actor, cursor string, limit int) ([]OutboxEvent, string, error) {
	if !actor.Admin {
		return nil, "", Errorf(CodePermissionDenied, "only the administrator may list failed webhook deliveries")
	}
	limit, err := pageSize(limit, 100, 1000)
	if err != nil {
		return nil, "", err
	}
	var after int64
	if cursor != "" {
		if after, err = strconv.ParseInt(cursor, 10, 64); err != nil || after < 0 {
			return nil, "", Errorf(CodeBadRequest, "malformed cursor %q", cursor)
		}
	}
	var evs []OutboxEvent
	err = s.read(ctx, "failed_deliveries", func(tx Tx) error {
		evs, err = tx.FailedOutbox(ctx, after, limit+1)
		return err
	})
	if err != nil {
		return nil, "", internal("list failed deliveries", err)
	}
	next := ""
	if len(evs) > limit {
		evs = evs[:limit]
		next = strconv.FormatInt(evs[limit-1].ID, 10)
	}
	return evs, next, nil
}

// RetryDeliveries makes failed webhook events due again, with a fresh
// budget of attempts: those of ids (at most MaxRetryIDs, each positive;
// ids that are not failed are ignored), or all of them when ids is empty.
// Administrator only. It returns how many were failed and are due again.
func (s *Service) RetryDeliveries(ctx context.Context, actor Actor, ids []int64) (int, error) {
	if !actor.Admin {
		return 0, Errorf(CodePermissionDenied, "only the administrator may retry webhook deliveries")
	}
	if len(ids) > MaxRetryIDs {
		return 0, Errorf(CodeBadRequest, "%d ids is over %d; retry in pages, or pass none to retry all", len(ids), MaxRetryIDs)
	}
	for _, id := range ids {
		if id <= 0 {
			return 0, Errorf(CodeBadRequest, "delivery id %d is not positive", id)
		}
	}
	var n int
	err := s.write(ctx, "retry_deliveries", func(tx Tx) error {
		var err error
		n, err = tx.RetryOutbox(ctx, ids, s.now())
		return err
	})
	return n, internal("retry deliveries", err)
}
