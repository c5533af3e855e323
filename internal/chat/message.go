package chat

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"time"
)

// Outgoing is a message as a client sends it.
type Outgoing struct {
	LocalID     string
	Type        MsgType
	ChatType    ChatType
	To          string // single chat: the peer's username; group chat: the group id
	Text        string
	CustomEvent string
	CustomExts  json.RawMessage
	Ext         json.RawMessage
	// AllowGroupAck asks for read receipts; it applies to group messages
	// and is ignored on single-chat messages, as the vendors do.
	AllowGroupAck bool
}

// sendReq is one request of the message batcher: a message, or a
// single-chat receipt (msg.Type.IsReceipt), which takes its place in the
// message stream the same way. The batch decides it into a sendItem and
// writes msg back only once the batch committed.
type sendReq struct {
	result
	actor Actor
	msg   *Message
}

// Send stores a message and returns it with its server id, sequence and
// time once it is committed; then it is pushed to every online device of
// its recipients and of the sender (but the sending device). Resending
// the same (sender, local id) returns the first message and stores
// nothing.
func (s *Service) Send(ctx context.Context, actor Actor, o Outgoing) (Message, error) {
	m, err := s.checkOutgoing(ctx, actor, o)
	if err != nil {
		return Message{}, err
	}
	r := &sendReq{result: newResult(), actor: actor, msg: m}
	if err := s.msgs.submit(ctx, r); err != nil {
		return Message{}, err
	}
	if err := r.wait(ctx); err != nil {
		return Message{}, err
	}
	return *r.msg, nil
}

// checkOutgoing validates what needs no transaction.
func (s *Service) checkOutgoing(ctx context.Context, actor Actor, o Outgoing) (*Message, error) {
	if len(o.LocalID) < 1 || len(o.LocalID) > 64 {
		return nil, Errorf(CodeBadRequest, "local message id must be 1-64 characters")
	}
	if err := checkText("localId", o.LocalID, 0); err != nil {
		return nil, err
	}
	if isReceiptLocalID(o.LocalID) {
		return nil, Errorf(CodeBadRequest, "local message ids beginning with read:, delivery: or channel: are reserved for receipts")
	}
	m := &Message{
		LocalID: o.LocalID, Type: o.Type, ChatType: o.ChatType, From: actor.User, FromName: actor.Name,
		Ext: nullIfEmpty(o.Ext), OriginDevice: actor.Device, OriginConn: actor.Conn, ReadCount: -1,
	}
	size := len(o.Ext)
	switch o.Type {
	case TypeText:
		if o.Text == "" {
			return nil, Errorf(CodeBadRequest, "a text message needs a non-empty msg")
		}
		if o.CustomEvent != "" || len(o.CustomExts) > 0 {
			return nil, Errorf(CodeBadRequest, "customEvent and customExts belong to custom messages")
		}
		if err := checkText("msg", o.Text, 0); err != nil {
			return nil, err
		}
		m.Text = o.Text
		size += len(o.Text)
	case TypeCustom:
		if o.CustomEvent == "" || len(o.CustomEvent) > 256 {
			return nil, Errorf(CodeBadRequest, "a custom message needs a customEvent of 1-256 bytes")
		}
		if o.Text != "" {
			return nil, Errorf(CodeBadRequest, "a custom message carries customEvent and customExts, not msg")
		}
		if err := checkText("customEvent", o.CustomEvent, 0); err != nil {
			return nil, err
		}
		m.CustomEvent, m.CustomExts = o.CustomEvent, nullIfEmpty(o.CustomExts)
		size += len(o.CustomEvent) + len(o.CustomExts)
		if err := checkObject("customExts", o.CustomExts, s.cfg.MaxMessageBytes); err != nil {
			return nil, err
		}
	default:
		return nil, Errorf(CodeBadRequest, "message type %q is not txt or custom", o.Type)
	}
	if size > s.cfg.MaxMessageBytes {
		return nil, Errorf(CodeTooLarge, "message is %d bytes, over the limit of %d", size, s.cfg.MaxMessageBytes)
	}
	if err := checkObject("ext", o.Ext, s.cfg.MaxMessageBytes); err != nil {
		return nil, err
	}
	switch o.ChatType {
	case SingleChat:
		peer, err := s.userByName(ctx, o.To)
		if err != nil {
			return nil, err
		}
		m.To, m.ToName, m.Conv = peer.ID, peer.Name, SingleConv(actor.User, peer.ID)
	case GroupChat:
		g, err := ParseGroupID(o.To)
		if err != nil {
			return nil, err
		}
		m.Group, m.ToName, m.Conv = g, g.String(), GroupConv(g)
		m.AllowGroupAck = o.AllowGroupAck
	default:
		return nil, Errorf(CodeBadRequest, "chatType %q is not singleChat or groupChat", o.ChatType)
	}
	return m, nil
}

