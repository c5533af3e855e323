// Package wire converts between chat's domain values and protocol's wire
// types, so that the WebSocket and REST surfaces encode every object the
// same way.
//
// Nothing here decides anything: it renames fields, writes ids as decimal
// strings and times as Unix milliseconds, and parses the ids of requests.
// An encoder is named after the protocol type it returns (Group returns a
// protocol.Group, SyncReply a protocol.SyncReply), so a reply that both
// surfaces send is built by one function.
package wire

import (
	"encoding/json"
	"time"

	"seen/internal/chat"
	"seen/internal/protocol"
)

// Millis is t in Unix milliseconds, 0 for the zero time.
func Millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// object is an app-defined JSON object as sent: nil (omitted) when empty
// or null, as docs/protocol.md promises for ext and customExts.
func object(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return raw
}

// Error is the wire form of err: its code, name and safe message. The
// cause (chat.Error.Err) is never sent.
func Error(err error) *protocol.Error {
	code := chat.ErrorCode(err)
	return &protocol.Error{Code: code.Number(), Name: string(code), Message: chat.ErrorMessage(err)}
}

// Requests.

// Outgoing is the message of msg.send.
func Outgoing(s protocol.Send) chat.Outgoing {
	o := chat.Outgoing{
		LocalID: s.LocalID, Type: chat.MsgType(s.Type), ChatType: chat.ChatType(s.ChatType), To: s.To, Text: s.Msg,
		CustomEvent: s.CustomEvent, CustomExts: s.CustomExts, Ext: s.Ext,
	}
	if s.MsgConfig != nil {
		o.AllowGroupAck = s.MsgConfig.AllowGroupAck
	}
	return o
}

// HistoryQuery is the query of history; the direction is "older" (the
// default) or "newer".
func HistoryQuery(h protocol.History) (chat.HistoryQuery, error) {
	q := chat.HistoryQuery{ChatType: chat.ChatType(h.ChatType), With: h.To, Cursor: h.Cursor, Limit: h.Limit}
	switch h.Direction {
	case "", "older":
	case "newer":
		q.Newer = true
	default:
		return chat.HistoryQuery{}, chat.Errorf(chat.CodeBadRequest, "direction %q is not older or newer", h.Direction)
	}
	return q, nil
}

// AckItems parses the items of receipt.ack.
func AckItems(items []protocol.AckItem) ([]chat.AckItem, error) {
	out := make([]chat.AckItem, len(items))
	for i, it := range items {
		id, err := chat.ParseMsgID(it.MsgID)
		if err != nil {
			return nil, err
		}
		out[i] = chat.AckItem{Msg: id, Content: it.AckContent}
	}
	return out, nil
}

// MsgIDs parses message ids.
func MsgIDs(ss []string) ([]chat.MsgID, error) {
	ids := make([]chat.MsgID, len(ss))
	for i, s := range ss {
		id, err := chat.ParseMsgID(s)
		if err != nil {
			return nil, err
		}
		ids[i] = id
	}
	return ids, nil
}

// GroupSpec is the group of group.create, owned by owner ("" for the
// acting user).
func GroupSpec(g protocol.GroupCreate, owner string) chat.GroupSpec {
	return chat.GroupSpec{
		Name: g.Name, Description: g.Description, Public: g.Public, MaxMembers: g.MaxMembers,
		Members: g.Members, Ext: g.Ext, Owner: owner,
	}
}

// Messages.

