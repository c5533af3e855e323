// Package protocol holds seen's WebSocket wire types: the three frame
// shapes (request, reply, push), one struct per request data, reply data
// and push data, the op and push names, and the protocol version. It is
// the Go half of docs/protocol.md; the golden frames in testdata/ are
// replayed by both the Go tests and the Web SDK tests so that the docs,
// the server and the clients cannot drift.
//
// It imports nothing internal: the server (internal/ws) and the public Go
// client (seen/client) both depend on it.
package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Version is the protocol version, sent by the client in auth and echoed
// by the server. See the version log in docs/protocol.md.
//
// Version log:
//   - 1: first version.
//   - 1 (additive): single-chat receipts are stored: sync carries them as
//     messages of type read, delivery and channel (with mid), and the
//     read, delivery and channel pushes carry the stored receipt's id and
//     seq.
//   - 1 (additive): history messages the reader sent in a single chat
//     carry isRead and isDelivered (omitted when false).
//   - 1 (additive): reminders (receipt.remind, the receipt.reminder push
//     and sync items of type remind), receipt.analytics, group receipt
//     policy (group.policy, group.setPolicy, receiptPolicy in groups),
//     user.settings and user.setSettings, reminders in receipt.unread,
//     eligible and readByAll in receipt pushes and receipt.stats entries,
//     eligible in receipt.counts.
//   - 1 (before release of the above): its frames name the group groupId,
//     as every other frame, not group.
const Version = 1

// Ops: the op of a request.
const (
	OpAuth             = "auth"
	OpPing             = "ping"
	OpMsgSend          = "msg.send"
	OpSync             = "sync"
	OpHistory          = "history"
	OpConvList         = "conv.list"
	OpConvAck          = "conv.ack"
	OpReceiptAck       = "receipt.ack"
	OpReceiptRead      = "receipt.read"
	OpReceiptDelivered = "receipt.delivered"
	OpReceiptReaders   = "receipt.readers"
	OpReceiptUnread    = "receipt.unread"
	OpReceiptCounts    = "receipt.counts"
	OpReceiptStats     = "receipt.stats"
	OpGroupCreate      = "group.create"
	OpGroupInfo        = "group.info"
	OpGroupAdd         = "group.add"
	OpGroupRemove      = "group.remove"
	OpGroupSetAdmin    = "group.setAdmin"
	OpGroupRemoveAdmin = "group.removeAdmin"
	OpGroupTransfer    = "group.transfer"
	OpGroupLeave       = "group.leave"
	OpGroupDestroy     = "group.destroy"
	OpGroupMembers     = "group.members"
	OpGroupAdmins      = "group.admins"
	OpGroupMine        = "group.mine"
	OpReceiptRemind    = "receipt.remind"
	OpReceiptAnalytics = "receipt.analytics"
	OpGroupPolicy      = "group.policy"
	OpGroupSetPolicy   = "group.setPolicy"
	OpUserSettings     = "user.settings"
	OpUserSetSettings  = "user.setSettings"
)

// Ops lists every op, in the order of docs/protocol.md.
var Ops = []string{
	OpAuth, OpPing, OpMsgSend, OpSync, OpHistory, OpConvList, OpConvAck,
	OpReceiptAck, OpReceiptRead, OpReceiptDelivered, OpReceiptReaders, OpReceiptUnread,
	OpReceiptCounts, OpReceiptStats, OpReceiptRemind, OpReceiptAnalytics,
	OpGroupCreate, OpGroupInfo, OpGroupAdd, OpGroupRemove, OpGroupSetAdmin, OpGroupRemoveAdmin,
	OpGroupTransfer, OpGroupLeave, OpGroupDestroy, OpGroupMembers, OpGroupAdmins, OpGroupMine,
	OpGroupPolicy, OpGroupSetPolicy, OpUserSettings, OpUserSetSettings,
}

// Pushes lists every push name.
var Pushes = []string{PushMsg, PushReceipt, PushRead, PushDelivery, PushChannel, PushConvRead, PushGroup, PushResync, PushReminder}

