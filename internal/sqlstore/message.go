package sqlstore

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"seen/internal/chat"
)

// Receipts (read, delivery, channel) are rows of messages too, so that sync
// carries them in order, but they are not content. Every query that
// lists, counts or heads content says so with contentOnly; sync gives a
// receipt to its recipient only (the acknowledging user's devices know).
var contentOnly = `m.type NOT IN (` + receiptTypeList() + `)`

func receiptTypeList() string {
	var b strings.Builder
	for i, t := range chat.ReceiptTypes {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("'" + string(t) + "'")
	}
	return b.String()
}

const (
	msgCols = `m.id, m.seq, m.conv, m.local_id, m.type, m.chat_type, m.sender_id, m.recipient_id, m.group_id,
m.text, m.custom_event, m.custom_exts, m.ext, m.allow_ack, m.ack_msg_id, m.sent_at`
	msgInsert = `INSERT INTO messages (id, seq, conv, local_id, type, chat_type, sender_id, recipient_id, group_id,
text, custom_event, custom_exts, ext, allow_ack, ack_msg_id, sent_at) VALUES `
	msgNCols = 16

	convInsert = `INSERT INTO convs (user_id, conv, chat_type, peer_id, group_id, since_seq, read_seq) VALUES `
	convNCols  = 7
	convIgnore = ` ON CONFLICT (user_id, conv) DO NOTHING`
	headInsert = `INSERT INTO conv_heads (conv, last_seq, last_msg_id) VALUES `
	headNCols  = 3
	headUpdate = ` ON CONFLICT (conv) DO UPDATE SET last_seq = excluded.last_seq, last_msg_id = excluded.last_msg_id WHERE excluded.last_seq > conv_heads.last_seq`
)

var (
	convColumns = `c.conv, c.chat_type, c.peer_id, c.group_id, c.since_seq, c.read_seq, COALESCE(p.name, ''),
(SELECT COUNT(*) FROM messages m WHERE m.conv = c.conv AND m.sender_id <> c.user_id AND ` + contentOnly + `
 AND m.seq > CASE WHEN c.read_seq > c.since_seq THEN c.read_seq ELSE c.since_seq END)`
)

// The one-row forms of the multi-row inserts are what a single send runs:
// they are registered as hot statements, and insertRows, which builds the
// same text, finds them prepared.
func init() {
	hot(msgInsert + placeholders(1, msgNCols))
	hot(convInsert + placeholders(1, convNCols) + convIgnore)
	hot(convInsert + placeholders(2, convNCols) + convIgnore)
	hot(headInsert + placeholders(1, headNCols) + headUpdate)
}

var (
	sqlMessageByLocalID = hot(`SELECT ` + msgCols + ` FROM messages m WHERE m.sender_id = ? AND m.local_id = ?`)
	sqlSyncMessages     = hot(`SELECT ` + msgCols + ` FROM convs c JOIN messages m ON m.conv = c.conv AND m.seq > c.since_seq
WHERE c.user_id = ? AND m.seq > ? AND (` + contentOnly + ` OR m.recipient_id = c.user_id) ORDER BY m.seq LIMIT ?`)
	sqlHistoryOlder = `SELECT ` + msgCols + ` FROM messages m WHERE m.conv = ? AND m.seq < ? AND ` + contentOnly + ` ORDER BY m.seq DESC LIMIT ?`
	sqlHistoryNewer = `SELECT ` + msgCols + ` FROM messages m WHERE m.conv = ? AND m.seq > ? AND ` + contentOnly + ` ORDER BY m.seq LIMIT ?`
	sqlConvsFrom    = ` FROM convs c JOIN conv_heads h ON h.conv = c.conv JOIN messages m ON m.id = h.last_msg_id
LEFT JOIN users p ON p.id = c.peer_id
WHERE c.user_id = ? AND h.last_seq > c.since_seq AND h.last_seq < ? ORDER BY h.last_seq DESC LIMIT ?`
	sqlConversations = `SELECT ` + convColumns + `, ` + msgCols + sqlConvsFrom
	sqlConversation  = hot(`SELECT ` + convColumns + `, COALESCE(h.last_seq, 0), COALESCE(h.last_msg_id, 0)
FROM convs c LEFT JOIN conv_heads h ON h.conv = c.conv LEFT JOIN users p ON p.id = c.peer_id
WHERE c.user_id = ? AND c.conv = ?`)
	sqlMessageByID = hot(`SELECT ` + msgCols + ` FROM messages m WHERE m.id = ?`)
	sqlSetReadSeq  = hot(`UPDATE convs SET read_seq = CASE WHEN read_seq < ? THEN ? ELSE read_seq END WHERE user_id = ? AND conv = ?`)
)

