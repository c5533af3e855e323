package chat

import (
	"context"
	"errors"
)

// fillPeerState sets PeerRead and PeerDelivered on the messages of ms that
// the actor sent to peer in their single chat conv (docs/receipts.md,
// "Read state in history"). It makes two reads per page, none per
// message, both from what the receipts already store:
//   - the peer's read position in conv: a channel ack (conv.ack) moves it
//     to the conversation's head, so it covers every message up to there;
//   - the peer's read and delivery receipts of the page's messages, found
//     by their local ids read:<id> and delivery:<id> (receiptLocalID)
//     under the unique (sender, local id) index.
//
// Read implies delivered.
func fillPeerState(ctx context.Context, tx Tx, actor Actor, peer UserID, conv string, ms []Message) error {
	mine := func(m *Message) bool {
		return m.ChatType == SingleChat && m.Conv == conv && m.From == actor.User && m.To == peer && !m.Type.IsReceipt()
	}
	var keys []string
	for i := range ms {
		if mine(&ms[i]) {
			id := ms[i].ID.String()
			keys = append(keys, receiptLocalID(TypeRead, id), receiptLocalID(TypeDelivery, id))
		}
	}
	if len(keys) == 0 {
		return nil
	}
	var readSeq int64
	c, err := tx.Conversation(ctx, peer, conv)
	switch {
	case err == nil:
		readSeq = c.ReadSeq
	case !errors.Is(err, ErrNotFound):
		return err
	}
	rs, err := tx.MessagesByLocalIDs(ctx, peer, keys)
	if err != nil {
		return err
	}
	read := make(map[MsgID]bool, len(rs))
	delivered := make(map[MsgID]bool, len(rs))
	for _, r := range rs {
		if r.Conv != conv {
			continue
		}
		switch r.Type {
		case TypeRead:
			read[r.AckMsg] = true
		case TypeDelivery:
			delivered[r.AckMsg] = true
		}
	}
	for i := range ms {
		if m := &ms[i]; mine(m) {
			m.PeerRead = read[m.ID] || m.Seq <= readSeq
			m.PeerDelivered = m.PeerRead || delivered[m.ID]
		}
	}
	return nil
}