// Pushes: the push name of a push frame.
const (
	PushMsg      = "msg"              // Message
	PushReceipt  = "receipt"          // Receipt
	PushRead     = "read"             // PeerReceipt
	PushDelivery = "delivery"         // PeerReceipt
	PushChannel  = "channel"          // Channel
	PushConvRead = "conv.read"        // ConvRead
	PushGroup    = "group"            // GroupEvent
	PushResync   = "resync"           // Resync
	PushReminder = "receipt.reminder" // Reminder
)

// Close codes of the WebSocket connection (docs/protocol.md, "Close codes").
const (
	CloseNormal       = 1000 // normal close
	CloseGoingAway    = 1001 // server shutting down: reconnect with backoff
	CloseProtocol     = 4000 // protocol violation: fix the client
	CloseAuth         = 4001 // authentication failed, missing or timed out
	CloseTokenRevoked = 4002 // the token was revoked or expired while connected
	CloseFlooding     = 4008 // far over the rate limit
	CloseSlowConsumer = 4009 // the send queue overflowed: reconnect, then sync
)

// MaxRequestID is the longest request id, in bytes.
const MaxRequestID = 64

// Request is a client -> server frame. ID is chosen by the client (1-64
// bytes) and echoed in the one reply.
type Request struct {
	ID   string          `json:"id"`
	Op   string          `json:"op"`
	Data json.RawMessage `json:"data,omitempty"`
}

// Reply is the server's answer to one request: OK with Data, or not OK
// with Error.
type Reply struct {
	ID    string          `json:"id"`
	OK    bool            `json:"ok"`
	Data  json.RawMessage `json:"data,omitempty"`
	Error *Error          `json:"error,omitempty"`
}

// Push is a server -> client frame that answers no request. It never has
// an id.
type Push struct {
	Push string          `json:"push"`
	Data json.RawMessage `json:"data"`
}