func nullIfEmpty(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return raw
}

type localKey struct {
	from UserID
	id   string
}

// commitMessages is the message batcher's commit: one transaction, one
// sequence reservation, for the whole batch; if that fails, the batch is
// split to find the request that made it fail (commitIsolated).
func (s *Service) commitMessages(batch []*sendReq) {
	s.metrics.BatchSize("send", len(batch))
	ctx, cancel := s.batchContext()
	defer cancel()
	commitIsolated(batch,
		func(b []*sendReq) error { return s.storeMessages(ctx, b) },
		func(r *sendReq, err error) { r.done(internal("send", err)) },
		func() error { return s.probe(ctx) })
}

// sendItem is one request of a message batch as the batch decides it.
// Each commit decides afresh from the request (commitIsolated retries
// subsets), and the requests are answered from their items once the
// batch committed.
type sendItem struct {
	req *sendReq
	msg Message // the request's message, as the batch stores it
	err error   // a rule refused it
	// dupOf is the earlier item of the batch with the same local id, or
	// the message stored before under it: this one is a repeat of it.
	dupOf *sendItem
	// none is set on a receipt that says nothing new (a channel ack of
	// a conversation with nothing unread): accepted and not stored.
	none bool
	// readSeq is, for a channel receipt, the conversation head its ack
	// moved the reader's read position to (0: the conversation is empty).
	readSeq int64
	// eligible is, for a receipt-requesting message, its eligible readers
	// at send (countEligible).
	eligible int
}

// storeMessages commits a batch of the message batcher in one transaction
// (sendBatch) and, if it committed, answers its requests and publishes
// what it stored (answerSends).
func (s *Service) storeMessages(ctx context.Context, batch []*sendReq) error {
	var items []*sendItem
	commit := func(tx Tx) (err error) {
		items, err = s.sendBatch(ctx, tx, batch)
		return err
	}
	err := s.write(ctx, "send", commit)
	if errors.Is(err, ErrConflict) {
		// Another node committed a local id this batch had checked (the
		// same message resent, or the same receipt from two devices, at
		// once). Once more: now it is found, and answered as a repeat.
		err = s.write(ctx, "send", commit)
	}
	if err != nil {
		return err
	}
	s.answerSends(items)
	return nil
}

