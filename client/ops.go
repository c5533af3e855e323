package client

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"seen/internal/protocol"
)

// The wire types, re-exported so that programs outside this module can
// name them (internal/protocol cannot be imported from outside).
type (
	Push              = protocol.Push
	Message           = protocol.Message
	MsgConfig         = protocol.MsgConfig
	Send              = protocol.Send
	SendReply         = protocol.SendReply
	SyncReply         = protocol.SyncReply
	History           = protocol.History
	HistoryReply      = protocol.HistoryReply
	Conversation      = protocol.Conversation
	ConvListReply     = protocol.ConvListReply
	AckItem           = protocol.AckItem
	AckResult         = protocol.AckResult
	Reader            = protocol.Reader
	ReadersReply      = protocol.ReadersReply
	UnreadReply       = protocol.UnreadReply
	Receipt           = protocol.Receipt
	StatsReply        = protocol.StatsReply
	Group             = protocol.Group
	GroupCreate       = protocol.GroupCreate
	Member            = protocol.Member
	GroupMembersReply = protocol.GroupMembersReply
	GroupMineReply    = protocol.GroupMineReply
	PeerReceipt       = protocol.PeerReceipt
	Channel           = protocol.Channel
	ConvRead          = protocol.ConvRead
	GroupEvent        = protocol.GroupEvent
	Reminded          = protocol.Reminded
	RemindReply       = protocol.RemindReply
	Reminder          = protocol.Reminder
	AnalyticsReply    = protocol.AnalyticsReply
	Bucket            = protocol.Bucket
	Policy            = protocol.Policy
	SetPolicy         = protocol.SetPolicy
	Settings          = protocol.Settings
)

// Chat types and push names, as on the wire.
const (
	SingleChat = "singleChat"
	GroupChat  = "groupChat"

	PushMsg      = protocol.PushMsg
	PushReceipt  = protocol.PushReceipt
	PushRead     = protocol.PushRead
	PushDelivery = protocol.PushDelivery
	PushChannel  = protocol.PushChannel
	PushConvRead = protocol.PushConvRead
	PushGroup    = protocol.PushGroup
	PushReminder = protocol.PushReminder
	PushResync   = protocol.PushResync
)

// TypeRemind is the type of a reminder in a sync page: a Message whose
// Group, MsgID, From and At are those of the Reminder push with the same
// ID (AsReminder converts it).
const TypeRemind = "remind"

// AsReminder returns the reminder a sync item of type remind is, and
// false for any other message.
func AsReminder(m Message) (Reminder, bool) {
	if m.Type != TypeRemind {
		return Reminder{}, false
	}
	return Reminder{ID: m.ID, Seq: m.Seq, Group: m.Group, MsgID: m.MsgID, From: m.From, At: m.At}, true
}

// DecodeReminder decodes the data of a receipt.reminder push.
func DecodeReminder(p Push) (Reminder, error) {
	if p.Push != PushReminder {
		return Reminder{}, fmt.Errorf("seen: push %q is not %s", p.Push, PushReminder)
	}
	return DecodePush[Reminder](p)
}

// request sends op with data and returns the reply data as a T.
func request[T any](ctx context.Context, c *Conn, op string, data any) (T, error) {
	var r T
	err := c.call(ctx, op, data, &r)
	return r, err
}

// Ping asks the server for its time (the application-level heartbeat of
// clients that cannot send WebSocket pings).
func (c *Conn) Ping(ctx context.Context) (time.Time, error) {
	var r protocol.Pong
	err := c.call(ctx, protocol.OpPing, protocol.Ping{}, &r)
	return time.UnixMilli(r.ServerTime), err
}

// Send sends a message. The reply comes after commit; resending the same
// LocalID returns the first message's reply and stores nothing.
func (c *Conn) Send(ctx context.Context, m Send) (SendReply, error) {
	return request[SendReply](ctx, c, protocol.OpMsgSend, m)
}