// Error is an error on the wire. Code is the number and Name the stable
// name of internal/chat's error table; Message is safe to show a user.
type Error struct {
	Code    int    `json:"code"`
	Name    string `json:"name"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return fmt.Sprintf("%s (%d): %s", e.Name, e.Code, e.Message) }

// serverFrame is what a client reads: a Reply when id is present, else a
// Push.
type serverFrame struct {
	ID    *string         `json:"id"`
	OK    bool            `json:"ok"`
	Data  json.RawMessage `json:"data"`
	Error *Error          `json:"error"`
	Push  string          `json:"push"`
}

// DecodeServerFrame decodes a server -> client frame into exactly one of
// a reply or a push. It is lenient about unknown fields, so that a newer
// server can add fields without breaking older clients.
func DecodeServerFrame(b []byte) (*Reply, *Push, error) {
	var f serverFrame
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, nil, fmt.Errorf("decode server frame: %w", err)
	}
	switch {
	case f.ID != nil:
		return &Reply{ID: *f.ID, OK: f.OK, Data: f.Data, Error: f.Error}, nil, nil
	case f.Push != "":
		return nil, &Push{Push: f.Push, Data: f.Data}, nil
	}
	return nil, nil, errors.New("decode server frame: neither a reply nor a push")
}

// Decode decodes JSON strictly into v: unknown fields, trailing data and
// wrong types are errors. Empty data and null decode as {}, so requests
// without data are the same as requests with empty data.
func Decode(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 || string(bytes.TrimSpace(data)) == "null" {
		data = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after JSON value")
	}
	return nil
}

// Empty is the data of requests and replies that carry nothing: {}.
type Empty struct{}

// Auth is the data of the auth request, the first frame of a connection.
type Auth struct {
	Token   string `json:"token"`
	Device  string `json:"device"`
	Version int    `json:"version"`
}

// AuthReply is the data of the auth reply.
type AuthReply struct {
	User        string `json:"user"`
	Device      string `json:"device"`
	ServerTime  int64  `json:"serverTime"`
	Version     int    `json:"version"`
	HeartbeatMs int64  `json:"heartbeatMs"`
}

// Ping is the data of the ping request ({} or absent).
type Ping struct{}

// Pong is the data of the ping reply.
type Pong struct {
	ServerTime int64 `json:"serverTime"`
}

// MsgConfig is a message's options.
type MsgConfig struct {
	AllowGroupAck bool `json:"allowGroupAck"`
}

// Message is a stored message, in pushes, sync, history and the
// conversation list. In sync it is also a single-chat receipt to the
// reader: Type "read", "delivery" or "channel", From the acknowledging
// peer, Mid the message acknowledged (read and delivery).
type Message struct {
	ID          string          `json:"id"`
	LocalID     string          `json:"localId"`
	Seq         int64           `json:"seq"`
	Type        string          `json:"type"`
	ChatType    string          `json:"chatType"`
	From        string          `json:"from"`
	To          string          `json:"to"`
	Msg         string          `json:"msg,omitempty"`
	CustomEvent string          `json:"customEvent,omitempty"`
	CustomExts  json.RawMessage `json:"customExts,omitempty"`
	Ext         json.RawMessage `json:"ext,omitempty"`
	MsgConfig   *MsgConfig      `json:"msgConfig,omitempty"`
	Time        int64           `json:"time"`
	// ReadCount is set only on receipt-requesting messages the reader sent
	// itself, in sync, history and the conversation list.
	ReadCount *int `json:"readCount,omitempty"`
	// IsRead and IsDelivered are set (true) only on single-chat messages
	// the reader sent itself, in history: the peer has read it (a read
	// receipt or a conversation ack covering it) / it reached the peer (a
	// delivery receipt, or read). Omitted when false.
	IsRead      bool `json:"isRead,omitempty"`
	IsDelivered bool `json:"isDelivered,omitempty"`
	// Mid is, on a read or delivery receipt, the id of the message
	// acknowledged.
	Mid string `json:"mid,omitempty"`
	// Group, MsgID and At are set only on a reminder (Type "remind", To
	// the reminded member, From who reminded): the group, the message
	// reminded of and when (the fields of the Reminder push).
	Group string `json:"groupId,omitempty"`
	MsgID string `json:"msgId,omitempty"`
	At    int64  `json:"at,omitempty"`
}

// Send is the data of msg.send.
type Send struct {
	LocalID     string          `json:"localId"`
	Type        string          `json:"type"`
	ChatType    string          `json:"chatType"`
	To          string          `json:"to"`
	Msg         string          `json:"msg,omitempty"`
	CustomEvent string          `json:"customEvent,omitempty"`
	CustomExts  json.RawMessage `json:"customExts,omitempty"`
	Ext         json.RawMessage `json:"ext,omitempty"`
	MsgConfig   *MsgConfig      `json:"msgConfig,omitempty"`
}

// SendReply is the data of the msg.send reply, sent after commit.
type SendReply struct {
	LocalID string `json:"localId"`
	ID      string `json:"id"`
	Time    int64  `json:"time"`
	Seq     int64  `json:"seq"`
}

// Sync is the data of sync: confirm Ack, return what follows.
type Sync struct {
	Ack   int64 `json:"ack"`
	Limit int   `json:"limit,omitempty"`
}

// SyncReply is the data of the sync reply.
type SyncReply struct {
	Messages []Message `json:"messages"`
	Next     int64     `json:"next"`
	More     bool      `json:"more"`
}

// History is the data of history.
type History struct {
	ChatType  string `json:"chatType"`
	To        string `json:"to"`
	Cursor    string `json:"cursor,omitempty"`
	Limit     int    `json:"limit,omitempty"`
	Direction string `json:"direction,omitempty"` // "older" (default) or "newer"
}

// HistoryReply is the data of the history reply.
type HistoryReply struct {
	Messages []Message `json:"messages"`
	Cursor   string    `json:"cursor"`
	IsLast   bool      `json:"isLast"`
}

// ConvList is the data of conv.list.
type ConvList struct {
	Cursor string `json:"cursor,omitempty"`
	Limit  int    `json:"limit,omitempty"`
}

// Conversation is a row of the conversation list.
type Conversation struct {
	ChatType    string   `json:"chatType"`
	To          string   `json:"to"`
	LastMessage *Message `json:"lastMessage,omitempty"`
	Unread      int      `json:"unread"`
}

// ConvListReply is the data of the conv.list reply.
type ConvListReply struct {
	Conversations []Conversation `json:"conversations"`
	Cursor        string         `json:"cursor"`
}

// ConvAck is the data of conv.ack.
type ConvAck struct {
	ChatType string `json:"chatType"`
	To       string `json:"to"`
}

// ConvAckReply is the data of the conv.ack reply.
type ConvAckReply struct {
	ReceiptsCounted int `json:"receiptsCounted"`
}

// AckItem is one message of receipt.ack.
type AckItem struct {
	MsgID      string `json:"msgId"`
	AckContent string `json:"ackContent,omitempty"`
}

// ReceiptAck is the data of receipt.ack.
type ReceiptAck struct {
	GroupID string    `json:"groupId"`
	Items   []AckItem `json:"items"`
}

// AckResult is the outcome of one AckItem.
type AckResult struct {
	MsgID   string `json:"msgId"`
	OK      bool   `json:"ok"`
	Counted bool   `json:"counted"`
	Count   int    `json:"count,omitempty"`
	Error   *Error `json:"error,omitempty"`
}

// ReceiptAckReply is the data of the receipt.ack reply: one result per
// item, in order.
type ReceiptAckReply struct {
	Results []AckResult `json:"results"`
}

// PeerAck is the data of receipt.read and receipt.delivered.
type PeerAck struct {
	To    string `json:"to"`
	MsgID string `json:"msgId"`
}

// ReceiptPage is the data of receipt.unread.
type ReceiptPage struct {
	GroupID string `json:"groupId"`
	MsgID   string `json:"msgId"`
	Cursor  string `json:"cursor,omitempty"`
	Limit   int    `json:"limit,omitempty"`
}

// Readers is the data of receipt.readers.
type Readers struct {
	GroupID string `json:"groupId"`
	MsgID   string `json:"msgId"`
	Cursor  string `json:"cursor,omitempty"`
	Limit   int    `json:"limit,omitempty"`
	// Order is "asc" (oldest read first, the default) or "desc" (newest
	// read first); the cursor continues in the order of the request.
	Order string `json:"order,omitempty"`
}

// Reader is one reader of a message.
type Reader struct {
	Username   string `json:"username"`
	Time       int64  `json:"time"`
	AckContent string `json:"ackContent"`
}

// ReadersReply is the data of the receipt.readers reply.
type ReadersReply struct {
	Total  int      `json:"total"`
	Users  []Reader `json:"users"`
	Cursor string   `json:"cursor"`
	IsLast bool     `json:"isLast"`
}

// UnreadReply is the data of the receipt.unread reply. Reminders holds,
// of the members of Users, those reminded of the message at least once
// (absent: never reminded).
type UnreadReply struct {
	Total     int                 `json:"total"`
	Users     []string            `json:"users"`
	Reminders map[string]Reminded `json:"reminders,omitempty"`
	Cursor    string              `json:"cursor"`
	IsLast    bool                `json:"isLast"`
}

// Reminded is how often and when last a member was reminded of a
// message.
type Reminded struct {
	Reminded   int   `json:"reminded"`
	RemindedAt int64 `json:"remindedAt"`
}

// ReceiptCounts is the data of receipt.counts.
type ReceiptCounts struct {
	GroupID string   `json:"groupId"`
	MsgIDs  []string `json:"msgIds"`
	// WithUnread asks for Unread in the reply too.
	WithUnread bool `json:"withUnread,omitempty"`
}

// ReceiptCountsReply is the data of the receipt.counts reply: message id
// -> reader count, and with withUnread message id -> how many eligible
// readers have not read it (the receipt.unread total). Eligible is
// message id -> eligible readers when it was sent (0: none,
// or sent before servers kept it): count >= a non-zero eligible is "read
// by all".
type ReceiptCountsReply struct {
	Counts   map[string]int `json:"counts"`
	Unread   map[string]int `json:"unread,omitempty"`
	Eligible map[string]int `json:"eligible,omitempty"`
}

// Stats is the data of receipt.stats: confirm Ack, return what follows.
type Stats struct {
	Ack   int64 `json:"ack"`
	Limit int   `json:"limit,omitempty"`
}

// Receipt is the read state of one receipt-requesting message: a
// receipt.stats entry and the data of the receipt push.
type Receipt struct {
	Mid        string `json:"mid"`
	GroupID    string `json:"groupId"`
	Count      int    `json:"count"`
	From       string `json:"from"` // the latest reader
	AckContent string `json:"ackContent"`
	Timestamp  int64  `json:"timestamp"` // the latest read
	// Eligible is the number of eligible readers when the message was
	// sent (omitted when 0: none, or a message sent before servers kept
	// it); ReadByAll is set (true) once Count reached a non-zero Eligible.
	Eligible  int  `json:"eligible,omitempty"`
	ReadByAll bool `json:"readByAll,omitempty"`
}

// StatsReply is the data of the receipt.stats reply.
type StatsReply struct {
	Entries []Receipt `json:"entries"`
	Next    int64     `json:"next"`
	More    bool      `json:"more"`
}

// Group is a group.
type Group struct {
	GroupID     string          `json:"groupId"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Public      bool            `json:"public"`
	Owner       string          `json:"owner"`
	MaxMembers  int             `json:"maxMembers"`
	MemberCount int             `json:"memberCount"`
	CreatedAt   int64           `json:"createdAt"`
	Ext         json.RawMessage `json:"ext,omitempty"`
	// ReceiptPolicy is the group's effective receipt policy.
	ReceiptPolicy *Policy `json:"receiptPolicy,omitempty"`
}