func scanMessage(r rows, m *chat.Message) error {
	var typ, chatType string
	err := r.Scan(&m.ID, &m.Seq, &m.Conv, nullText{&m.LocalID}, &typ, &chatType, &m.From, &m.To, &m.Group,
		&m.Text, &m.CustomEvent, jsonText{&m.CustomExts}, jsonText{&m.Ext}, &m.AllowGroupAck, &m.AckMsg, msTime{&m.SentAt})
	m.Type, m.ChatType = chat.MsgType(typ), chat.ChatType(chatType)
	return err
}

func messageArgs(args []any, m *chat.Message) []any {
	return append(args, int64(m.ID), m.Seq, m.Conv, nullArg(m.LocalID), string(m.Type), string(m.ChatType),
		int64(m.From), int64(m.To), int64(m.Group), m.Text, m.CustomEvent, jsonArg(m.CustomExts), jsonArg(m.Ext),
		m.AllowGroupAck, int64(m.AckMsg), toMS(m.SentAt))
}

// insertRows runs the multi-row INSERT head+VALUES+tail over rows of n
// columns each, in chunks.
func (t *tx) insertRows(ctx context.Context, head, tail string, cols int, args []any) error {
	per := chunkRows(cols)
	for part := range slices.Chunk(args, per*cols) {
		if _, err := t.q.exec(ctx, head+placeholders(len(part)/cols, cols)+tail, part...); err != nil {
			return err
		}
	}
	return nil
}

// InsertMessages stores ms, creates missing single-chat conversation rows
// and moves each conversation's head to its newest message; receipts
// never become a head.
func (t *tx) InsertMessages(ctx context.Context, ms []*chat.Message) error {
	if len(ms) == 0 {
		return nil
	}
	args := make([]any, 0, len(ms)*msgNCols)
	for _, m := range ms {
		args = messageArgs(args, m)
	}
	if err := t.insertRows(ctx, msgInsert, "", msgNCols, args); err != nil {
		return wrap(err, "insert %d messages", len(ms))
	}

	type convKey struct {
		u    chat.UserID
		conv string
	}
	seen := map[convKey]bool{}
	heads := map[string]*chat.Message{}
	var convArgs []any
	var order []string
	for _, m := range ms {
		if m.Type.IsReceipt() {
			// The conversation rows exist: a receipt answers a message of
			// the conversation.
			continue
		}
		if h, ok := heads[m.Conv]; !ok || m.Seq > h.Seq {
			if !ok {
				order = append(order, m.Conv)
			}
			heads[m.Conv] = m
		}
		if m.ChatType != chat.SingleChat {
			continue
		}
		for _, side := range [][2]chat.UserID{{m.From, m.To}, {m.To, m.From}} {
			k := convKey{side[0], m.Conv}
			if seen[k] {
				continue
			}
			seen[k] = true
			convArgs = append(convArgs, int64(side[0]), m.Conv, string(chat.SingleChat), int64(side[1]), int64(0), int64(0), int64(0))
		}
	}
	if err := t.insertRows(ctx, convInsert, convIgnore, convNCols, convArgs); err != nil {
		return wrap(err, "insert conversations")
	}
	headArgs := make([]any, 0, len(order)*headNCols)
	for _, c := range order {
		headArgs = append(headArgs, c, heads[c].Seq, int64(heads[c].ID))
	}
	if err := t.insertRows(ctx, headInsert, headUpdate, headNCols, headArgs); err != nil {
		return wrap(err, "update conversation heads")
	}
	return nil
}

// MessageByLocalID finds the message sender from sent with client id localID.
func (t *tx) MessageByLocalID(ctx context.Context, from chat.UserID, localID string) (chat.Message, error) {
	if localID == "" {
		return chat.Message{}, fmt.Errorf("message of user %d with local id %q: %w", from, localID, chat.ErrNotFound)
	}
	ms, err := queryAll(ctx, t.q, nil, sqlMessageByLocalID, []any{int64(from), localID}, scanMessage)
	if err == nil && len(ms) == 0 {
		err = chat.ErrNotFound
	}
	if err != nil {
		return chat.Message{}, wrap(err, "message of user %d with local id %q", from, localID)
	}
	return ms[0], nil
}