// Message converts a message (or a stored single-chat receipt, with the
// acknowledged message as mid, or a reminder, with the fields of the
// reminder push). The read count is kept only when the service filled it
// (ReadCount >= 0) for a receipt-requesting message.
func Message(m *chat.Message) protocol.Message {
	if m.Type == chat.TypeRemind {
		r := Reminder(m)
		return protocol.Message{
			ID: r.ID, LocalID: m.LocalID, Seq: m.Seq, Type: string(m.Type), ChatType: string(chat.GroupChat),
			From: m.FromName, To: m.ToName, Time: r.At, Group: r.Group, MsgID: r.MsgID, At: r.At,
		}
	}
	w := protocol.Message{
		ID: m.ID.String(), LocalID: m.LocalID, Seq: m.Seq, Type: string(m.Type), ChatType: string(m.ChatType),
		From: m.FromName, To: m.ToName, Msg: m.Text, CustomEvent: m.CustomEvent,
		CustomExts: object(m.CustomExts), Ext: object(m.Ext), Time: Millis(m.SentAt),
	}
	if m.ChatType == chat.GroupChat {
		w.To = m.Group.String()
	}
	if m.AckMsg != 0 {
		w.Mid = m.AckMsg.String()
	}
	w.IsRead, w.IsDelivered = m.PeerRead, m.PeerDelivered
	if m.AllowGroupAck {
		w.MsgConfig = &protocol.MsgConfig{AllowGroupAck: true}
		if m.ReadCount >= 0 {
			n := m.ReadCount
			w.ReadCount = &n
		}
	}
	return w
}

// Messages converts a list of messages.
func Messages(list []chat.Message) []protocol.Message {
	out := make([]protocol.Message, len(list))
	for i := range list {
		out[i] = Message(&list[i])
	}
	return out
}

// SendReply is the reply of msg.send.
func SendReply(m chat.Message) protocol.SendReply {
	return protocol.SendReply{LocalID: m.LocalID, ID: m.ID.String(), Time: Millis(m.SentAt), Seq: m.Seq}
}

// SyncReply is the reply of sync.
func SyncReply(p chat.SyncPage) protocol.SyncReply {
	return protocol.SyncReply{Messages: Messages(p.Messages), Next: p.Next, More: p.More}
}

// HistoryReply is the reply of history.
func HistoryReply(p chat.HistoryPage) protocol.HistoryReply {
	return protocol.HistoryReply{Messages: Messages(p.Messages), Cursor: p.Cursor, IsLast: p.IsLast}
}

// Conversation converts a row of the conversation list.
func Conversation(c *chat.Conversation) protocol.Conversation {
	w := protocol.Conversation{ChatType: string(c.ChatType), To: c.PeerName, Unread: c.Unread}
	if c.ChatType == chat.GroupChat {
		w.To = c.Group.String()
	}
	if c.Last != nil {
		m := Message(c.Last)
		w.LastMessage = &m
	}
	return w
}

// ConvListReply is the reply of conv.list.
func ConvListReply(p chat.ConvPage) protocol.ConvListReply {
	out := protocol.ConvListReply{Conversations: make([]protocol.Conversation, len(p.Conversations)), Cursor: p.Next}
	for i := range p.Conversations {
		out.Conversations[i] = Conversation(&p.Conversations[i])
	}
	return out
}

// Receipts.

// ReceiptAckReply is the reply of receipt.ack: one result per item, in
// order (rs[i] is the result of items[i]). Each result names its message
// with the msgId of its item as the client sent it, so that a client
// matching results to items by string always finds its own.
func ReceiptAckReply(items []protocol.AckItem, rs []chat.AckResult) protocol.ReceiptAckReply {
	out := protocol.ReceiptAckReply{Results: make([]protocol.AckResult, len(rs))}
	for i, r := range rs {
		w := protocol.AckResult{MsgID: items[i].MsgID, OK: r.Err == nil, Counted: r.Counted}
		if r.Counted {
			w.Count = r.Count
		}
		if r.Err != nil {
			w.Error = Error(r.Err)
		}
		out.Results[i] = w
	}
	return out
}