// Member is a member of a group.
type Member struct {
	Username string `json:"username"`
	Role     string `json:"role"` // "owner" | "admin" | "member"
	JoinedAt int64  `json:"joinedAt"`
}

// GroupCreate is the data of group.create.
type GroupCreate struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Public      bool            `json:"public,omitempty"`
	MaxMembers  int             `json:"maxMembers,omitempty"`
	Members     []string        `json:"members,omitempty"`
	Ext         json.RawMessage `json:"ext,omitempty"`
}

// GroupRef is the data of group.info, group.leave, group.destroy and
// group.admins.
type GroupRef struct {
	GroupID string `json:"groupId"`
}

// GroupAdd is the data of group.add.
type GroupAdd struct {
	GroupID string   `json:"groupId"`
	Users   []string `json:"users"`
}

// GroupAddReply is the data of the group.add reply: the users added
// (members already in the group are skipped).
type GroupAddReply struct {
	Added []string `json:"added"`
}

// GroupUser is the data of group.remove, group.setAdmin,
// group.removeAdmin and group.transfer.
type GroupUser struct {
	GroupID string `json:"groupId"`
	User    string `json:"user"`
}

// GroupMembers is the data of group.members.
type GroupMembers struct {
	GroupID string `json:"groupId"`
	Cursor  string `json:"cursor,omitempty"`
	Limit   int    `json:"limit,omitempty"`
}