// MessagesByID returns the messages of ids that exist, ordered by Seq.
func (t *tx) MessagesByID(ctx context.Context, ids []chat.MsgID) ([]chat.Message, error) {
	var ms []chat.Message
	for part := range slices.Chunk(ids, maxParams) {
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = int64(id)
		}
		var err error
		ms, err = queryAll(ctx, t.q, ms, `SELECT `+msgCols+` FROM messages m WHERE m.id IN (`+inList(len(part))+`)`, args, scanMessage)
		if err != nil {
			return nil, wrap(err, "messages by id")
		}
	}
	slices.SortFunc(ms, func(a, b chat.Message) int { return cmpInt(a.Seq, b.Seq) })
	return ms, nil
}

// SyncMessages returns, by Seq, u's messages with Seq > after.
func (t *tx) SyncMessages(ctx context.Context, u chat.UserID, after int64, limit int) ([]chat.Message, error) {
	ms, err := queryAll(ctx, t.q, nil, sqlSyncMessages, []any{int64(u), after, lim(limit)}, scanMessage)
	if err != nil {
		return nil, wrap(err, "sync messages of user %d", u)
	}
	return ms, nil
}

// History returns messages of conv before pivot, newest first, when older
// is true (pivot <= 0: from the newest); else after pivot, oldest first.
func (t *tx) History(ctx context.Context, conv string, pivot int64, older bool, limit int) ([]chat.Message, error) {
	q := sqlHistoryNewer
	if older {
		q = sqlHistoryOlder
		if pivot <= 0 {
			pivot = math.MaxInt64
		}
	}
	ms, err := queryAll(ctx, t.q, nil, q, []any{conv, pivot, lim(limit)}, scanMessage)
	if err != nil {
		return nil, wrap(err, "history of %s", conv)
	}
	return ms, nil
}

// Conversations lists u's conversations that have a message u can see,
// newest first, with LastSeq < beforeSeq (0: no bound).
func (t *tx) Conversations(ctx context.Context, u chat.UserID, beforeSeq int64, limit int) ([]chat.Conversation, error) {
	if beforeSeq <= 0 {
		beforeSeq = math.MaxInt64
	}
	cs, err := queryAll(ctx, t.q, nil, sqlConversations, []any{int64(u), beforeSeq, lim(limit)}, func(r rows, c *chat.Conversation) error {
		var m chat.Message
		var typ, mtype, mchat string
		var since int64
		err := r.Scan(&c.Conv, &typ, &c.Peer, &c.Group, &since, &c.ReadSeq, &c.PeerName, &c.Unread,
			&m.ID, &m.Seq, &m.Conv, nullText{&m.LocalID}, &mtype, &mchat, &m.From, &m.To, &m.Group,
			&m.Text, &m.CustomEvent, jsonText{&m.CustomExts}, jsonText{&m.Ext}, &m.AllowGroupAck, &m.AckMsg, msTime{&m.SentAt})
		c.ChatType = chat.ChatType(typ)
		m.Type, m.ChatType = chat.MsgType(mtype), chat.ChatType(mchat)
		c.Last, c.LastSeq = &m, m.Seq
		return err
	})
	if err != nil {
		return nil, wrap(err, "conversations of user %d", u)
	}
	return cs, nil
}

// Conversation returns u's row of conv, with Last and LastSeq set when
// conv has a message u can see.
func (t *tx) Conversation(ctx context.Context, u chat.UserID, conv string) (chat.Conversation, error) {
	var c chat.Conversation
	var typ string
	var since, lastSeq, lastID int64
	err := queryOne(ctx, t.q, sqlConversation, []any{int64(u), conv},
		&c.Conv, &typ, &c.Peer, &c.Group, &since, &c.ReadSeq, &c.PeerName, &c.Unread, &lastSeq, &lastID)
	if err == nil && lastSeq > since {
		var ms []chat.Message
		ms, err = queryAll(ctx, t.q, nil, sqlMessageByID, []any{lastID}, scanMessage)
		if len(ms) == 1 {
			c.Last, c.LastSeq = &ms[0], lastSeq
		}
	}
	if err != nil {
		return chat.Conversation{}, wrap(err, "conversation %s of user %d", conv, u)
	}
	c.ChatType = chat.ChatType(typ)
	return c, nil
}

// SetReadSeq raises u's read position in conv to seq.
func (t *tx) SetReadSeq(ctx context.Context, u chat.UserID, conv string, seq int64) error {
	n, err := t.q.exec(ctx, sqlSetReadSeq, seq, seq, int64(u), conv)
	if err == nil && n == 0 {
		err = chat.ErrNotFound
	}
	return wrap(err, "set read seq of %s for user %d", conv, u)
}