// SendText sends a text message to a user (SingleChat) or a group
// (GroupChat) with a fresh local id.
func (c *Conn) SendText(ctx context.Context, chatType, to, text string) (SendReply, error) {
	return c.Send(ctx, Send{LocalID: c.newLocalID(), Type: "txt", ChatType: chatType, To: to, Msg: text})
}

// NewLocalID returns a fresh local message id for Send: random, so that
// processes sending as the same user never collide (a reused local id
// makes the server return the first message and store nothing).
func (c *Conn) NewLocalID() string { return c.newLocalID() }

func (c *Conn) newLocalID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Sync confirms position ack and returns the messages that follow it.
// Loop until More is false, then confirm the last Next.
func (c *Conn) Sync(ctx context.Context, ack int64, limit int) (SyncReply, error) {
	return request[SyncReply](ctx, c, protocol.OpSync, protocol.Sync{Ack: ack, Limit: limit})
}

// History pages through one conversation.
func (c *Conn) History(ctx context.Context, q History) (HistoryReply, error) {
	return request[HistoryReply](ctx, c, protocol.OpHistory, q)
}

// Conversations lists the conversations, newest activity first.
func (c *Conn) Conversations(ctx context.Context, cursor string, limit int) (ConvListReply, error) {
	return request[ConvListReply](ctx, c, protocol.OpConvList, protocol.ConvList{Cursor: cursor, Limit: limit})
}

// AckConversation marks a whole conversation read on all the user's
// devices and returns how many group read receipts that counted.
func (c *Conn) AckConversation(ctx context.Context, chatType, to string) (int, error) {
	var r protocol.ConvAckReply
	err := c.call(ctx, protocol.OpConvAck, protocol.ConvAck{ChatType: chatType, To: to}, &r)
	return r.ReceiptsCounted, err
}

// Ack acknowledges group messages as read (1-100 at a time), with one
// result per item.
func (c *Conn) Ack(ctx context.Context, groupID string, items ...AckItem) ([]AckResult, error) {
	var r ackReply
	err := c.call(ctx, protocol.OpReceiptAck, protocol.ReceiptAck{GroupID: groupID, Items: items}, &r)
	return r.Results, err
}

// PeerRead tells user `to` that their single-chat message msgID was read.
func (c *Conn) PeerRead(ctx context.Context, to, msgID string) error {
	return c.call(ctx, protocol.OpReceiptRead, protocol.PeerAck{To: to, MsgID: msgID}, nil)
}

// PeerDelivered tells user `to` that their single-chat message msgID
// was delivered.
func (c *Conn) PeerDelivered(ctx context.Context, to, msgID string) error {
	return c.call(ctx, protocol.OpReceiptDelivered, protocol.PeerAck{To: to, MsgID: msgID}, nil)
}

// Readers pages through who read a group message.
func (c *Conn) Readers(ctx context.Context, groupID, msgID, cursor string, limit int) (ReadersReply, error) {
	return c.ListReaders(ctx, ReadersQuery{GroupID: groupID, MsgID: msgID, Cursor: cursor, Limit: limit})
}

// ReadersQuery is a receipt.readers request: the message, a cursor, a
// page size and an order ("asc", the default, or "desc": newest first).
type ReadersQuery = protocol.Readers

// ListReaders pages through who read a group message, with every option
// of receipt.readers (Readers is the oldest-first shorthand).
func (c *Conn) ListReaders(ctx context.Context, q ReadersQuery) (ReadersReply, error) {
	return request[ReadersReply](ctx, c, protocol.OpReceiptReaders, q)
}

// Unread pages through the members who have not read a group message.
func (c *Conn) Unread(ctx context.Context, groupID, msgID, cursor string, limit int) (UnreadReply, error) {
	return request[UnreadReply](ctx, c, protocol.OpReceiptUnread, protocol.ReceiptPage{GroupID: groupID, MsgID: msgID, Cursor: cursor, Limit: limit})
}