// sendBatch is the transaction of a message batch: share-lock the groups
// of those asking for receipts, decide each request (repeats and rules),
// count the eligible readers of those asking for receipts, reserve the
// batch's sequence numbers, decide the channel acks holding the counter,
// and store the messages.
func (s *Service) sendBatch(ctx context.Context, tx Tx, batch []*sendReq) ([]*sendItem, error) {
	items := make([]*sendItem, len(batch))
	for i, r := range batch {
		items[i] = &sendItem{req: r, msg: *r.msg}
	}
	if err := shareReceiptGroups(ctx, tx, items); err != nil {
		return nil, err
	}
	fresh, channels, err := s.decideSends(ctx, tx, items)
	if err != nil {
		return nil, err
	}
	if len(fresh)+len(channels) == 0 {
		return items, nil // every request refused or a repeat: nothing to write
	}
	if err := countEligible(ctx, tx, fresh); err != nil {
		return nil, err
	}
	first, err := tx.NextSeq(ctx, SeqMessages, len(fresh)+len(channels))
	if err != nil {
		return nil, err
	}
	// Channel acks are decided holding the counter, which serializes
	// every writer of the message stream on every node, so the read
	// position and unread state they read and move cannot change under
	// them (they take no row lock; the group locks of shareReceiptGroups,
	// like a reminder's, come before the counter: no writer takes a
	// group's lock while holding the counter, so none can deadlock). One that
	// stores nothing leaves its number unused: a gap, which no reader of
	// the stream can tell from another user's message.
	for _, it := range channels {
		if err := s.checkChannel(ctx, tx, it); err != nil {
			return nil, err
		}
		if !it.none {
			fresh = append(fresh, it)
		}
	}
	if err := s.insertMessages(ctx, tx, fresh, first); err != nil {
		return nil, err
	}
	return items, nil
}

// decideSends applies to each item but the channel acks what needs the
// store: whether it repeats a message stored before or one earlier in
// the batch (same sender and local id), and the rules (checkSend). It
// returns the items to store and the channel acks, still to decide.
func (s *Service) decideSends(ctx context.Context, tx Tx, items []*sendItem) (fresh, channels []*sendItem, err error) {
	byLocal := make(map[localKey]*sendItem, len(items))
	since := s.now().Add(-24 * time.Hour)
	dailyUsed := make(map[UserID]int)
	for _, it := range items {
		m := &it.msg
		if m.Type == TypeChannel {
			channels = append(channels, it) // decided holding the counter
			continue
		}
		// A receipt whose local id a legacy message holds has none
		// (below): it is nobody's repeat.
		k := localKey{m.From, m.LocalID}
		if prev, ok := byLocal[k]; ok && k.id != "" {
			it.dupOf = prev
			continue
		}
		prev, err := tx.MessageByLocalID(ctx, m.From, m.LocalID)
		if err == nil && m.Type.IsReceipt() && (prev.Type != m.Type || prev.AckMsg != m.AckMsg) {
			// A message sent before receipt local ids were reserved
			// holds this one: store the receipt without a local id
			// rather than lose it.
			m.LocalID, err = "", ErrNotFound
		}
		if err == nil {
			it.dupOf = &sendItem{msg: prev}
			continue
		}
		if !errors.Is(err, ErrNotFound) {
			return nil, nil, err
		}
		if err := s.checkSend(ctx, tx, m, since, dailyUsed); err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code == CodeInternal {
				return nil, nil, err
			}
			it.err = err
			continue
		}
		byLocal[k] = it
		fresh = append(fresh, it)
	}
	return fresh, channels, nil
}