// ReadersReply is the reply of receipt.readers.
func ReadersReply(p chat.ReadersPage) protocol.ReadersReply {
	out := protocol.ReadersReply{Total: p.Total, Users: make([]protocol.Reader, len(p.Readers)), Cursor: p.Next, IsLast: p.Next == ""}
	for i, r := range p.Readers {
		out.Users[i] = protocol.Reader{Username: r.Name, Time: Millis(r.At), AckContent: r.Content}
	}
	return out
}

// UnreadReply is the reply of receipt.unread: Reminders holds the
// members of the page reminded at least once (nil, omitted, when none
// was).
func UnreadReply(p chat.UnreadPage) protocol.UnreadReply {
	out := protocol.UnreadReply{Total: p.Total, Users: make([]string, len(p.Users)), Cursor: p.Next, IsLast: p.Next == ""}
	for i, m := range p.Users {
		out.Users[i] = m.Name
		if m.Reminded > 0 {
			if out.Reminders == nil {
				out.Reminders = make(map[string]protocol.Reminded)
			}
			out.Reminders[m.Name] = protocol.Reminded{Reminded: m.Reminded, RemindedAt: Millis(m.RemindedAt)}
		}
	}
	return out
}

// RemindUsers is the member list of receipt.remind: nil (every eligible
// member who has not read it) when absent; an empty list is refused, so
// that a list filtered down to nothing never reminds everyone.
func RemindUsers(users []string) ([]string, error) {
	if users != nil && len(users) == 0 {
		return nil, chat.Errorf(chat.CodeBadRequest, "users: empty; leave it out to remind every member who has not read the message")
	}
	return users, nil
}

// RemindReply is the reply of receipt.remind. Skipped is never null.
func RemindReply(r chat.RemindResult) protocol.RemindReply {
	skipped := r.Skipped
	if skipped == nil {
		skipped = []string{}
	}
	return protocol.RemindReply{Reminded: r.Reminded, Skipped: skipped, At: Millis(r.At), NextAt: Millis(r.NextAt)}
}

// Reminder is the push of a stored reminder (a message of type remind,
// To the reminded member, AckMsg the message reminded of).
func Reminder(m *chat.Message) protocol.Reminder {
	return protocol.Reminder{
		ID: m.ID.String(), Seq: m.Seq, Group: m.Group.String(), MsgID: m.AckMsg.String(), From: m.FromName,
		At: Millis(m.SentAt),
	}
}

// AnalyticsReply is the reply of receipt.analytics: the times to 50%,
// 90% and all in ms, nil (null) while not reached; the histogram's last
// bar (UpTo 0) has upTo null.
func AnalyticsReply(a chat.ReadAnalytics) protocol.AnalyticsReply {
	reached := func(d time.Duration, ok bool) *int64 {
		if !ok {
			return nil
		}
		ms := d.Milliseconds()
		return &ms
	}
	out := protocol.AnalyticsReply{
		MsgID: a.Msg.String(), SentAt: Millis(a.SentAt), Eligible: a.Eligible, Count: a.Count, Unread: a.Unread,
		To50: reached(a.To50, a.Reached50), To90: reached(a.To90, a.Reached90), ToAll: reached(a.ToAll, a.ReachedAll),
		Histogram: make([]protocol.Bucket, len(a.Histogram)),
	}
	for i, b := range a.Histogram {
		out.Histogram[i] = protocol.Bucket{UpTo: reached(b.UpTo, b.UpTo > 0), Count: b.Count}
	}
	return out
}

// Policy converts a group's effective receipt policy.
func Policy(p chat.ReceiptPolicy) protocol.Policy {
	return protocol.Policy{Request: p.Request, Visibility: p.Visibility, Lists: p.Lists}
}

// PolicyUpdate is the change of group.setPolicy; chat validates the
// values.
func PolicyUpdate(r protocol.SetPolicy) chat.PolicyUpdate {
	return chat.PolicyUpdate{Request: r.Request, Visibility: r.Visibility, Lists: r.Lists}
}

// Settings converts a user's settings.
func Settings(s chat.Settings) protocol.Settings {
	return protocol.Settings{SendReadReceipts: s.SendReadReceipts}
}

