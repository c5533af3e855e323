package ws

import (
	"encoding/json"
	"fmt"

	"seen/internal/chat"
	"seen/internal/protocol"
	"seen/internal/wire"
)

// pushFrame encodes the push frame of a bus event, once for all the
// sessions it fans out to. ok is false for events that are not pushed,
// and for those that could not be encoded (err says why).
func pushFrame(ev chat.Event) (kind string, frame []byte, ok bool, err error) {
	var data any
	switch ev.Kind {
	case chat.EventMessage:
		if ev.Message == nil {
			return "", nil, false, nil
		}
		m := wire.Message(ev.Message)
		m.ReadCount = nil // live pushes carry no counts: the receipt push does
		kind, data = protocol.PushMsg, m
	case chat.EventReceipt:
		r := ev.Receipt
		if r == nil {
			return "", nil, false, nil
		}
		kind, data = protocol.PushReceipt, protocol.Receipt{
			Mid: r.Msg.String(), GroupID: r.Group.String(), Count: r.Count, From: r.Reader,
			AckContent: r.AckContent, Timestamp: r.At,
		}
	case chat.EventPeerRead, chat.EventDelivered:
		p := ev.Peer
		if p == nil {
			return "", nil, false, nil
		}
		kind = protocol.PushRead
		if ev.Kind == chat.EventDelivered {
			kind = protocol.PushDelivery
		}
		data = protocol.PeerReceipt{ID: idString(p.ID), Seq: p.Seq, Mid: p.Msg.String(), From: p.From, To: p.To, Timestamp: p.At}
	case chat.EventChannel:
		p := ev.Peer
		if p == nil {
			return "", nil, false, nil
		}
		kind, data = protocol.PushChannel, protocol.Channel{
			ID: idString(p.ID), Seq: p.Seq, ChatType: string(chat.SingleChat), From: p.From, To: p.To, Timestamp: p.At,
		}
	case chat.EventConvRead:
		c := ev.ConvRead
		if c == nil {
			return "", nil, false, nil
		}
		to := c.Peer
		if c.ChatType == chat.GroupChat {
			to = c.Group.String()
		}
		kind, data = protocol.PushConvRead, protocol.ConvRead{ChatType: string(c.ChatType), To: to, Seq: c.Seq}
	case chat.EventGroup:
		g := ev.Group
		if g == nil {
			return "", nil, false, nil
		}
		kind, data = protocol.PushGroup, protocol.GroupEvent{
			GroupID: g.Group.String(), Op: g.Op, Actor: g.Actor, Users: g.Users, GroupName: g.GroupName, Timestamp: g.At,
		}
	case chat.EventRevoked:
		if ev.Revoked == nil {
			return "", nil, false, nil
		}
		return "revoked", nil, true, nil // acted on by the session, never sent
	default:
		return "", nil, false, nil
	}
	b, err := json.Marshal(data)
	if err != nil {
		return "", nil, false, fmt.Errorf("encode %s push: %w", kind, err)
	}
	frame, err = encodeFrame(protocol.Push{Push: kind, Data: b})
	if err != nil {
		return "", nil, false, fmt.Errorf("encode %s push: %w", kind, err)
	}
	return kind, frame, true, nil
}

// idString is a stored receipt's id on the wire: "" (omitted) for an event
// published without one.
func idString(id chat.MsgID) string {
	if id == 0 {
		return ""
	}
	return id.String()
}