// shareReceiptGroups takes the share lock of the group of every item
// asking for receipts, in id order, before anything of the batch is read.
// It waits for the joins, leaves, role changes and privacy switches on
// under way (each holds the group's row lock: manage, SetSettings), and
// makes those that come later wait until the batch commits: so the rules
// (membership, role: checkSend) and the eligible count (countEligible)
// hold at commit. A group that does not exist is left to checkSend.
func shareReceiptGroups(ctx context.Context, tx Tx, items []*sendItem) error {
	var groups []GroupID
	for _, it := range items {
		if it.msg.AllowGroupAck && it.msg.ChatType == GroupChat {
			groups = append(groups, it.msg.Group)
		}
	}
	slices.Sort(groups)
	for _, g := range slices.Compact(groups) {
		if err := tx.ShareGroup(ctx, g); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}

// countEligible takes the eligible snapshot (ReceiptCount.Eligible) of
// each receipt-requesting item: its eligible readers at send, counted
// before the batch takes the message counter, so that the counter, which
// every writer of the message stream on every node waits for, is held
// only for the inserts, not for a count over each group's members.
//
// It is exact for joins, leaves and receipts turned on, as eligibleReader
// decides with the Seq the message will get: under the share locks of
// shareReceiptGroups, the members counted are the members at commit, each
// with JoinSeq and ReceiptsSince at most the head committed before the
// batch, below the Seq it gets; a member who joins or turns receipts on
// later reads a head at or past that Seq. The Seq is not known yet: with
// no join or switch able to commit in between, math.MaxInt64 bounds the
// same members. Nobody has read the message, so its unread total (of no
// message id) is the count. Turning receipts off takes no group lock: a
// member who does so while the batch commits may be counted, which is the
// documented case of a member on at send who turns receipts off
// afterwards (docs/receipts.md, "Privacy").
func countEligible(ctx context.Context, tx Tx, items []*sendItem) error {
	for _, it := range items {
		if !it.msg.AllowGroupAck {
			continue
		}
		n, err := tx.UnreadTotal(ctx, it.msg.Group, 0, math.MaxInt64, it.msg.From)
		if err != nil {
			return err
		}
		it.eligible = n
	}
	return nil
}

// insertMessages numbers the items from first, in order, and stores their
// messages, with the receipt state of those asking for receipts.
func (s *Service) insertMessages(ctx context.Context, tx Tx, items []*sendItem, first int64) error {
	if len(items) == 0 {
		return nil
	}
	ms := make([]*Message, len(items))
	now := s.now()
	for i, it := range items {
		it.msg.ID = MsgID(s.ids.Next())
		it.msg.Seq = first + int64(i)
		it.msg.SentAt = now
		ms[i] = &it.msg
	}
	if err := tx.InsertMessages(ctx, ms); err != nil {
		return err
	}
	for _, it := range items {
		if m := &it.msg; m.AllowGroupAck {
			m.ReadCount = 0
			c := ReceiptCount{Msg: m.ID, Group: m.Group, Sender: m.From, Eligible: it.eligible}
			if err := tx.InsertReceiptCount(ctx, c); err != nil {
				return err
			}
		}
	}
	return nil
}

// answerSends answers the requests of a committed batch from their items
// and publishes what it stored: messages to their recipients, receipts to
// their peers, and the read position a channel ack moved to the actor's
// devices.
func (s *Service) answerSends(items []*sendItem) {
	for _, it := range items {
		r := it.req
		if it.readSeq > 0 && it.err == nil {
			s.publish(UserTopic(r.actor.User), Event{Kind: EventConvRead, ConvRead: &ConvReadEvent{
				User: r.actor.User, ChatType: SingleChat, Peer: it.msg.ToName, Seq: it.readSeq, Device: r.actor.Device, Conn: r.actor.Conn,
			}})
		}
		switch {
		case it.err != nil:
			r.done(it.err)
		case it.none:
			r.done(nil)
		case it.dupOf != nil:
			if it.dupOf.err != nil {
				r.done(it.dupOf.err)
				continue
			}
			dup := it.dupOf.msg
			dup.FromName, dup.ToName, dup.OriginDevice, dup.OriginConn = it.msg.FromName, it.msg.ToName, it.msg.OriginDevice, it.msg.OriginConn
			if dup.ChatType == GroupChat {
				dup.ToName = dup.Group.String()
			}
			*r.msg = dup
			r.done(nil)
		case it.msg.Type.IsReceipt():
			*r.msg = it.msg
			s.publishPeerReceipt(r.msg)
			r.done(nil)
		default:
			*r.msg = it.msg
			s.metrics.MessageSent(r.msg.ChatType)
			s.publishMessage(r.msg)
			r.done(nil)
		}
	}
}

// checkSend applies the rules that need the store to message m: the
// sender of a group message must be a member, and one asking for receipts
// may (mayRequestReceipts). dailyUsed counts, per sender, the
// receipt-requesting messages of the last 24 hours (since), those of the
// batch included. Called inside the batch's transaction.
func (s *Service) checkSend(ctx context.Context, tx Tx, m *Message, since time.Time, dailyUsed map[UserID]int) error {
	if m.ChatType != GroupChat {
		return nil
	}
	g, err := loadGroup(ctx, tx, m.Group)
	if err != nil {
		return err
	}
	mem, err := tx.Member(ctx, g.ID, m.From)
	if errors.Is(err, ErrNotFound) {
		return Errorf(CodeNotMember, "you are not a member of group %s", g.ID)
	}
	if err != nil {
		return err
	}
	if !m.AllowGroupAck {
		return nil
	}
	sentToday := func() (int, error) {
		n, ok := dailyUsed[m.From]
		if !ok {
			if n, err = tx.CountReceiptMsgsSince(ctx, m.From, since); err != nil {
				return 0, err
			}
		}
		// Counts this one: if the rule refuses it, the sender is at the
		// limit, and stays there for the rest of the batch anyway.
		dailyUsed[m.From] = n + 1
		return n, nil
	}
	return mayRequestReceipts(s.cfg, g, mem, sentToday)
}

func (s *Service) publishMessage(m *Message) {
	ev := Event{Kind: EventMessage, Message: m}
	if m.ChatType == GroupChat {
		s.publish(GroupTopic(m.Group), ev)
		return
	}
	s.publish(UserTopic(m.To), ev)
	if m.To != m.From {
		s.publish(UserTopic(m.From), ev)
	}
}

// present prepares messages read from the store for the actor: names,
// and the read counts of the receipt-requesting messages it sent.
func present(ctx context.Context, tx Tx, actor Actor, ms []Message) error {
	if err := fillNames(ctx, tx, ms); err != nil {
		return err
	}
	return fillReadCounts(ctx, tx, actor, ms)
}

// fillNames sets FromName and ToName of messages read from the store:
// ToName is the peer of a single chat, the member a reminder is to, and
// the group's id otherwise. From 0 (the administrator) has no name.
func fillNames(ctx context.Context, tx Tx, ms []Message) error {
	ids := make([]UserID, 0, 2*len(ms))
	for _, m := range ms {
		ids = append(ids, m.From)
		if m.ChatType == SingleChat || m.Type == TypeRemind {
			ids = append(ids, m.To)
		}
	}
	names, err := userNames(ctx, tx, ids)
	if err != nil {
		return err
	}
	for i := range ms {
		ms[i].FromName = names[ms[i].From]
		if ms[i].ChatType == SingleChat || ms[i].Type == TypeRemind {
			// A reminder is to one member of the group (Remind).
			ms[i].ToName = names[ms[i].To]
		} else {
			ms[i].ToName = ms[i].Group.String()
		}
		ms[i].ReadCount = -1
	}
	return nil
}

func userNames(ctx context.Context, tx Tx, ids []UserID) (map[UserID]string, error) {
	uniq := make([]UserID, 0, len(ids))
	seen := make(map[UserID]bool, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			uniq = append(uniq, id)
		}
	}
	us, err := tx.UsersByID(ctx, uniq)
	if err != nil {
		return nil, err
	}
	names := make(map[UserID]string, len(us))
	for _, u := range us {
		names[u.ID] = u.Name
	}
	return names, nil
}