// SettingsUpdate is the change of user.setSettings.
func SettingsUpdate(r protocol.SetSettings) chat.SettingsUpdate {
	return chat.SettingsUpdate{SendReadReceipts: r.SendReadReceipts}
}

// ReceiptCountsReply is the reply of receipt.counts: Unread only when it
// was asked for; Eligible when the service filled it.
func ReceiptCountsReply(t chat.ReceiptTotals) protocol.ReceiptCountsReply {
	out := protocol.ReceiptCountsReply{Counts: make(map[string]int, len(t.Counts))}
	if t.Eligible != nil {
		out.Eligible = make(map[string]int, len(t.Eligible))
		for id, n := range t.Eligible {
			out.Eligible[id.String()] = n
		}
	}
	if t.Unread != nil {
		out.Unread = make(map[string]int, len(t.Unread))
		for id, n := range t.Unread {
			out.Unread[id.String()] = n
		}
	}
	for id, n := range t.Counts {
		out.Counts[id.String()] = n
	}
	return out
}

// Receipt converts the read state of a message (a receipt.stats entry).
func Receipt(c chat.ReceiptCount) protocol.Receipt {
	return protocol.Receipt{
		Mid: c.Msg.String(), GroupID: c.Group.String(), Count: c.Count, From: c.LastName,
		AckContent: c.LastContent, Timestamp: Millis(c.LastAt),
		Eligible: c.Eligible, ReadByAll: chat.ReadByAll(c.Count, c.Eligible),
	}
}

// StatsReply is the reply of receipt.stats.
func StatsReply(p chat.StatsPage) protocol.StatsReply {
	out := protocol.StatsReply{Entries: make([]protocol.Receipt, len(p.Entries)), Next: p.Next, More: p.More}
	for i, c := range p.Entries {
		out.Entries[i] = Receipt(c)
	}
	return out
}

// Groups.

// Group converts a group. Its receipt policy is omitted only when the
// service left it unfilled (a group value without Policy.Request).
func Group(g chat.Group) protocol.Group {
	w := protocol.Group{
		GroupID: g.ID.String(), Name: g.Name, Description: g.Description, Public: g.Public, Owner: g.OwnerName,
		MaxMembers: g.MaxMembers, MemberCount: g.Members, CreatedAt: Millis(g.CreatedAt), Ext: object(g.Ext),
	}
	if g.Policy.Request != "" {
		p := Policy(g.Policy)
		w.ReceiptPolicy = &p
	}
	return w
}

// GroupMineReply is the reply of group.mine.
func GroupMineReply(p chat.GroupPage) protocol.GroupMineReply {
	out := protocol.GroupMineReply{Groups: make([]protocol.Group, len(p.Groups)), Cursor: p.Next}
	for i, g := range p.Groups {
		out.Groups[i] = Group(g)
	}
	return out
}

// GroupAddReply is the reply of group.add: the users who were added.
func GroupAddReply(added []chat.User) protocol.GroupAddReply {
	out := protocol.GroupAddReply{Added: make([]string, len(added))}
	for i, u := range added {
		out.Added[i] = u.Name
	}
	return out
}

// Members converts group members.
func Members(list []chat.Member) []protocol.Member {
	out := make([]protocol.Member, len(list))
	for i, m := range list {
		out[i] = protocol.Member{Username: m.Name, Role: string(m.Role), JoinedAt: Millis(m.JoinedAt)}
	}
	return out
}

// GroupMembersReply is the reply of group.members.
func GroupMembersReply(p chat.MemberPage) protocol.GroupMembersReply {
	return protocol.GroupMembersReply{Members: Members(p.Members), Cursor: p.Next}
}

// GroupAdminsReply is the reply of group.admins: the owner and the admins.
func GroupAdminsReply(admins []chat.Member) protocol.GroupAdminsReply {
	return protocol.GroupAdminsReply{Members: Members(admins)}
}

