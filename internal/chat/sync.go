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
	p, err := follow(ctx, s, actor, ack, limit, stream[Message]{
		op: "sync", counter: SeqMessages, defaultLimit: 100, maxLimit: MaxSyncPage,
		pos: func(d Device) int64 { return d.MsgSeq },
		read: func(ctx context.Context, tx Tx, after int64, n int) ([]Message, error) {
			return tx.SyncMessages(ctx, actor.User, after, n)
		},
		seq:     func(m *Message) int64 { return m.Seq },
		size:    messageSize,
		prepare: func(ctx context.Context, tx Tx, ms []Message) error { return present(ctx, tx, actor, ms) },
	})
	return SyncPage{Messages: p.items, Next: p.next, More: p.more}, err
}

// A stream describes one of a device's gap-free streams for follow: the
// message stream (Sync) and the receipt statistics (ReceiptStats).
type stream[T any] struct {
	op      string // the name of its read, for metrics and errors
	counter string // its sequence counter: SeqMessages or SeqStats
	// pos is the device's confirmed position on the stream.
	pos func(Device) int64
	// defaultLimit and maxLimit bound a page's items.
	defaultLimit, maxLimit int
	// read returns at most n items with a position above after, in
	// order of position.
	read func(ctx context.Context, tx Tx, after int64, n int) ([]T, error)
	seq  func(*T) int64 // an item's position
	size func(*T) int   // an item's estimated encoded size (pageCut)
	// prepare, when set, completes the items of a page before they are
	// measured.
	prepare func(ctx context.Context, tx Tx, items []T) error
	// show, when set, keeps the items of a page the actor may see; the
	// page's position passes the others all the same.
	show func(ctx context.Context, tx Tx, items []T) ([]T, error)
}

// streamPage is a page of a stream: its items, the position to confirm
// once they are processed, and whether more follow.
type streamPage[T any] struct {
	items []T
	next  int64
	more  bool
}

// follow is the one stream-following algorithm of Sync and ReceiptStats.
// It confirms the device's position ack on the stream's counter (confirm),
// then reads, in one snapshot, the counter's head and the items after
// the device's position, keeping only those at or below the head (an
// item committed after the head was read comes next time), at most limit
// of them and within the page budget (MaxPageBytes). The page's position
// is the last item's when more follow, else the head: everything up to
// it is in the page or not the device's, so no item is skipped.
func follow[T any](ctx context.Context, s *Service, actor Actor, ack int64, limit int, st stream[T]) (streamPage[T], error) {
	limit, err := pageSize(limit, st.defaultLimit, st.maxLimit)
	if err != nil {
		return streamPage[T]{}, err
	}
	if ack < 0 {
		return streamPage[T]{}, Errorf(CodeBadRequest, "ack must not be negative")
	}
	dev, err := s.confirm(ctx, actor, st.counter, ack)
	if err != nil {
		return streamPage[T]{}, err
	}
	pos := st.pos(dev)
	var p streamPage[T]
	err = s.read(ctx, st.op, func(tx Tx) error {
		head, err := tx.HeadSeq(ctx, st.counter)
		if err != nil {
			return err
		}
		items, err := st.read(ctx, tx, pos, limit+1)
		if err != nil {
			return err
		}
		for i := range items {
			if st.seq(&items[i]) > head { // committed after head was read: next time
				items = items[:i]
				break
			}
		}
		p.more = len(items) > limit
		if p.more {
			items = items[:limit]
		}
		if st.prepare != nil {
			if err := st.prepare(ctx, tx, items); err != nil {
				return err
			}
		}
		if n := pageCut(items, s.cfg.MaxPageBytes, st.size); n < len(items) {
			items, p.more = items[:n], true
		}
		if len(items) > 0 && p.more {
			p.next = st.seq(&items[len(items)-1])
		} else {
			p.next = max(head, pos)
		}
		if st.show != nil {
			items, err = st.show(ctx, tx, items)
		}
		p.items = items
		return err
	})
	return p, internal(st.op, err)
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
	p, err := follow(ctx, s, actor, ack, limit, stream[ReceiptCount]{
		op: "stats", counter: SeqStats, defaultLimit: 500, maxLimit: 1000,
		pos: func(d Device) int64 { return d.StatSeq },
		read: func(ctx context.Context, tx Tx, after int64, n int) ([]ReceiptCount, error) {
			return tx.StatsSince(ctx, actor.User, after, n)
		},
		seq:  func(c *ReceiptCount) int64 { return c.StatSeq },
		size: countSize,
		// Past the position either way, but shown only where the sender
		// may still see its receipts (maySeeReceipts).
		show: func(ctx context.Context, tx Tx, cs []ReceiptCount) ([]ReceiptCount, error) {
			return visibleStats(ctx, tx, actor, cs)
		},
	})
	return StatsPage{Entries: p.items, Next: p.next, More: p.more}, err
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
		if maySeeReceipts(actor, c.Group, c.Msg, &msg, mem != nil, mem, senderView) == nil {
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

// ackAllReceipts is the rule that a group's conversation ack also
// acknowledges receipts: it acknowledges, page by page, the
// receipt-requesting messages of the member's group up to upto that it
// has not acknowledged. Tx.UnreadReceiptMsgs pre-filters them by
// eligibleReader (TestEligibleReaderSQL); Ack applies mayAck to each.
func (s *Service) ackAllReceipts(ctx context.Context, actor Actor, mem Member, upto int64) (int, error) {
	if !recordsReceipts(mem.ReceiptsOff) {
		return 0, nil // nothing would count: the own read state moved already
	}
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