// convOf resolves what a client names a conversation by: a peer's
// username (single chat) or a group id (group chat). For a group the actor
// must be a member.
func (s *Service) convOf(ctx context.Context, tx Tx, actor Actor, ct ChatType, with string) (conv string, peer User, mem Member, err error) {
	switch ct {
	case SingleChat:
		us, err := usersByName(ctx, tx, []string{with})
		if err != nil {
			return "", User{}, Member{}, err
		}
		return SingleConv(actor.User, us[0].ID), us[0], Member{}, nil
	case GroupChat:
		g, err := ParseGroupID(with)
		if err != nil {
			return "", User{}, Member{}, err
		}
		if _, err := loadGroup(ctx, tx, g); err != nil {
			return "", User{}, Member{}, err
		}
		mem, err := tx.Member(ctx, g, actor.User)
		if errors.Is(err, ErrNotFound) {
			return "", User{}, Member{}, Errorf(CodeNotMember, "you are not a member of group %s", g)
		}
		if err != nil {
			return "", User{}, Member{}, err
		}
		return GroupConv(g), User{}, mem, nil
	}
	return "", User{}, Member{}, Errorf(CodeBadRequest, "chatType %q is not singleChat or groupChat", ct)
}

// HistoryQuery names a conversation and a page of its history.
type HistoryQuery struct {
	ChatType ChatType
	With     string // peer username or group id
	Cursor   string // "" starts at the newest (older) or oldest (newer) message
	Limit    int    // default 20, at most 100
	Newer    bool   // page towards newer messages instead of older
}