// Pushes.

// Push is the push of a bus event: its name (protocol.Push*) and its
// data, the protocol value to encode. ok is false for an event that is
// not pushed (an unknown kind, a missing payload), and for EventRevoked,
// which a transport acts on and never sends.
func Push(ev chat.Event) (name string, data any, ok bool) {
	switch {
	case ev.Kind == chat.EventMessage && ev.Message != nil && ev.Message.Type == chat.TypeRemind:
		return protocol.PushReminder, Reminder(ev.Message), true
	case ev.Kind == chat.EventMessage && ev.Message != nil:
		return protocol.PushMsg, LiveMessage(ev.Message), true
	case ev.Kind == chat.EventReceipt && ev.Receipt != nil:
		return protocol.PushReceipt, ReceiptPush(ev.Receipt), true
	case ev.Kind == chat.EventPeerRead && ev.Peer != nil:
		return protocol.PushRead, PeerReceipt(ev.Peer), true
	case ev.Kind == chat.EventDelivered && ev.Peer != nil:
		return protocol.PushDelivery, PeerReceipt(ev.Peer), true
	case ev.Kind == chat.EventChannel && ev.Peer != nil:
		return protocol.PushChannel, Channel(ev.Peer), true
	case ev.Kind == chat.EventConvRead && ev.ConvRead != nil:
		return protocol.PushConvRead, ConvRead(ev.ConvRead), true
	case ev.Kind == chat.EventGroup && ev.Group != nil:
		return protocol.PushGroup, GroupEvent(ev.Group), true
	}
	return "", nil, false
}

// LiveMessage is the push of a new message. It carries no read count:
// the receipt push does.
func LiveMessage(m *chat.Message) protocol.Message {
	w := Message(m)
	w.ReadCount = nil
	return w
}

// ReceiptPush is the push of a message's new read count.
func ReceiptPush(r *chat.ReceiptPush) protocol.Receipt {
	return protocol.Receipt{
		Mid: r.Msg.String(), GroupID: r.Group.String(), Count: r.Count, From: r.Reader,
		AckContent: r.AckContent, Timestamp: r.At, Eligible: r.Eligible, ReadByAll: chat.ReadByAll(r.Count, r.Eligible),
	}
}

// PeerReceipt is the push of a single-chat read or delivery receipt.
func PeerReceipt(p *chat.PeerReceipt) protocol.PeerReceipt {
	return protocol.PeerReceipt{ID: eventID(p.ID), Seq: p.Seq, Mid: p.Msg.String(), From: p.From, To: p.To, Timestamp: p.At}
}

// Channel is the push of a single-chat conversation acknowledgement.
func Channel(p *chat.PeerReceipt) protocol.Channel {
	return protocol.Channel{
		ID: eventID(p.ID), Seq: p.Seq, ChatType: string(chat.SingleChat), From: p.From, To: p.To, Timestamp: p.At,
	}
}

// ConvRead is the push of a conversation read on another device: to is
// the peer of a single chat, the group id of a group chat.
func ConvRead(c *chat.ConvReadEvent) protocol.ConvRead {
	to := c.Peer
	if c.ChatType == chat.GroupChat {
		to = c.Group.String()
	}
	return protocol.ConvRead{ChatType: string(c.ChatType), To: to, Seq: c.Seq}
}

// GroupEvent is the push of a group change.
func GroupEvent(g *chat.GroupEvent) protocol.GroupEvent {
	return protocol.GroupEvent{
		GroupID: g.Group.String(), Op: g.Op, Actor: g.Actor, Users: g.Users, GroupName: g.GroupName, Timestamp: g.At,
	}
}

// eventID is a stored receipt's id on the wire: "" (omitted) for an event
// published without one.
func eventID(id chat.MsgID) string {
	if id == 0 {
		return ""
	}
	return id.String()
}