// GroupMembersReply is the data of the group.members reply.
type GroupMembersReply struct {
	Members []Member `json:"members"`
	Cursor  string   `json:"cursor"`
}

// GroupAdminsReply is the data of the group.admins reply.
type GroupAdminsReply struct {
	Members []Member `json:"members"`
}

// GroupMine is the data of group.mine.
type GroupMine struct {
	Cursor string `json:"cursor,omitempty"`
	Limit  int    `json:"limit,omitempty"`
}

// GroupMineReply is the data of the group.mine reply.
type GroupMineReply struct {
	Groups []Group `json:"groups"`
	Cursor string  `json:"cursor"`
}

// PeerReceipt is the data of the read and delivery pushes: From read (or
// received) message Mid that To sent. ID and Seq are those of the stored
// receipt, which sync delivers too: clients drop the second copy by ID.
type PeerReceipt struct {
	ID        string `json:"id,omitempty"`
	Seq       int64  `json:"seq,omitempty"`
	Mid       string `json:"mid"`
	From      string `json:"from"`
	To        string `json:"to"`
	Timestamp int64  `json:"timestamp"`
}

// Channel is the data of the channel push: From acknowledged the whole
// conversation with To. ID and Seq are those of the stored receipt, as in
// PeerReceipt.
type Channel struct {
	ID        string `json:"id,omitempty"`
	Seq       int64  `json:"seq,omitempty"`
	ChatType  string `json:"chatType"`
	From      string `json:"from"`
	To        string `json:"to"`
	Timestamp int64  `json:"timestamp"`
}

