package chat

import (
	"context"
	"errors"
	"strconv"
)

// SyncPage is a page of a device's message stream.
type SyncPage struct {
	Messages []Message
	// Next is the position to confirm once Messages are processed: pass it
	// as ack to the next Sync.
	Next int64
	More bool
}

// MaxSyncPage is the largest sync page.
const MaxSyncPage = 500

// Sync confirms the device's position ack (when above the stored one) and
// returns, in order, the next messages after it in every conversation of
// the user: what the device missed. Where a device never seen before
// starts is newDevice's rule.
func (s *Service) Sync(ctx context.Context, actor Actor, ack int64, limit int) (SyncPage, error) {
	limit, err := pageSize(limit, 100, MaxSyncPage)
	if err != nil {
		return SyncPage{}, err
	}
	if ack < 0 {
		return SyncPage{}, Errorf(CodeBadRequest, "ack must not be negative")
	}
	dev, err := s.confirm(ctx, actor, SeqMessages, ack)
	if err != nil {
		return SyncPage{}, err
	}
	var p SyncPage
	err = s.read(ctx, "sync", func(tx Tx) error {
		head, err := tx.HeadSeq(ctx, SeqMessages)
		if err != nil {
			return err
		}
		ms, err := tx.SyncMessages(ctx, actor.User, dev.MsgSeq, limit+1)
		if err != nil {
			return err
		}
		for i, m := range ms {
			if m.Seq > head { // committed after head was read: next time
				ms = ms[:i]
				break
			}
		}
		p.More = len(ms) > limit
		if p.More {
			ms = ms[:limit]
		}
		if err := present(ctx, tx, actor, ms); err != nil {
			return err
		}
		if n := pageCut(ms, s.cfg.MaxPageBytes, messageSize); n < len(ms) {
			ms, p.More = ms[:n], true
		}
		switch {
		case len(ms) > 0 && p.More:
			p.Next = ms[len(ms)-1].Seq
		default:
			// Everything up to head is in this page or not for this user.
			p.Next = max(head, dev.MsgSeq)
		}
		p.Messages = ms
		return nil
	})
	return p, internal("sync", err)
}

// confirm raises the device's position on counter c to ack and returns
// the device, creating it on first sight.
func (s *Service) confirm(ctx context.Context, actor Actor, c string, ack int64) (Device, error) {
	if err := checkDevice(actor.Device); err != nil {
		return Device{}, err
	}
	var dev Device
	err := s.read(ctx, "device", func(tx Tx) error {
		var err error
		dev, err = tx.Device(ctx, actor.User, actor.Device)
		return err
	})
	found := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Device{}, internal("device", err)
	}
	pos := &dev.MsgSeq
	if c == SeqStats {
		pos = &dev.StatSeq
	}
	if found && ack <= *pos {
		return dev, nil
	}
	err = s.write(ctx, "confirm", func(tx Tx) error {
		d, err := tx.Device(ctx, actor.User, actor.Device)
		if errors.Is(err, ErrNotFound) {
			d, err = s.newDevice(ctx, tx, actor)
		}
		if err != nil {
			return err
		}
		head, err := tx.HeadSeq(ctx, c)
		if err != nil {
			return err
		}
		if ack > head {
			return Errorf(CodeBadRequest, "ack %d is beyond the stream's head", ack)
		}
		p := &d.MsgSeq
		if c == SeqStats {
			p = &d.StatSeq
		}
		*p = max(*p, ack)
		d.LastSeen = s.now()
		dev = d
		return tx.UpsertDevice(ctx, d)
	})
	return dev, internal("confirm", err)
}

// newDevice is the state of a device seen for the first time. The user's
// first device starts at 0: it receives everything sent to the user
// before they first connected (the vendors' "offline messages"). A later
// device starts where the user's furthest device is, so a new browser
// does not replay what the user has already seen elsewhere; the past is
// in History.
func (s *Service) newDevice(ctx context.Context, tx Tx, actor Actor) (Device, error) {
	msg, stat, err := tx.MaxDeviceSeqs(ctx, actor.User)
	if err != nil {
		return Device{}, err
	}
	return Device{UserID: actor.User, ID: actor.Device, MsgSeq: msg, StatSeq: stat, LastSeen: s.now()}, nil
}

