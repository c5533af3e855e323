package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"seen/internal/chat"
)

const (
	countCols = `rc.msg_id, rc.group_id, rc.sender_id, rc.count, rc.last_reader, rc.last_at, rc.last_content, rc.stat_seq,
rc.eligible, rc.reached_50_at, rc.reached_90_at, rc.reached_all_at, rc.reminds, rc.remind_at`
	readsHead = `INSERT INTO receipt_reads (msg_id, user_id, read_at, content) VALUES `
	readsTail = ` ON CONFLICT DO NOTHING RETURNING msg_id, user_id`
	readNCols = 4
	// unreadWhere and sqlUnreadMsgs pre-filter by the rule of who is an
	// eligible reader (chat's eligibleReader: joined before the message,
	// not its sender, and recordsReceipts: receipts on, and on without a
	// break since before the message, receipts_since < its seq); chat's
	// TestEligibleReaderSQL proves they agree with it on every case of
	// the rule table. memberFrom joins users u.
	unreadWhere = ` WHERE m.group_id = ? AND m.join_seq < ? AND m.user_id <> ? AND NOT u.receipts_off AND u.receipts_since < ?
AND NOT EXISTS (SELECT 1 FROM receipt_reads r WHERE r.msg_id = ? AND r.user_id = m.user_id)`
	// unreadCols adds a member's reminders of the message to memberCols.
	unreadCols = memberCols + `, COALESCE(rr.times, 0), COALESCE(rr.last_at, 0)`
	unreadFrom = memberFrom + ` LEFT JOIN receipt_reminders rr ON rr.msg_id = ? AND rr.user_id = m.user_id `
)

