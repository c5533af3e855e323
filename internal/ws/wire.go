package ws

import (
	"encoding/json"
	"time"

	"seen/internal/chat"
	"seen/internal/protocol"
)

// This file converts domain values to wire values. Nothing here decides
// anything: it only renames.

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// wireMessage converts a message. The read count is kept only when the
// service filled it (ReadCount >= 0) for a receipt-requesting message.
func wireMessage(m *chat.Message) protocol.Message {
	w := protocol.Message{
		ID: m.ID.String(), LocalID: m.LocalID, Seq: m.Seq, Type: string(m.Type), ChatType: string(m.ChatType),
		From: m.FromName, To: m.ToName, Msg: m.Text, CustomEvent: m.CustomEvent,
		CustomExts: nonNull(m.CustomExts), Ext: nonNull(m.Ext), Time: ms(m.SentAt),
	}
	if m.ChatType == chat.GroupChat {
		w.To = m.Group.String()
	}
	if m.AllowGroupAck {
		w.MsgConfig = &protocol.MsgConfig{AllowGroupAck: true}
		if m.ReadCount >= 0 {
			n := m.ReadCount
			w.ReadCount = &n
		}
	}
	return w
}

func wireMessages(list []chat.Message) []protocol.Message {
	out := make([]protocol.Message, len(list))
	for i := range list {
		out[i] = wireMessage(&list[i])
	}
	return out
}

func nonNull(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return raw
}

func wireGroup(g chat.Group) protocol.Group {
	return protocol.Group{
		GroupID: g.ID.String(), Name: g.Name, Description: g.Description, Public: g.Public, Owner: g.OwnerName,
		MaxMembers: g.MaxMembers, MemberCount: g.Members, CreatedAt: ms(g.CreatedAt), Ext: nonNull(g.Ext),
	}
}

func wireMembers(list []chat.Member) []protocol.Member {
	out := make([]protocol.Member, len(list))
	for i, m := range list {
		out[i] = protocol.Member{Username: m.Name, Role: string(m.Role), JoinedAt: ms(m.JoinedAt)}
	}
	return out
}

func wireReceipt(c chat.ReceiptCount) protocol.Receipt {
	return protocol.Receipt{
		Mid: c.Msg.String(), GroupID: c.Group.String(), Count: c.Count, From: c.LastName,
		AckContent: c.LastContent, Timestamp: ms(c.LastAt),
	}
}

// wireError converts an error to its wire form.
func wireError(err error) *protocol.Error {
	code := chat.ErrorCode(err)
	return &protocol.Error{Code: code.Number(), Name: string(code), Message: chat.ErrorMessage(err)}
}

// pushFrame encodes the push frame of a bus event, once for all the
// sessions it fans out to. ok is false for events that are not pushed.
func pushFrame(ev chat.Event) (kind string, frame []byte, ok bool) {
	var data any
	switch ev.Kind {
	case chat.EventMessage:
		if ev.Message == nil {
			return "", nil, false
		}
		m := wireMessage(ev.Message)
		m.ReadCount = nil // live pushes carry no counts: the receipt push does
		kind, data = protocol.PushMsg, m
	case chat.EventReceipt:
		r := ev.Receipt
		if r == nil {
			return "", nil, false
		}
		kind, data = protocol.PushReceipt, protocol.Receipt{
			Mid: r.Msg.String(), GroupID: r.Group.String(), Count: r.Count, From: r.Reader,
			AckContent: r.AckContent, Timestamp: r.At,
		}
	case chat.EventPeerRead, chat.EventDelivered:
		p := ev.Peer
		if p == nil {
			return "", nil, false
		}
		kind = protocol.PushRead
		if ev.Kind == chat.EventDelivered {
			kind = protocol.PushDelivery
		}
		data = protocol.PeerReceipt{Mid: p.Msg.String(), From: p.From, To: p.To, Timestamp: p.At}
	case chat.EventChannel:
		p := ev.Peer
		if p == nil {
			return "", nil, false
		}
		kind, data = protocol.PushChannel, protocol.Channel{
			ChatType: string(chat.SingleChat), From: p.From, To: p.To, Timestamp: p.At,
		}
	case chat.EventConvRead:
		c := ev.ConvRead
		if c == nil {
			return "", nil, false
		}
		to := c.Peer
		if c.ChatType == chat.GroupChat {
			to = c.Group.String()
		}
		kind, data = protocol.PushConvRead, protocol.ConvRead{ChatType: string(c.ChatType), To: to, Seq: c.Seq}
	case chat.EventGroup:
		g := ev.Group
		if g == nil {
			return "", nil, false
		}
		kind, data = protocol.PushGroup, protocol.GroupEvent{
			GroupID: g.Group.String(), Op: g.Op, Actor: g.Actor, Users: g.Users, GroupName: g.GroupName, Timestamp: g.At,
		}
	case chat.EventRevoked:
		if ev.Revoked == nil {
			return "", nil, false
		}
		return "revoked", nil, true // acted on by the session, never sent
	default:
		return "", nil, false
	}
	b, err := json.Marshal(data)
	if err != nil {
		return "", nil, false
	}
	frame, err = json.Marshal(protocol.Push{Push: kind, Data: b})
	if err != nil {
		return "", nil, false
	}
	return kind, frame, true
}