// StatsPage is a page of the receipt statistics of a device: the
// receipt-requesting messages of the user whose count changed since the
// device last confirmed.
type StatsPage struct {
	Entries []ReceiptCount
	Next    int64 // confirm with this as ack
	More    bool
}

// ReceiptStats confirms the device's statistics position ack and returns
// the next changes after it, each with the message's current count,
// latest reader and time.
func (s *Service) ReceiptStats(ctx context.Context, actor Actor, ack int64, limit int) (StatsPage, error) {
	limit, err := pageSize(limit, 500, 1000)
	if err != nil {
		return StatsPage{}, err
	}
	if ack < 0 {
		return StatsPage{}, Errorf(CodeBadRequest, "ack must not be negative")
	}
	dev, err := s.confirm(ctx, actor, SeqStats, ack)
	if err != nil {
		return StatsPage{}, err
	}
	var p StatsPage
	err = s.read(ctx, "stats", func(tx Tx) error {
		head, err := tx.HeadSeq(ctx, SeqStats)
		if err != nil {
			return err
		}
		cs, err := tx.StatsSince(ctx, actor.User, dev.StatSeq, limit+1)
		if err != nil {
			return err
		}
		for i, c := range cs {
			if c.StatSeq > head {
				cs = cs[:i]
				break
			}
		}
		p.More = len(cs) > limit
		if p.More {
			cs = cs[:limit]
		}
		if n := pageCut(cs, s.cfg.MaxPageBytes, countSize); n < len(cs) {
			cs, p.More = cs[:n], true
		}
		if p.More {
			p.Next = cs[len(cs)-1].StatSeq
		} else {
			p.Next = max(head, dev.StatSeq)
		}
		// Past the position either way, but shown only where the sender
		// may still see its receipts (maySeeReceipts).
		p.Entries, err = visibleStats(ctx, tx, actor, cs)
		return err
	})
	return p, internal("stats", err)
}

// visibleStats keeps the entries of cs whose receipts the actor may see:
// those of groups it is still a member of (a destroyed group has none).
// One membership lookup per group of the page.
func visibleStats(ctx context.Context, tx Tx, actor Actor, cs []ReceiptCount) ([]ReceiptCount, error) {
	mems := make(map[GroupID]*Member)
	out := cs[:0]
	for _, c := range cs {
		mem, done := mems[c.Group]
		if !done {
			var err error
			if mem, err = memberOf(ctx, tx, c.Group, actor.User); err != nil {
				return nil, err
			}
			mems[c.Group] = mem
		}
		// A membership means the group is live: destroying it deletes them.
		msg := Message{ID: c.Msg, ChatType: GroupChat, Group: c.Group, From: c.Sender, AllowGroupAck: true}
		if maySeeReceipts(actor, c.Group, c.Msg, &msg, mem != nil, mem) == nil {
			out = append(out, c)
		}
	}
	return out, nil
}

// ConvPage is a page of the conversation list.
type ConvPage struct {
	Conversations []Conversation
	Next          string
}