var (
	sqlInsertCount = hot(`INSERT INTO receipt_counts (msg_id, group_id, sender_id, count, last_reader, last_at, last_content, stat_seq, eligible)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	sqlInsertReads1 = hot(readsHead + placeholders(1, readNCols) + readsTail)
	// sqlAddCount is one PK update per message: its cost does not depend on
	// the group's size.
	sqlAddCount = hot(`UPDATE receipt_counts SET count = count + ?, last_reader = ?, last_at = ?, last_content = ?, stat_seq = ?
WHERE msg_id = ? RETURNING msg_id, group_id, sender_id, count, last_reader, last_at, last_content, stat_seq,
eligible, reached_50_at, reached_90_at, reached_all_at, reminds, remind_at`)
	// sqlSetReached sets the milestones not set yet; a 0 argument sets none.
	sqlSetReached = `UPDATE receipt_counts SET
reached_50_at = CASE WHEN reached_50_at = 0 THEN ? ELSE reached_50_at END,
reached_90_at = CASE WHEN reached_90_at = 0 THEN ? ELSE reached_90_at END,
reached_all_at = CASE WHEN reached_all_at = 0 THEN ? ELSE reached_all_at END
WHERE msg_id = ?`
	sqlAddRemind    = `UPDATE receipt_counts SET reminds = reminds + 1, remind_at = ? WHERE msg_id = ?`
	remindersInsert = `INSERT INTO receipt_reminders (msg_id, user_id, times, last_at) VALUES `
	remindersTail   = ` ON CONFLICT (msg_id, user_id) DO UPDATE SET times = receipt_reminders.times + 1, last_at = excluded.last_at`
	// The reader queries walk the index (msg_id, read_at, user_id) forwards
	// (oldest first) or backwards (newest first), from the start or from a
	// cursor position.
	readersHead = `SELECT r.msg_id, r.user_id, COALESCE(u.name, ''), r.read_at, r.content
FROM receipt_reads r LEFT JOIN users u ON u.id = r.user_id WHERE r.msg_id = ?`
	sqlReadersAsc       = readersHead + ` ORDER BY r.read_at, r.user_id LIMIT ?`
	sqlReadersAscAfter  = readersHead + ` AND (r.read_at, r.user_id) > (?, ?) ORDER BY r.read_at, r.user_id LIMIT ?`
	sqlReadersDesc      = readersHead + ` ORDER BY r.read_at DESC, r.user_id DESC LIMIT ?`
	sqlReadersDescAfter = readersHead + ` AND (r.read_at, r.user_id) < (?, ?) ORDER BY r.read_at DESC, r.user_id DESC LIMIT ?`
	sqlUnread           = `SELECT ` + unreadCols + unreadFrom + unreadWhere + ` AND m.user_id > ? ORDER BY m.user_id LIMIT ?`
	sqlUnreadAmong      = `SELECT ` + unreadCols + unreadFrom + unreadWhere + ` AND m.user_id IN (`
	sqlUnreadTotal      = `SELECT COUNT(*)` + memberFrom + unreadWhere
	sqlUnreadMsgs       = `SELECT ` + msgCols + ` FROM messages m
WHERE m.conv = ? AND m.seq > ? AND m.seq <= ? AND m.allow_ack AND m.sender_id <> ?
AND NOT EXISTS (SELECT 1 FROM receipt_reads r WHERE r.msg_id = m.id AND r.user_id = ?)
AND EXISTS (SELECT 1 FROM users u WHERE u.id = ? AND NOT u.receipts_off AND u.receipts_since < m.seq)
ORDER BY m.seq LIMIT ?`
	sqlStatsSince = `SELECT ` + countCols + `, COALESCE(u.name, '') FROM receipt_counts rc LEFT JOIN users u ON u.id = rc.last_reader
WHERE rc.sender_id = ? AND rc.stat_seq > ? ORDER BY rc.stat_seq LIMIT ?`
	sqlCountAckMsgs = `SELECT COUNT(*) FROM messages m WHERE m.sender_id = ? AND m.allow_ack AND m.sent_at >= ?`
)

func scanCount(r rows, c *chat.ReceiptCount) error {
	return r.Scan(countDest(c)...)
}

func countDest(c *chat.ReceiptCount, more ...any) []any {
	return append([]any{&c.Msg, &c.Group, &c.Sender, &c.Count, &c.LastReader, msTime{&c.LastAt}, &c.LastContent, &c.StatSeq,
		&c.Eligible, msTime{&c.Reached50At}, msTime{&c.Reached90At}, msTime{&c.ReachedAllAt}, &c.Reminds, msTime{&c.RemindAt}}, more...)
}

func scanUnread(r rows, m *chat.Member) error {
	var role string
	err := r.Scan(&m.Group, &m.User, &m.Name, &role, msTime{&m.JoinedAt}, &m.JoinSeq, &m.ReceiptsOff, &m.ReceiptsSince, &m.Reminded, msTime{&m.RemindedAt})
	m.Role = chat.Role(role)
	return err
}

// InsertReceiptCount creates the receipt state of a message.
func (t *tx) InsertReceiptCount(ctx context.Context, c chat.ReceiptCount) error {
	_, err := t.q.exec(ctx, sqlInsertCount, int64(c.Msg), int64(c.Group), int64(c.Sender), int64(c.Count),
		int64(c.LastReader), toMS(c.LastAt), c.LastContent, c.StatSeq, int64(c.Eligible))
	return wrap(err, "insert receipt count of message %d", c.Msg)
}

// InsertReads stores rs, skipping reads already stored, with multi-row
// INSERT ... ON CONFLICT DO NOTHING RETURNING: the rows returned are the
// new ones. A read repeated within rs is new at its first occurrence only.
func (t *tx) InsertReads(ctx context.Context, rs []chat.Read) ([]bool, error) {
	type key struct {
		m chat.MsgID
		u chat.UserID
	}
	fresh := make(map[key]bool, len(rs))
	// Insert in key order: two transactions inserting overlapping reads
	// then take the row locks in the same order and cannot deadlock.
	sorted := slices.Clone(rs)
	slices.SortStableFunc(sorted, func(a, b chat.Read) int {
		if c := cmpInt(a.Msg, b.Msg); c != 0 {
			return c
		}
		return cmpInt(a.User, b.User)
	})
	per := chunkRows(readNCols)
	for part := range slices.Chunk(sorted, per) {
		args := make([]any, 0, len(part)*readNCols)
		for _, r := range part {
			args = append(args, int64(r.Msg), int64(r.User), toMS(r.At), r.Content)
		}
		q := sqlInsertReads1
		if len(part) > 1 {
			q = readsHead + placeholders(len(part), readNCols) + readsTail
		}
		_, err := queryAll(ctx, t.q, nil, q, args, func(r rows, _ *struct{}) error {
			var k key
			if err := r.Scan(&k.m, &k.u); err != nil {
				return err
			}
			fresh[k] = true
			return nil
		})
		if err != nil {
			return nil, wrap(err, "insert %d reads", len(rs))
		}
	}
	out := make([]bool, len(rs))
	for i, r := range rs {
		k := key{r.Msg, r.User}
		out[i] = fresh[k]
		delete(fresh, k) // a repeat is not new
	}
	return out, nil
}

// AddReceiptCounts applies us, one primary-key UPDATE ... RETURNING per
// message in id order, pipelined on PostgreSQL. Updates of the same message are merged
// first (deltas summed, the last one's reader and StatSeq kept); the
// states returned are in order of each message's first update, for the
// messages that exist. LastName is not filled.
func (t *tx) AddReceiptCounts(ctx context.Context, us []chat.ReceiptUpdate) ([]chat.ReceiptCount, error) {
	idx := make(map[chat.MsgID]int, len(us))
	merged := make([]chat.ReceiptUpdate, 0, len(us))
	for _, u := range us {
		if i, ok := idx[u.Msg]; ok {
			u.Delta += merged[i].Delta
			merged[i] = u
			continue
		}
		idx[u.Msg] = len(merged)
		merged = append(merged, u)
	}
	// Update in id order, for the same reason as in InsertReads.
	byID := slices.Clone(merged)
	slices.SortFunc(byID, func(a, b chat.ReceiptUpdate) int { return cmpInt(a.Msg, b.Msg) })
	args := make([][]any, len(byID))
	for i, u := range byID {
		args[i] = []any{int64(u.Delta), int64(u.LastReader), toMS(u.LastAt), u.LastContent, u.StatSeq, int64(u.Msg)}
	}
	got := make([]*chat.ReceiptCount, len(merged))
	err := t.q.batch(ctx, sqlAddCount, args, func(r rows) error {
		var c chat.ReceiptCount
		if err := scanCount(r, &c); err != nil {
			return err
		}
		got[idx[c.Msg]] = &c
		return nil
	})
	if err != nil {
		return nil, wrap(err, "add receipt counts of %d messages", len(merged))
	}
	out := make([]chat.ReceiptCount, 0, len(got))
	for _, c := range got {
		if c != nil {
			out = append(out, *c)
		}
	}
	return out, nil
}

// ReceiptCounts returns the receipt states of ids that exist, in id order,
// with LastName filled.
func (t *tx) ReceiptCounts(ctx context.Context, ids []chat.MsgID) ([]chat.ReceiptCount, error) {
	var cs []chat.ReceiptCount
	for part := range slices.Chunk(ids, maxParams) {
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = int64(id)
		}
		var err error
		cs, err = queryAll(ctx, t.q, cs, `SELECT `+countCols+`, COALESCE(u.name, '') FROM receipt_counts rc
LEFT JOIN users u ON u.id = rc.last_reader WHERE rc.msg_id IN (`+inList(len(part))+`)`, args, scanCountName)
		if err != nil {
			return nil, wrap(err, "receipt counts")
		}
	}
	slices.SortFunc(cs, func(a, b chat.ReceiptCount) int { return cmpInt(a.Msg, b.Msg) })
	return cs, nil
}

func scanCountName(r rows, c *chat.ReceiptCount) error {
	return r.Scan(countDest(c, &c.LastName)...)
}

// Readers lists m's reads by (At, User), ascending or descending, after
// the given position in that order.
func (t *tx) Readers(ctx context.Context, m chat.MsgID, desc bool, after *chat.ReadPos, limit int) ([]chat.Read, error) {
	q, args := sqlReadersAsc, []any{int64(m)}
	switch {
	case desc && after != nil:
		q = sqlReadersDescAfter
	case desc:
		q = sqlReadersDesc
	case after != nil:
		q = sqlReadersAscAfter
	}
	if after != nil {
		args = append(args, toMS(after.At), int64(after.User))
	}
	rs, err := queryAll(ctx, t.q, nil, q, append(args, lim(limit)), func(r rows, v *chat.Read) error {
		return r.Scan(&v.Msg, &v.User, &v.Name, msTime{&v.At}, &v.Content)
	})
	if err != nil {
		return nil, wrap(err, "readers of message %d", m)
	}
	return rs, nil
}

// Unread lists g's members with JoinSeq < seq, other than except and
// with receipts on since before seq, who have not read m, by User after afterUser; and how many there are in all.
func (t *tx) Unread(ctx context.Context, g chat.GroupID, m chat.MsgID, seq int64, except chat.UserID, afterUser chat.UserID, limit int) ([]chat.Member, int, error) {
	ms, err := t.UnreadList(ctx, g, m, seq, except, afterUser, limit)
	if err != nil {
		return nil, 0, err
	}
	n, err := t.UnreadTotal(ctx, g, m, seq, except)
	if err != nil {
		return nil, 0, err
	}
	return ms, n, nil
}

// UnreadList is Unread without the total: one page through the index.
func (t *tx) UnreadList(ctx context.Context, g chat.GroupID, m chat.MsgID, seq int64, except chat.UserID, afterUser chat.UserID, limit int) ([]chat.Member, error) {
	args := []any{int64(m), int64(g), seq, int64(except), seq, int64(m), int64(afterUser), lim(limit)}
	ms, err := queryAll(ctx, t.q, nil, sqlUnread, args, scanUnread)
	if err != nil {
		return nil, wrap(err, "unread of message %d", m)
	}
	return ms, nil
}

// UnreadAmong is Unread restricted to users, ordered by User.
func (t *tx) UnreadAmong(ctx context.Context, g chat.GroupID, m chat.MsgID, seq int64, except chat.UserID, users []chat.UserID) ([]chat.Member, error) {
	var ms []chat.Member
	for part := range slices.Chunk(users, maxParams-6) {
		args := []any{int64(m), int64(g), seq, int64(except), seq, int64(m)}
		for _, u := range part {
			args = append(args, int64(u))
		}
		var err error
		ms, err = queryAll(ctx, t.q, ms, sqlUnreadAmong+inList(len(part))+`) ORDER BY m.user_id`, args, scanUnread)
		if err != nil {
			return nil, wrap(err, "unread of message %d among %d users", m, len(users))
		}
	}
	slices.SortFunc(ms, func(a, b chat.Member) int { return cmpInt(a.User, b.User) })
	return ms, nil
}

// SetReached sets the milestones of us not set yet, one primary-key
// UPDATE per message.
func (t *tx) SetReached(ctx context.Context, us []chat.ReachedUpdate) error {
	if len(us) == 0 {
		return nil
	}
	byID := slices.Clone(us)
	slices.SortFunc(byID, func(a, b chat.ReachedUpdate) int { return cmpInt(a.Msg, b.Msg) })
	args := make([][]any, len(byID))
	for i, u := range byID {
		args[i] = []any{toMS(u.At50), toMS(u.At90), toMS(u.AtAll), int64(u.Msg)}
	}
	return wrap(t.q.batch(ctx, sqlSetReached, args, nil), "set milestones of %d messages", len(us))
}

// MarkReminded counts a reminder of m, and one of each of users.
func (t *tx) MarkReminded(ctx context.Context, m chat.MsgID, users []chat.UserID, at time.Time) error {
	n, err := t.q.exec(ctx, sqlAddRemind, toMS(at), int64(m))
	if err == nil && n == 0 {
		err = chat.ErrNotFound
	}
	if err != nil {
		return wrap(err, "mark message %d reminded", m)
	}
	// Sorted (lock order, as in InsertReads) and without repeats: one
	// INSERT ... ON CONFLICT DO UPDATE may not touch a row twice.
	sorted := slices.Compact(slices.Sorted(slices.Values(users)))
	args := make([]any, 0, len(sorted)*4)
	for _, u := range sorted {
		args = append(args, int64(m), int64(u), int64(1), toMS(at))
	}
	return wrap(t.insertRows(ctx, remindersInsert, remindersTail, 4, args), "mark %d members reminded of message %d", len(users), m)
}

// ReadHistogram counts m's reads per bucket of delay after sentAt, in
// SQL: one row per non-empty bucket, whatever the number of reads.
func (t *tx) ReadHistogram(ctx context.Context, m chat.MsgID, sentAt time.Time, bounds []time.Duration) ([]int, error) {
	var b strings.Builder
	args := make([]any, 0, 2*len(bounds)+2)
	b.WriteString(`SELECT k, COUNT(*) FROM (SELECT CASE`)
	for i, d := range bounds {
		fmt.Fprintf(&b, ` WHEN r.read_at - ? <= ? THEN %d`, i)
		args = append(args, toMS(sentAt), d.Milliseconds())
	}
	fmt.Fprintf(&b, ` ELSE %d END AS k FROM receipt_reads r WHERE r.msg_id = ?) h GROUP BY k`, len(bounds))
	args = append(args, int64(m))
	out := make([]int, len(bounds)+1)
	type row struct{ k, n int64 }
	rs, err := queryAll(ctx, t.q, nil, b.String(), args, func(r rows, v *row) error { return r.Scan(&v.k, &v.n) })
	if err != nil {
		return nil, wrap(err, "read histogram of message %d", m)
	}
	for _, r := range rs {
		if r.k >= 0 && int(r.k) < len(out) {
			out[r.k] = int(r.n)
		}
	}
	return out, nil
}

// UnreadTotal counts g's members with JoinSeq < seq, other than except
// and with receipts on since before seq, who have not read m: one count over the group's members.
func (t *tx) UnreadTotal(ctx context.Context, g chat.GroupID, m chat.MsgID, seq int64, except chat.UserID) (int, error) {
	var n int64
	if err := queryOne(ctx, t.q, sqlUnreadTotal, []any{int64(g), seq, int64(except), seq, int64(m)}, &n); err != nil {
		return 0, wrap(err, "unread total of message %d", m)
	}
	return int(n), nil
}

// UnreadReceiptMsgs lists g's receipt-requesting messages with since <
// Seq <= upto that u neither sent nor read, oldest first; none while u
// has receipts off, and only those sent after u last turned them on.
func (t *tx) UnreadReceiptMsgs(ctx context.Context, g chat.GroupID, u chat.UserID, since, upto int64, limit int) ([]chat.Message, error) {
	ms, err := queryAll(ctx, t.q, nil, sqlUnreadMsgs, []any{chat.GroupConv(g), since, upto, int64(u), int64(u), int64(u), lim(limit)}, scanMessage)
	if err != nil {
		return nil, wrap(err, "unread receipt messages of user %d in group %d", u, g)
	}
	return ms, nil
}

// StatsSince lists the receipt states of u's messages with StatSeq >
// after, by StatSeq, with LastName filled.
func (t *tx) StatsSince(ctx context.Context, u chat.UserID, after int64, limit int) ([]chat.ReceiptCount, error) {
	cs, err := queryAll(ctx, t.q, nil, sqlStatsSince, []any{int64(u), after, lim(limit)}, scanCountName)
	if err != nil {
		return nil, wrap(err, "receipt stats of user %d", u)
	}
	return cs, nil
}

// CountReceiptMsgsSince counts u's receipt-requesting messages sent at or
// after at.
func (t *tx) CountReceiptMsgsSince(ctx context.Context, u chat.UserID, at time.Time) (int, error) {
	var n int64
	if err := queryOne(ctx, t.q, sqlCountAckMsgs, []any{int64(u), toMS(at)}, &n); err != nil {
		return 0, wrap(err, "count receipt messages of user %d", u)
	}
	return int(n), nil
}