// ReadCounts returns the reader counts of group messages, by message id.
func (c *Conn) ReadCounts(ctx context.Context, groupID string, msgIDs ...string) (map[string]int, error) {
	var r protocol.ReceiptCountsReply
	err := c.call(ctx, protocol.OpReceiptCounts, protocol.ReceiptCounts{GroupID: groupID, MsgIDs: msgIDs}, &r)
	return r.Counts, err
}

// ReadTotals returns the reader counts of group messages and how many
// eligible readers of each have not read it yet, by message id: the
// numbers of "read by N of M" (M = N + unread). It costs the server one
// count over the group's members per message.
func (c *Conn) ReadTotals(ctx context.Context, groupID string, msgIDs ...string) (counts, unread map[string]int, err error) {
	var r protocol.ReceiptCountsReply
	err = c.call(ctx, protocol.OpReceiptCounts, protocol.ReceiptCounts{GroupID: groupID, MsgIDs: msgIDs, WithUnread: true}, &r)
	return r.Counts, r.Unread, err
}

// ReceiptCountsQuery is a receipt.counts request: the group, 1-100
// message ids, and whether to answer the unread totals too.
type ReceiptCountsQuery = protocol.ReceiptCounts

// ReceiptCountsReply is the whole receipt.counts reply: counts, unread
// totals (when asked for) and the eligible readers of each message.
type ReceiptCountsReply = protocol.ReceiptCountsReply

// ReceiptCounts returns the whole receipt.counts reply (ReadCounts and
// ReadTotals are its shorthands): with Eligible, a count at or over a
// non-zero eligible is "read by all".
func (c *Conn) ReceiptCounts(ctx context.Context, q ReceiptCountsQuery) (ReceiptCountsReply, error) {
	return request[ReceiptCountsReply](ctx, c, protocol.OpReceiptCounts, q)
}

// Stats confirms statistics position ack and returns the read-count
// changes of the user's messages that follow it.
func (c *Conn) Stats(ctx context.Context, ack int64, limit int) (StatsReply, error) {
	return request[StatsReply](ctx, c, protocol.OpReceiptStats, protocol.Stats{Ack: ack, Limit: limit})
}

// CreateGroup creates a group owned by the user.
func (c *Conn) CreateGroup(ctx context.Context, g GroupCreate) (Group, error) {
	return request[Group](ctx, c, protocol.OpGroupCreate, g)
}

// GroupInfo returns a group.
func (c *Conn) GroupInfo(ctx context.Context, groupID string) (Group, error) {
	return request[Group](ctx, c, protocol.OpGroupInfo, protocol.GroupRef{GroupID: groupID})
}

// AddMembers adds users to a group and returns the ones added.
func (c *Conn) AddMembers(ctx context.Context, groupID string, users ...string) ([]string, error) {
	var r protocol.GroupAddReply
	err := c.call(ctx, protocol.OpGroupAdd, protocol.GroupAdd{GroupID: groupID, Users: users}, &r)
	return r.Added, err
}

// RemoveMember removes a member from a group.
func (c *Conn) RemoveMember(ctx context.Context, groupID, user string) error {
	return c.call(ctx, protocol.OpGroupRemove, protocol.GroupUser{GroupID: groupID, User: user}, nil)
}

// SetAdmin makes a member an admin.
func (c *Conn) SetAdmin(ctx context.Context, groupID, user string) error {
	return c.call(ctx, protocol.OpGroupSetAdmin, protocol.GroupUser{GroupID: groupID, User: user}, nil)
}

// RemoveAdmin makes an admin a plain member.
func (c *Conn) RemoveAdmin(ctx context.Context, groupID, user string) error {
	return c.call(ctx, protocol.OpGroupRemoveAdmin, protocol.GroupUser{GroupID: groupID, User: user}, nil)
}