// Conversations lists the actor's conversations, newest activity first,
// with the last message and the unread count.
func (s *Service) Conversations(ctx context.Context, actor Actor, cursor string, limit int) (ConvPage, error) {
	limit, err := pageSize(limit, 20, 100)
	if err != nil {
		return ConvPage{}, err
	}
	var before int64
	if cursor != "" {
		if before, err = strconv.ParseInt(cursor, 10, 64); err != nil || before <= 0 {
			return ConvPage{}, Errorf(CodeBadRequest, "malformed cursor %q", cursor)
		}
	}
	var p ConvPage
	err = s.read(ctx, "conversations", func(tx Tx) error {
		cs, err := tx.Conversations(ctx, actor.User, before, limit+1)
		if err != nil {
			return err
		}
		more := len(cs) > limit
		if more {
			cs = cs[:limit]
		}
		var last []Message
		var peers []UserID
		for _, c := range cs {
			if c.Last != nil {
				last = append(last, *c.Last)
			}
			if c.ChatType == SingleChat {
				peers = append(peers, c.Peer)
			}
		}
		if err := present(ctx, tx, actor, last); err != nil {
			return err
		}
		names, err := userNames(ctx, tx, peers)
		if err != nil {
			return err
		}
		j := 0
		for i := range cs {
			if cs[i].Last != nil {
				m := last[j]
				cs[i].Last = &m
				j++
			}
			cs[i].PeerName = names[cs[i].Peer]
		}
		if n := pageCut(cs, s.cfg.MaxPageBytes, convSize); n < len(cs) {
			cs, more = cs[:n], true
		}
		if more {
			p.Next = strconv.FormatInt(cs[len(cs)-1].LastSeq, 10)
		}
		p.Conversations = cs
		return nil
	})
	return p, internal("conversations", err)
}

// AckConversation is the conversation ack ("channel"): it marks the whole
// conversation read for the actor on all their devices. In a single chat
// the peer is told with a stored channel receipt, when the actor had
// something unread (see checkChannel); in a group it also acknowledges
// every receipt-requesting message of the group up to now that the actor
// has not acknowledged yet. It returns how many such receipts were
// counted.
func (s *Service) AckConversation(ctx context.Context, actor Actor, ct ChatType, with string) (int, error) {
	var conv string
	var peer User
	var mem Member
	var c Conversation
	found := false
	err := s.read(ctx, "conversation", func(tx Tx) error {
		var err error
		conv, peer, mem, err = s.convOf(ctx, tx, actor, ct, with)
		if err != nil {
			return err
		}
		c, err = tx.Conversation(ctx, actor.User, conv)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		found = err == nil
		return err
	})
	if err != nil {
		return 0, internal("ack conversation", err)
	}
	if !found || c.LastSeq == 0 {
		return 0, nil
	}
	if ct == SingleChat {
		if c.Unread == 0 && c.ReadSeq >= c.LastSeq {
			return 0, nil // nothing to move, nothing to tell
		}
		// The read position, the decision and the receipt are one write
		// in the message batch (checkChannel), ordered with the messages.
		return 0, s.storeReceipt(ctx, actor, peerReceiptMessage(actor, peer, TypeChannel))
	}
	err = s.write(ctx, "set_read_seq", func(tx Tx) error { return tx.SetReadSeq(ctx, actor.User, conv, c.LastSeq) })
	if err != nil {
		return 0, internal("ack conversation", err)
	}
	s.publish(UserTopic(actor.User), Event{Kind: EventConvRead, ConvRead: &ConvReadEvent{
		User: actor.User, ChatType: ct, Group: mem.Group, Seq: c.LastSeq, Device: actor.Device, Conn: actor.Conn,
	}})
	return s.ackAllReceipts(ctx, actor, mem, c.LastSeq)
}

// ackAllReceipts acknowledges, page by page, the receipt-requesting
// messages of the member's group up to upto that it has not acknowledged.
func (s *Service) ackAllReceipts(ctx context.Context, actor Actor, mem Member, upto int64) (int, error) {
	counted := 0
	since := mem.JoinSeq
	for {
		var ms []Message
		err := s.read(ctx, "unread_receipt_msgs", func(tx Tx) error {
			var err error
			ms, err = tx.UnreadReceiptMsgs(ctx, mem.Group, actor.User, since, upto, MaxAckBatch)
			return err
		})
		if err != nil {
			return counted, internal("ack conversation", err)
		}
		if len(ms) == 0 {
			return counted, nil
		}
		items := make([]AckItem, len(ms))
		for i, m := range ms {
			items[i] = AckItem{Msg: m.ID}
		}
		rs, err := s.Ack(ctx, actor, mem.Group, items)
		if err != nil {
			return counted, err
		}
		for _, r := range rs {
			if r.Counted {
				counted++
			}
		}
		since = ms[len(ms)-1].Seq
		if len(ms) < MaxAckBatch {
			return counted, nil
		}
	}
}
