package httpapi

// The JSON shapes of the REST API. Where an endpoint has a WebSocket twin,
// its request and reply are the op's data types of internal/protocol, so
// that REST and WebSocket clients decode the same objects; the rest are
// REST-only and defined here. Every conversion from chat to the wire lives
// in this file.

import (
	"time"

	"seen/internal/chat"
	"seen/internal/protocol"
)

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// errorBody is the body of every error reply.
type errorBody struct {
	Error *protocol.Error `json:"error"`
}

func encodeError(err error) *protocol.Error {
	c := chat.ErrorCode(err)
	return &protocol.Error{Code: c.Number(), Name: string(c), Message: chat.ErrorMessage(err)}
}

// Accounts.

type credentialsRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func (c credentialsRequest) chat() chat.Credentials {
	return chat.Credentials{Username: c.Username, Password: c.Password}
}

type userJSON struct {
	Username  string `json:"username"`
	CreatedAt int64  `json:"createdAt,omitempty"`
}

func encodeUser(u chat.User) userJSON {
	return userJSON{Username: u.Name, CreatedAt: millis(u.CreatedAt)}
}

type usersReply struct {
	Users  []userJSON `json:"users"`
	Cursor string     `json:"cursor"`
}

func encodeUsers(us []chat.User) []userJSON {
	out := make([]userJSON, len(us))
	for i, u := range us {
		out[i] = encodeUser(u)
	}
	return out
}

// tokenReply follows the Easemob token reply: snake_case, expiry in
// seconds.
type tokenReply struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	User        string `json:"user"`
}

type passwordRequest struct {
	OldPassword string `json:"oldPassword"`
	NewPassword string `json:"newPassword"`
}

type resetPasswordRequest struct {
	Password string `json:"password"`
}

// Groups.

// adminGroupCreate is group.create plus the owner, for the admin API.
type adminGroupCreate struct {
	protocol.GroupCreate
	Owner string `json:"owner"`
}

func groupSpec(g protocol.GroupCreate, owner string) chat.GroupSpec {
	return chat.GroupSpec{
		Name: g.Name, Description: g.Description, Public: g.Public, MaxMembers: g.MaxMembers,
		Members: g.Members, Ext: g.Ext, Owner: owner,
	}
}

func encodeGroup(g chat.Group) protocol.Group {
	return protocol.Group{
		GroupID: g.ID.String(), Name: g.Name, Description: g.Description, Public: g.Public, Owner: g.OwnerName,
		MaxMembers: g.MaxMembers, MemberCount: g.Members, CreatedAt: millis(g.CreatedAt), Ext: g.Ext,
	}
}

// usersRequest is the body of the add-members endpoints (group.add
// without the group id, which is in the path).
type usersRequest struct {
	Users []string `json:"users"`
}

// userRequest is the body of the transfer endpoint.
type userRequest struct {
	User string `json:"user"`
}

func names(us []chat.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.Name
	}
	return out
}

func encodeMembers(ms []chat.Member) []protocol.Member {
	out := make([]protocol.Member, len(ms))
	for i, m := range ms {
		out[i] = protocol.Member{Username: m.Name, Role: string(m.Role), JoinedAt: millis(m.JoinedAt)}
	}
	return out
}

// Messages.

func outgoing(s protocol.Send) chat.Outgoing {
	o := chat.Outgoing{
		LocalID: s.LocalID, Type: chat.MsgType(s.Type), ChatType: chat.ChatType(s.ChatType), To: s.To, Text: s.Msg,
		CustomEvent: s.CustomEvent, CustomExts: s.CustomExts, Ext: s.Ext,
	}
	if s.MsgConfig != nil {
		o.AllowGroupAck = s.MsgConfig.AllowGroupAck
	}
	return o
}

func encodeMessage(m chat.Message) protocol.Message {
	j := protocol.Message{
		ID: m.ID.String(), LocalID: m.LocalID, Seq: m.Seq, Type: string(m.Type), ChatType: string(m.ChatType),
		From: m.FromName, To: m.ToName, Msg: m.Text, CustomEvent: m.CustomEvent, CustomExts: m.CustomExts,
		Ext: m.Ext, Time: millis(m.SentAt),
	}
	if m.ChatType == chat.GroupChat {
		j.To = m.Group.String()
	}
	if m.AllowGroupAck {
		j.MsgConfig = &protocol.MsgConfig{AllowGroupAck: true}
	}
	if m.ReadCount >= 0 {
		n := m.ReadCount
		j.ReadCount = &n
	}
	return j
}

func encodeMessages(ms []chat.Message) []protocol.Message {
	out := make([]protocol.Message, len(ms))
	for i, m := range ms {
		out[i] = encodeMessage(m)
	}
	return out
}

func encodeConversation(c chat.Conversation) protocol.Conversation {
	j := protocol.Conversation{ChatType: string(c.ChatType), To: c.PeerName, Unread: c.Unread}
	if c.ChatType == chat.GroupChat {
		j.To = c.Group.String()
	}
	if c.Last != nil {
		m := encodeMessage(*c.Last)
		j.LastMessage = &m
	}
	return j
}

// Receipts.

// ackRequest is the body of the receipts endpoint (receipt.ack without
// the group id, which is in the path).
type ackRequest struct {
	Items []protocol.AckItem `json:"items"`
}

func encodeAckResults(rs []chat.AckResult) protocol.ReceiptAckReply {
	out := protocol.ReceiptAckReply{Results: make([]protocol.AckResult, len(rs))}
	for i, r := range rs {
		j := protocol.AckResult{MsgID: r.Msg.String(), OK: r.Err == nil, Counted: r.Counted}
		if r.Counted {
			j.Count = r.Count
		}
		if r.Err != nil {
			j.Error = encodeError(r.Err)
		}
		out.Results[i] = j
	}
	return out
}

func encodeReaders(p chat.ReadersPage) protocol.ReadersReply {
	out := protocol.ReadersReply{Total: p.Total, Users: make([]protocol.Reader, len(p.Readers)), Cursor: p.Next, IsLast: p.Next == ""}
	for i, r := range p.Readers {
		out.Users[i] = protocol.Reader{Username: r.Name, Time: millis(r.At), AckContent: r.Content}
	}
	return out
}

func encodeUnread(p chat.UnreadPage) protocol.UnreadReply {
	out := protocol.UnreadReply{Total: p.Total, Users: make([]string, len(p.Users)), Cursor: p.Next, IsLast: p.Next == ""}
	for i, m := range p.Users {
		out.Users[i] = m.Name
	}
	return out
}

func encodeCounts(cs map[chat.MsgID]int) protocol.ReceiptCountsReply {
	out := protocol.ReceiptCountsReply{Counts: make(map[string]int, len(cs))}
	for id, n := range cs {
		out.Counts[id.String()] = n
	}
	return out
}

func encodeStats(p chat.StatsPage) protocol.StatsReply {
	out := protocol.StatsReply{Entries: make([]protocol.Receipt, len(p.Entries)), Next: p.Next, More: p.More}
	for i, c := range p.Entries {
		out.Entries[i] = protocol.Receipt{
			Mid: c.Msg.String(), GroupID: c.Group.String(), Count: c.Count, From: c.LastName,
			AckContent: c.LastContent, Timestamp: millis(c.LastAt),
		}
	}
	return out
}