// HistoryPage is a page of history: newest first when paging older,
// oldest first when paging newer.
type HistoryPage struct {
	Messages []Message
	Cursor   string // pass back for the next page
	IsLast   bool
}

// History pages through one conversation. Group history is readable by
// current members, from the group's first message. Receipt-requesting
// messages the actor sent carry their read count; single-chat messages it
// sent, whether the peer has read and received them (fillPeerState).
func (s *Service) History(ctx context.Context, actor Actor, q HistoryQuery) (HistoryPage, error) {
	limit, err := pageSize(q.Limit, 20, 100)
	if err != nil {
		return HistoryPage{}, err
	}
	var pivot int64
	if q.Cursor != "" {
		if pivot, err = strconv.ParseInt(q.Cursor, 10, 64); err != nil || pivot < 0 {
			return HistoryPage{}, Errorf(CodeBadRequest, "malformed cursor %q", q.Cursor)
		}
	} else if !q.Newer {
		pivot = 1<<63 - 1
	}
	var p HistoryPage
	err = s.read(ctx, "history", func(tx Tx) error {
		conv, peer, _, err := s.convOf(ctx, tx, actor, q.ChatType, q.With)
		if err != nil {
			return err
		}
		ms, err := tx.History(ctx, conv, pivot, !q.Newer, limit+1)
		if err != nil {
			return err
		}
		p.IsLast = len(ms) <= limit
		if !p.IsLast {
			ms = ms[:limit]
		}
		if err := present(ctx, tx, actor, ms); err != nil {
			return err
		}
		if n := pageCut(ms, s.cfg.MaxPageBytes, messageSize); n < len(ms) {
			ms, p.IsLast = ms[:n], false
		}
		if len(ms) > 0 {
			p.Cursor = strconv.FormatInt(ms[len(ms)-1].Seq, 10)
		} else {
			p.Cursor = q.Cursor
		}
		if q.ChatType == SingleChat {
			if err := fillPeerState(ctx, tx, actor, peer.ID, conv, ms); err != nil {
				return err
			}
		}
		p.Messages = ms
		return nil
	})
	return p, internal("history", err)
}

// fillReadCounts sets ReadCount on the receipt-requesting messages the
// actor sent.
func fillReadCounts(ctx context.Context, tx Tx, actor Actor, ms []Message) error {
	var ids []MsgID
	for _, m := range ms {
		if m.AllowGroupAck && m.From == actor.User {
			ids = append(ids, m.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	cs, err := tx.ReceiptCounts(ctx, ids)
	if err != nil {
		return err
	}
	counts := make(map[MsgID]int, len(cs))
	for _, c := range cs {
		counts[c.Msg] = c.Count
	}
	for i := range ms {
		if n, ok := counts[ms[i].ID]; ok {
			ms[i].ReadCount = n
		}
	}
	return nil
}
