package chat

import (
	"context"
	"time"
)

// ReadBucket is one bar of a message's read-time distribution: the reads
// that came more than the previous bucket's UpTo and at most UpTo after
// the message was sent (UpTo 0: the last bucket, everything later).
type ReadBucket struct {
	UpTo  time.Duration
	Count int
}

// ReadAnalytics is how fast a receipt-requesting message was read.
type ReadAnalytics struct {
	Msg      MsgID
	SentAt   time.Time
	Eligible int // eligible readers when it was sent (the thresholds' base)
	Count    int // readers
	Unread   int // eligible readers now who have not read it
	// To50, To90 and ToAll are the times from sending to 50%, 90% and all
	// of Eligible having read it; 0 with Reached false while not reached.
	To50, To90, ToAll                time.Duration
	Reached50, Reached90, ReachedAll bool
	Histogram                        []ReadBucket
}

// readBuckets are the upper bounds of the read-time distribution's
// buckets; a last bucket (UpTo 0) holds the reads after the last bound.
var readBuckets = []time.Duration{
	time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 4 * time.Hour,
	24 * time.Hour, 3 * 24 * time.Hour, 7 * 24 * time.Hour,
}

// ReadAnalytics returns the read-time figures of message id of group g,
// to whoever may see its receipts (maySeeReceipts; the group's Lists
// setting does not apply: these are counts). The histogram is counted in
// SQL, in constant memory whatever the number of readers.
func (s *Service) ReadAnalytics(ctx context.Context, actor Actor, g GroupID, id MsgID) (ReadAnalytics, error) {
	var a ReadAnalytics
	err := s.read(ctx, "read_analytics", func(tx Tx) error {
		m, _, err := s.receiptMessage(ctx, tx, actor, g, id)
		if err != nil {
			return err
		}
		cs, err := tx.ReceiptCounts(ctx, []MsgID{id})
		if err != nil {
			return err
		}
		if len(cs) != 1 {
			return Errorf(CodeMessageNotFound, "no receipts of message %s", id)
		}
		c := cs[0]
		if a.Unread, err = tx.UnreadTotal(ctx, g, id, m.Seq, m.From); err != nil {
			return err
		}
		counts, err := tx.ReadHistogram(ctx, id, m.SentAt, readBuckets)
		if err != nil {
			return err
		}
		a.Msg, a.SentAt, a.Eligible, a.Count = id, m.SentAt, c.Eligible, c.Count
		since := func(t time.Time) (time.Duration, bool) {
			if t.IsZero() {
				return 0, false
			}
			return max(t.Sub(m.SentAt), 0), true
		}
		a.To50, a.Reached50 = since(c.Reached50At)
		a.To90, a.Reached90 = since(c.Reached90At)
		a.ToAll, a.ReachedAll = since(c.ReachedAllAt)
		a.Histogram = make([]ReadBucket, len(counts))
		for i, n := range counts {
			a.Histogram[i].Count = n
			if i < len(readBuckets) {
				a.Histogram[i].UpTo = readBuckets[i]
			}
		}
		return nil
	})
	if err != nil {
		return ReadAnalytics{}, internal("read analytics", err)
	}
	return a, nil
}