// ConvRead is the data of the conv.read push: another device of the same
// user acknowledged a conversation up to Seq.
type ConvRead struct {
	ChatType string `json:"chatType"`
	To       string `json:"to"`
	Seq      int64  `json:"seq"`
}

// Resync is the data of the resync push: the server may have missed live
// events for this connection (its node lost the cluster bus for a while),
// so the client should run its sync and receipt.stats loops now.
type Resync struct {
	Reason string `json:"reason"`
}

// GroupEvent is the data of the group push.
type GroupEvent struct {
	GroupID   string   `json:"groupId"`
	Op        string   `json:"op"`
	Actor     string   `json:"actor"`
	Users     []string `json:"users,omitempty"`
	GroupName string   `json:"groupName,omitempty"`
	Timestamp int64    `json:"timestamp"`
}

// Remind is the data of receipt.remind: remind the members of Group who
// have not read message MsgID, all of them (Users absent) or those named
// (1-1000; an empty list is refused, so that a list filtered down to
// nothing never reminds everyone).
type Remind struct {
	Group string   `json:"groupId"`
	MsgID string   `json:"msgId"`
	Users []string `json:"users,omitempty"`
}

// RemindReply is the data of the receipt.remind reply: how many members
// were reminded, the named members who were not (they read it, or are no
// eligible reader), when, and the earliest time the message may be
// reminded again.
type RemindReply struct {
	Reminded int      `json:"reminded"`
	Skipped  []string `json:"skipped"`
	At       int64    `json:"at"`
	NextAt   int64    `json:"nextAt"`
}

// Reminder is the data of the receipt.reminder push: From reminded the
// user of message MsgID of Group. ID and Seq are those of the stored
// reminder, which sync delivers too (a message of type remind with the
// same fields): clients drop the second copy by ID.
type Reminder struct {
	ID    string `json:"id"`
	Seq   int64  `json:"seq"`
	Group string `json:"groupId"`
	MsgID string `json:"msgId"`
	From  string `json:"from"`
	At    int64  `json:"at"`
}

// MsgRef is the data of receipt.analytics.
type MsgRef struct {
	Group string `json:"groupId"`
	MsgID string `json:"msgId"`
}

// Bucket is one bar of a read-time distribution: the reads more than the
// previous bar's UpTo and at most UpTo ms after sending (UpTo null: the
// last bar, every later read).
type Bucket struct {
	UpTo  *int64 `json:"upTo"`
	Count int    `json:"count"`
}

// AnalyticsReply is the data of the receipt.analytics reply. To50, To90
// and ToAll are ms from sending to 50%, 90% and all of Eligible having
// read it, null while not reached.
type AnalyticsReply struct {
	MsgID     string   `json:"msgId"`
	SentAt    int64    `json:"sentAt"`
	Eligible  int      `json:"eligible"`
	Count     int      `json:"count"`
	Unread    int      `json:"unread"`
	To50      *int64   `json:"to50"`
	To90      *int64   `json:"to90"`
	ToAll     *int64   `json:"toAll"`
	Histogram []Bucket `json:"histogram"`
}

// GroupPolicyRef is the data of group.policy.
type GroupPolicyRef struct {
	Group string `json:"groupId"`
}

// Policy is a group's effective receipt policy: the data of the
// group.policy and group.setPolicy replies and a group's receiptPolicy.
type Policy struct {
	Request    string `json:"request"`    // "admins" | "all"
	Visibility string `json:"visibility"` // "sender" | "admins" | "members"
	Lists      bool   `json:"lists"`
}

// SetPolicy is the data of group.setPolicy: the fields present change.
type SetPolicy struct {
	Group      string  `json:"groupId"`
	Request    *string `json:"request,omitempty"`
	Visibility *string `json:"visibility,omitempty"`
	Lists      *bool   `json:"lists,omitempty"`
}

// Settings is the data of the user.settings and user.setSettings replies.
type Settings struct {
	SendReadReceipts bool `json:"sendReadReceipts"`
}

// SetSettings is the data of user.setSettings: the fields present change.
type SetSettings struct {
	SendReadReceipts *bool `json:"sendReadReceipts,omitempty"`
}