// TransferOwner makes another member the owner.
func (c *Conn) TransferOwner(ctx context.Context, groupID, user string) error {
	return c.call(ctx, protocol.OpGroupTransfer, protocol.GroupUser{GroupID: groupID, User: user}, nil)
}

// LeaveGroup leaves a group.
func (c *Conn) LeaveGroup(ctx context.Context, groupID string) error {
	return c.call(ctx, protocol.OpGroupLeave, protocol.GroupRef{GroupID: groupID}, nil)
}

// DestroyGroup destroys a group (owner only).
func (c *Conn) DestroyGroup(ctx context.Context, groupID string) error {
	return c.call(ctx, protocol.OpGroupDestroy, protocol.GroupRef{GroupID: groupID}, nil)
}

// Members pages through a group's members.
func (c *Conn) Members(ctx context.Context, groupID, cursor string, limit int) (GroupMembersReply, error) {
	return request[GroupMembersReply](ctx, c, protocol.OpGroupMembers, protocol.GroupMembers{GroupID: groupID, Cursor: cursor, Limit: limit})
}

// Admins lists a group's owner and admins.
func (c *Conn) Admins(ctx context.Context, groupID string) ([]Member, error) {
	var r protocol.GroupAdminsReply
	err := c.call(ctx, protocol.OpGroupAdmins, protocol.GroupRef{GroupID: groupID}, &r)
	return r.Members, err
}

// MyGroups pages through the groups the user belongs to.
func (c *Conn) MyGroups(ctx context.Context, cursor string, limit int) (GroupMineReply, error) {
	return request[GroupMineReply](ctx, c, protocol.OpGroupMine, protocol.GroupMine{Cursor: cursor, Limit: limit})
}

// Remind reminds the members of a group who have not read message msgID:
// every eligible one when users is empty, else those named (they are in
// Skipped when they read it already or may not read it). The sender, the
// owner and admins may; a message is reminded at most once per the
// server's remind interval (limit_exceeded, with NextAt in a later
// successful reply).
func (c *Conn) Remind(ctx context.Context, groupID, msgID string, users ...string) (RemindReply, error) {
	r := protocol.Remind{Group: groupID, MsgID: msgID}
	if len(users) > 0 {
		r.Users = users
	}
	return request[RemindReply](ctx, c, protocol.OpReceiptRemind, r)
}

// ReceiptAnalytics returns how fast a group message was read: the times
// to 50%, 90% and all of its eligible readers (nil while not reached) and
// the read-time distribution.
func (c *Conn) ReceiptAnalytics(ctx context.Context, groupID, msgID string) (AnalyticsReply, error) {
	return request[AnalyticsReply](ctx, c, protocol.OpReceiptAnalytics, protocol.MsgRef{Group: groupID, MsgID: msgID})
}

// GroupPolicy returns a group's effective receipt policy.
func (c *Conn) GroupPolicy(ctx context.Context, groupID string) (Policy, error) {
	return request[Policy](ctx, c, protocol.OpGroupPolicy, protocol.GroupPolicyRef{Group: groupID})
}

// SetGroupPolicy changes the fields of a group's receipt policy that p
// sets (p.Group names the group) and returns the effective policy. Owner
// and admins only.
func (c *Conn) SetGroupPolicy(ctx context.Context, p SetPolicy) (Policy, error) {
	return request[Policy](ctx, c, protocol.OpGroupSetPolicy, p)
}

// Settings returns the user's own settings.
func (c *Conn) Settings(ctx context.Context) (Settings, error) {
	return request[Settings](ctx, c, protocol.OpUserSettings, protocol.Empty{})
}

// SetSettings sets whether the user sends read receipts and returns the
// settings.
func (c *Conn) SetSettings(ctx context.Context, sendReadReceipts bool) (Settings, error) {
	return request[Settings](ctx, c, protocol.OpUserSetSettings, protocol.SetSettings{SendReadReceipts: &sendReadReceipts})
}
