package chat

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Receipt limits.
const (
	// MaxAckBatch is the most messages one ack may name.
	MaxAckBatch = 100
	// MaxAckContent is the largest ackContent, in bytes.
	MaxAckContent = 1024
	// MaxCountBatch is the most messages one ReadCounts call may name.
	MaxCountBatch = 100
)

// AckItem acknowledges one message.
type AckItem struct {
	Msg     MsgID
	Content string
}

// AckResult is the outcome of one AckItem. Err is nil when the ack is
// accepted; Counted says whether it was the reader's first (a repeat is
// accepted and changes nothing). Count is the message's reader count after
// a counted ack.
type AckResult struct {
	Msg     MsgID
	Err     error
	Counted bool
	Count   int
}

// ackReq is one request of the ack batcher. results is set once the
// batch that holds it committed; then, or when it failed, reply is called.
type ackReq struct {
	actor   Actor
	group   GroupID
	items   []AckItem
	results []AckResult
	reply   func([]AckResult, error)
}

func (r *ackReq) done(err error) {
	if err != nil {
		r.reply(nil, err)
		return
	}
	r.reply(r.results, nil)
}

// Ack acknowledges up to MaxAckBatch receipt-requesting messages of one
// group as read by the actor. It returns once the acks are durable, with
// one result per item: an ack is accepted only if the message exists in
// that group, asked for receipts, and the actor was a member when it was
// sent and still is. The sender's own ack is accepted and not counted.
// It is AckAsync and a wait: if ctx ends first the acks may still commit
// (they are idempotent: the client retries).
func (s *Service) Ack(ctx context.Context, actor Actor, g GroupID, items []AckItem) ([]AckResult, error) {
	type outcome struct {
		results []AckResult
		err     error
	}
	ch := make(chan outcome, 1)
	if err := s.AckAsync(ctx, actor, g, items, func(rs []AckResult, err error) { ch <- outcome{rs, err} }); err != nil {
		return nil, err
	}
	select {
	case o := <-ch:
		return o.results, o.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// AckAsync is Ack without the wait, for a caller that must not spend a
// goroutine per request (a connection's read loop): it validates the
// items and queues them for the ack batcher, and returns an error, without
// ever calling done, when they are invalid or cannot be queued (the
// batcher is closed, or ctx ended while its queue was full: it blocks
// until there is room, which is the caller's backpressure). Otherwise
// done is called exactly once, with Ack's results or error, when the
// batch that holds them has committed or failed. done runs on the ack
// batcher's goroutine, which commits every ack of the node: it must be
// quick and must not block (encode a reply and queue it).
func (s *Service) AckAsync(ctx context.Context, actor Actor, g GroupID, items []AckItem, done func([]AckResult, error)) error {
	if len(items) == 0 || len(items) > MaxAckBatch {
		return Errorf(CodeBadRequest, "acknowledge 1-%d messages at a time", MaxAckBatch)
	}
	for i, it := range items {
		if it.Msg <= 0 {
			return Errorf(CodeBadRequest, "message id must be positive")
		}
		if err := checkText("ackContent", it.Content, MaxAckContent); err != nil {
			return Errorf(ErrorCode(err), "item %d: %s", i, ErrorMessage(err))
		}
	}
	return s.acks.submit(ctx, &ackReq{actor: actor, group: g, items: items, reply: done})
}

type memberKey struct {
	g GroupID
	u UserID
}

// commitAcks is the ack batcher's commit, the hot path. Its work is
// independent of group size and history: one lookup of the batch's
// messages, one of the readers' memberships per group (and of the group
// itself only where no reader has a membership), one insert of the
// reads, one count update per message, one commit. If that fails, the
// batch is split to find the request that made it fail (commitIsolated).
func (s *Service) commitAcks(batch []*ackReq) {
	s.metrics.BatchSize("ack", len(batch))
	ctx, cancel := s.batchContext()
	defer cancel()
	commitIsolated(batch,
		func(b []*ackReq) error { return s.storeAcks(ctx, b) },
		func(r *ackReq, err error) { r.done(internal("ack", err)) },
		func() error { return s.probe(ctx) })
}

// ackOutcome is what the transaction of an ack batch decided and wrote:
// the results of each request, in batch order, the read-count pushes to
// queue, and how many acks counted.
type ackOutcome struct {
	results [][]AckResult
	pushes  []ReceiptPush
	counted int
}

// storeAcks commits a batch of the ack batcher in one transaction
// (ackBatch) and, if it committed, answers its requests and queues the
// read-count pushes.
func (s *Service) storeAcks(ctx context.Context, batch []*ackReq) error {
	var out ackOutcome
	err := s.write(ctx, "ack", func(tx Tx) (err error) {
		out, err = s.ackBatch(ctx, tx, batch)
		return err
	})
	if err != nil {
		return err
	}
	s.metrics.AcksCounted(out.counted)
	for i, r := range batch {
		r.results = out.results[i]
		r.done(nil)
	}
	for _, p := range out.pushes {
		s.pushes.update(p)
	}
	return nil
}

// ackBatch is the transaction of an ack batch: load what the rules need
// (loadAckFacts), decide each item (decideAcks), store the reads to count
// and their counts (countReads).
func (s *Service) ackBatch(ctx context.Context, tx Tx, batch []*ackReq) (ackOutcome, error) {
	facts, err := loadAckFacts(ctx, tx, batch)
	if err != nil {
		return ackOutcome{}, err
	}
	out, reads := s.decideAcks(batch, facts)
	if err := s.countReads(ctx, tx, facts, reads, &out); err != nil {
		return ackOutcome{}, err
	}
	return out, nil
}

// ackFacts is what the rules of an ack batch read from the store.
type ackFacts struct {
	msgs    map[MsgID]*Message   // the messages acked that exist
	members map[memberKey]Member // the readers' and the senders' memberships
	live    map[GroupID]bool     // whether each group acked in exists
}

// member returns u's membership of g, nil if it has none.
func (f ackFacts) member(g GroupID, u UserID) *Member {
	if m, ok := f.members[memberKey{g, u}]; ok {
		return &m
	}
	return nil
}

// loadAckFacts loads the facts of a batch with a cost independent of
// group size and history: one lookup of the batch's messages, one of the
// readers' and senders' memberships per group, and one of a group only
// where no reader has a membership.
func loadAckFacts(ctx context.Context, tx Tx, batch []*ackReq) (ackFacts, error) {
	var ids []MsgID
	idSet := make(map[MsgID]bool)
	for _, r := range batch {
		for _, it := range r.items {
			if !idSet[it.Msg] {
				idSet[it.Msg] = true
				ids = append(ids, it.Msg)
			}
		}
	}
	found, err := tx.MessagesByID(ctx, ids)
	if err != nil {
		return ackFacts{}, err
	}
	f := ackFacts{msgs: make(map[MsgID]*Message, len(found)), members: make(map[memberKey]Member)}
	for i := range found {
		f.msgs[found[i].ID] = &found[i]
	}
	// The readers' memberships, one query per group, each id once ...
	users := make(map[GroupID][]UserID)
	seen := make(map[memberKey]bool)
	add := func(g GroupID, u UserID) {
		if k := (memberKey{g, u}); !seen[k] {
			seen[k] = true
			users[g] = append(users[g], u)
		}
	}
	for _, r := range batch {
		add(r.group, r.actor.User)
	}
	// ... and the senders' in the same query: a sender who is not a
	// member any more gets no push (maySeeReceipts).
	for _, m := range f.msgs {
		if _, ok := users[m.Group]; ok && m.ChatType == GroupChat {
			add(m.Group, m.From)
		}
	}
	for g, us := range users {
		ms, err := tx.MembersByUser(ctx, g, us)
		if err != nil {
			return ackFacts{}, err
		}
		for _, m := range ms {
			f.members[memberKey{g, m.User}] = m
		}
	}
	// Whether each group exists: destroying a group deletes its
	// memberships (Tx.DeleteGroup), so a reader's membership proves it.
	// The group is looked up only where no reader has one, to tell
	// group_not_found from not_member.
	f.live = make(map[GroupID]bool, len(users))
	for _, r := range batch {
		if f.member(r.group, r.actor.User) != nil {
			f.live[r.group] = true
		}
	}
	for _, r := range batch {
		if _, known := f.live[r.group]; known {
			continue
		}
		if f.live[r.group], err = groupLive(ctx, tx, r.group); err != nil {
			return ackFacts{}, err
		}
	}
	return f, nil
}

// pendingRead is a read an accepted ack is to store, with the result it
// answers.
type pendingRead struct {
	Read
	res *AckResult
}

// decideAcks applies the receipt rules (mayAck) to each item of the
// batch: the results of every request, and the reads to store.
func (s *Service) decideAcks(batch []*ackReq, f ackFacts) (ackOutcome, []pendingRead) {
	now := s.now()
	out := ackOutcome{results: make([][]AckResult, len(batch))}
	var reads []pendingRead
	for i, r := range batch {
		res := make([]AckResult, len(r.items))
		mem := f.member(r.group, r.actor.User)
		for j, it := range r.items {
			m := f.msgs[it.Msg]
			res[j].Msg = it.Msg
			counts, err := mayAck(s.cfg, r.actor, r.group, it.Msg, m, f.live[r.group], mem, now)
			res[j].Err = err
			if counts {
				reads = append(reads, pendingRead{Read{Msg: it.Msg, User: r.actor.User, Name: r.actor.Name, At: now, Content: it.Content}, &res[j]})
			}
		}
		out.results[i] = res
	}
	return out, reads
}

// countReads stores the reads; the new ones (a reader's first) count: one
// count update per message, each with a fresh statistics position so that
// the sender's devices see the change, and a push to the sender where it
// may see the receipts. Where a count crosses 50%, 90% or all of the
// message's Eligible it records the milestone (one update per message
// that crossed one), and, when webhooks are configured, it writes their
// events to the outbox in one insert (recordEvents). It fills the results
// of the reads and out's pushes and count.
func (s *Service) countReads(ctx context.Context, tx Tx, f ackFacts, reads []pendingRead, out *ackOutcome) error {
	if len(reads) == 0 {
		return nil
	}
	rs := make([]Read, len(reads))
	for i, rd := range reads {
		rs[i] = rd.Read
	}
	fresh, err := tx.InsertReads(ctx, rs)
	if err != nil {
		return err
	}
	var updates []ReceiptUpdate
	index := make(map[MsgID]int)
	counted := make(map[MsgID][]*AckResult)
	names := make(map[UserID]string)
	var newReads []Read
	for k, rd := range reads {
		if !fresh[k] {
			continue
		}
		rd.res.Counted = true
		out.counted++
		counted[rd.Msg] = append(counted[rd.Msg], rd.res)
		names[rd.User] = rd.Name
		newReads = append(newReads, rd.Read)
		u, ok := index[rd.Msg]
		if !ok {
			u = len(updates)
			index[rd.Msg] = u
			updates = append(updates, ReceiptUpdate{Msg: rd.Msg})
		}
		updates[u].Delta++
		updates[u].LastReader, updates[u].LastAt, updates[u].LastContent = rd.User, rd.At, rd.Content
	}
	if len(updates) == 0 {
		return nil
	}
	first, err := tx.NextSeq(ctx, SeqStats, len(updates))
	if err != nil {
		return err
	}
	for i := range updates {
		updates[i].StatSeq = first + int64(i)
	}
	counts, err := tx.AddReceiptCounts(ctx, updates)
	if err != nil {
		return err
	}
	var reached []ReachedUpdate
	for _, c := range counts {
		for _, res := range counted[c.Msg] {
			res.Count = c.Count
		}
		prev := c.Count - updates[index[c.Msg]].Delta
		r := ReachedUpdate{Msg: c.Msg}
		if crossed(prev, c.Count, c.Eligible, 50) {
			r.At50 = c.LastAt
		}
		if crossed(prev, c.Count, c.Eligible, 90) {
			r.At90 = c.LastAt
		}
		if crossed(prev, c.Count, c.Eligible, 100) {
			r.AtAll = c.LastAt
		}
		if r != (ReachedUpdate{Msg: c.Msg}) {
			reached = append(reached, r)
		}
		m := f.msgs[c.Msg]
		if maySeeReceipts(Actor{User: c.Sender}, c.Group, c.Msg, m, true, f.member(c.Group, c.Sender), senderView) == nil {
			out.pushes = append(out.pushes, ReceiptPush{
				Msg: c.Msg, Group: c.Group, Sender: c.Sender, Count: c.Count, Eligible: c.Eligible, Reader: names[c.LastReader],
				ReaderID: c.LastReader, AckContent: c.LastContent, At: ms(c.LastAt), StatSeq: c.StatSeq,
			})
		}
	}
	if err := tx.SetReached(ctx, reached); err != nil {
		return err
	}
	return s.recordEvents(ctx, tx, f, newReads, counts, updates, index)
}

// recordEvents writes the webhook events of an ack batch, when webhooks
// are configured, in one InsertOutbox: a read event per counted read,
// and a threshold event per configured threshold a message's count
// crossed (crossed). Sender names come from the batch's memberships;
// only senders who left are looked up, in one query.
func (s *Service) recordEvents(ctx context.Context, tx Tx, f ackFacts, reads []Read, counts []ReceiptCount, updates []ReceiptUpdate, index map[MsgID]int) error {
	if len(s.cfg.WebhookTargets) == 0 {
		return nil
	}
	byMsg := make(map[MsgID]ReceiptCount, len(counts))
	senders := make(map[UserID]string)
	var missing []UserID
	for _, c := range counts {
		byMsg[c.Msg] = c
		if _, done := senders[c.Sender]; done {
			continue
		}
		if mem := f.member(c.Group, c.Sender); mem != nil {
			senders[c.Sender] = mem.Name
		} else {
			senders[c.Sender] = ""
			missing = append(missing, c.Sender)
		}
	}
	if len(missing) > 0 {
		names, err := userNames(ctx, tx, missing)
		if err != nil {
			return err
		}
		for _, id := range missing {
			senders[id] = names[id]
		}
	}
	var evs []WebhookEvent
	nth := make(map[MsgID]int, len(counts))
	for _, rd := range reads {
		c, ok := byMsg[rd.Msg]
		if !ok {
			continue
		}
		prev := c.Count - updates[index[c.Msg]].Delta
		nth[rd.Msg]++
		evs = append(evs, WebhookEvent{
			Kind: WebhookRead, Group: c.Group, Msg: c.Msg, Sender: senders[c.Sender], SenderID: c.Sender,
			Reader: rd.Name, ReaderID: rd.User, AckContent: rd.Content, Count: prev + nth[rd.Msg], Eligible: c.Eligible, At: ms(rd.At),
		})
	}
	for _, c := range counts {
		prev := c.Count - updates[index[c.Msg]].Delta
		for _, p := range s.cfg.WebhookThresholds {
			if crossed(prev, c.Count, c.Eligible, p) {
				evs = append(evs, WebhookEvent{
					Kind: WebhookThreshold, Group: c.Group, Msg: c.Msg, Sender: senders[c.Sender], SenderID: c.Sender,
					Count: c.Count, Eligible: c.Eligible, Threshold: p, At: ms(c.LastAt),
				})
			}
		}
	}
	if len(evs) == 0 {
		return nil
	}
	rows, err := s.outboxRows(evs, s.now())
	if err != nil {
		return err
	}
	return tx.InsertOutbox(ctx, rows)
}

func (s *Service) publishReceipt(p ReceiptPush) {
	s.metrics.PushesCoalesced(1)
	s.publish(UserTopic(p.Sender), Event{Kind: EventReceipt, Receipt: &p})
}

// receiptMessage loads a receipt-requesting message of group g and checks
// that the actor may see its receipts (maySeeReceipts).
func (s *Service) receiptMessage(ctx context.Context, tx Tx, actor Actor, g GroupID, id MsgID) (Message, ReceiptPolicy, error) {
	ms, pol, err := s.receiptMessages(ctx, tx, actor, g, []MsgID{id})
	if err != nil {
		return Message{}, pol, err
	}
	return ms[0], pol, nil
}

// Order is the order of a reader listing.
type Order int

// Reader listing orders.
const (
	OldestFirst Order = iota // by read time, oldest read first (the default)
	NewestFirst              // by read time, newest read first
)

// ParseOrder parses the order of a reader listing: "asc" (or "") is
// OldestFirst, "desc" NewestFirst.
func ParseOrder(s string) (Order, error) {
	switch s {
	case "", "asc":
		return OldestFirst, nil
	case "desc":
		return NewestFirst, nil
	}
	return 0, Errorf(CodeBadRequest, "order %q is not asc or desc", s)
}

// ReadersPage is a page of a message's readers, in the order asked for.
type ReadersPage struct {
	Readers []Read
	Total   int
	Next    string // "" on the last page
}

// Readers pages through who has read a message, by read time in the
// given order (ties by user), with each reader's time and ackContent, plus
// the total. The cursor is the position of the last reader returned; it
// continues in the order of the request.
func (s *Service) Readers(ctx context.Context, actor Actor, g GroupID, id MsgID, order Order, cursor string, limit int) (ReadersPage, error) {
	limit, err := pageSize(limit, 50, 500)
	if err != nil {
		return ReadersPage{}, err
	}
	after, err := parseReadCursor(cursor)
	if err != nil {
		return ReadersPage{}, err
	}
	var p ReadersPage
	err = s.read(ctx, "readers", func(tx Tx) error {
		_, pol, err := s.receiptMessage(ctx, tx, actor, g, id)
		if err != nil {
			return err
		}
		if err := mayList(actor, g, pol); err != nil {
			return err
		}
		cs, err := tx.ReceiptCounts(ctx, []MsgID{id})
		if err != nil {
			return err
		}
		if len(cs) == 1 {
			p.Total = cs[0].Count
		}
		rs, err := tx.Readers(ctx, id, order == NewestFirst, after, limit+1)
		if err != nil {
			return err
		}
		more := len(rs) > limit
		if more {
			rs = rs[:limit]
		}
		if n := pageCut(rs, s.cfg.MaxPageBytes, readSize); n < len(rs) {
			rs, more = rs[:n], true
		}
		if more {
			last := rs[len(rs)-1]
			p.Next = fmt.Sprintf("%d.%d", last.At.UnixMilli(), last.User)
		}
		p.Readers = rs
		return nil
	})
	return p, internal("readers", err)
}

// parseReadCursor parses a reader cursor, "<read time ms>.<user id>"; ""
// is the start (nil).
func parseReadCursor(c string) (*ReadPos, error) {
	if c == "" {
		return nil, nil
	}
	a, b, ok := strings.Cut(c, ".")
	at, err1 := strconv.ParseInt(a, 10, 64)
	u, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return nil, Errorf(CodeBadRequest, "malformed cursor %q", c)
	}
	return &ReadPos{At: time.UnixMilli(at), User: UserID(u)}, nil
}

// UnreadPage is a page of the members who have not read a message.
type UnreadPage struct {
	Users []Member
	Total int
	Next  string
}

// Unread pages through the eligible readers who have not read a message:
// current members who were members when it was sent, but the sender and
// members with receipts off, with each one's reminders; plus the total.
func (s *Service) Unread(ctx context.Context, actor Actor, g GroupID, id MsgID, cursor string, limit int) (UnreadPage, error) {
	return s.unread(ctx, actor, g, id, cursor, limit, true)
}

// UnreadWithoutTotal is Unread without counting the total (Total is -1):
// for a caller that pages through every unread member (the admin export),
// so that each page costs one index walk, not a count over the group.
func (s *Service) UnreadWithoutTotal(ctx context.Context, actor Actor, g GroupID, id MsgID, cursor string, limit int) (UnreadPage, error) {
	return s.unread(ctx, actor, g, id, cursor, limit, false)
}

func (s *Service) unread(ctx context.Context, actor Actor, g GroupID, id MsgID, cursor string, limit int, withTotal bool) (UnreadPage, error) {
	limit, err := pageSize(limit, 50, 500)
	if err != nil {
		return UnreadPage{}, err
	}
	var after UserID
	if cursor != "" {
		n, err := strconv.ParseInt(cursor, 10, 64)
		if err != nil || n < 0 {
			return UnreadPage{}, Errorf(CodeBadRequest, "malformed cursor %q", cursor)
		}
		after = UserID(n)
	}
	var p UnreadPage
	err = s.read(ctx, "unread", func(tx Tx) error {
		m, pol, err := s.receiptMessage(ctx, tx, actor, g, id)
		if err != nil {
			return err
		}
		if err := mayList(actor, g, pol); err != nil {
			return err
		}
		var us []Member
		total := -1
		if withTotal {
			us, total, err = tx.Unread(ctx, g, id, m.Seq, m.From, after, limit+1)
		} else {
			us, err = tx.UnreadList(ctx, g, id, m.Seq, m.From, after, limit+1)
		}
		if err != nil {
			return err
		}
		more := len(us) > limit
		if more {
			us = us[:limit]
		}
		if n := pageCut(us, s.cfg.MaxPageBytes, memberSize); n < len(us) {
			us, more = us[:n], true
		}
		if more {
			p.Next = us[len(us)-1].User.String()
		}
		p.Users, p.Total = us, total
		return nil
	})
	return p, internal("unread", err)
}

// ReceiptTotals are the read state of a batch of messages (ReadCounts).
type ReceiptTotals struct {
	// Counts is the reader count of each message.
	Counts map[MsgID]int
	// Eligible is the number of eligible readers of each message at send
	// (ReceiptCount.Eligible): Counts >= Eligible is "read by all".
	Eligible map[MsgID]int
	// Unread is, when asked for, the number of eligible readers of each
	// message who have not read it (the total of Unread); else nil.
	Unread map[MsgID]int
}

// ReadCounts returns the reader counts of up to MaxCountBatch
// receipt-requesting messages of one group and, with withUnread, how many
// eligible readers of each have not read it yet: current members who were
// members when it was sent, but the sender (as Unread counts them). The
// counts are counter columns; each unread total is one indexed count over
// the group's members, so withUnread costs O(members) per message.
func (s *Service) ReadCounts(ctx context.Context, actor Actor, g GroupID, ids []MsgID, withUnread bool) (ReceiptTotals, error) {
	if len(ids) == 0 || len(ids) > MaxCountBatch {
		return ReceiptTotals{}, Errorf(CodeBadRequest, "ask for 1-%d messages at a time", MaxCountBatch)
	}
	out := ReceiptTotals{Counts: make(map[MsgID]int, len(ids)), Eligible: make(map[MsgID]int, len(ids))}
	if withUnread {
		out.Unread = make(map[MsgID]int, len(ids))
	}
	err := s.read(ctx, "read_counts", func(tx Tx) error {
		ms, _, err := s.receiptMessages(ctx, tx, actor, g, ids)
		if err != nil {
			return err
		}
		byID := make(map[MsgID]Message, len(ms))
		for _, m := range ms {
			byID[m.ID] = m
		}
		cs, err := tx.ReceiptCounts(ctx, ids)
		if err != nil {
			return err
		}
		for _, c := range cs {
			out.Counts[c.Msg] = c.Count
			out.Eligible[c.Msg] = c.Eligible
		}
		if !withUnread {
			return nil
		}
		for _, id := range ids {
			if _, done := out.Unread[id]; done {
				continue
			}
			m := byID[id]
			n, err := tx.UnreadTotal(ctx, g, id, m.Seq, m.From)
			if err != nil {
				return err
			}
			out.Unread[id] = n
		}
		return nil
	})
	if err != nil {
		return ReceiptTotals{}, internal("read counts", err)
	}
	return out, nil
}

// PeerReceipt stores a single-chat read or delivery receipt of message id
// for the peer who sent it, and returns once it is committed. It goes
// through the message batcher and takes its place in the message stream,
// so the peer's devices get it live (a read or delivery push) and, if they
// missed that, through Sync. A read receipt of a user with receipts off
// is accepted and stores and pushes nothing (recordsReceipts). A repeat (the same kind, message and user,
// from any device) is accepted and stores and pushes nothing.
func (s *Service) PeerReceipt(ctx context.Context, actor Actor, kind EventKind, peerName string, id MsgID) error {
	var typ MsgType
	switch kind {
	case EventPeerRead:
		typ = TypeRead
	case EventDelivered:
		typ = TypeDelivery
	default:
		return Errorf(CodeBadRequest, "receipt kind %q is not read or delivery", kind)
	}
	var peer User
	silent := false // a read receipt of a user with receipts off: not sent
	err := s.read(ctx, "peer_receipt", func(tx Tx) error {
		us, err := usersByName(ctx, tx, []string{peerName})
		if err != nil {
			return err
		}
		peer = us[0]
		ms, err := tx.MessagesByID(ctx, []MsgID{id})
		if err != nil {
			return err
		}
		if len(ms) == 0 || ms[0].Conv != SingleConv(actor.User, peer.ID) || ms[0].From != peer.ID || ms[0].Type.IsReceipt() {
			return Errorf(CodeMessageNotFound, "no message %s from %s to you", id, peer.Name)
		}
		if typ == TypeRead {
			on, err := userRecordsReceipts(ctx, tx, actor.User)
			silent = !on
			return err
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			err = Errorf(CodeMessageNotFound, "no message %s", id)
		}
		return internal("peer receipt", err)
	}
	if silent {
		return nil // accepted; recorded nowhere (recordsReceipts)
	}
	m := peerReceiptMessage(actor, peer, typ)
	m.AckMsg, m.LocalID = id, receiptLocalID(typ, id.String())
	return s.storeReceipt(ctx, actor, m)
}

// userRecordsReceipts looks user u up and applies recordsReceipts to
// their setting: whether their single-chat read and channel receipts are
// sent. A user who does not exist records them (nothing to hide).
func userRecordsReceipts(ctx context.Context, tx Tx, u UserID) (bool, error) {
	us, err := tx.UsersByID(ctx, []UserID{u})
	if err != nil {
		return false, err
	}
	return len(us) != 1 || recordsReceipts(us[0].ReceiptsOff), nil
}

// peerReceiptMessage is the message-stream row of a receipt from actor to
// peer.
func peerReceiptMessage(actor Actor, peer User, typ MsgType) *Message {
	return &Message{
		Type: typ, ChatType: SingleChat, Conv: SingleConv(actor.User, peer.ID), From: actor.User, FromName: actor.Name,
		To: peer.ID, ToName: peer.Name, OriginDevice: actor.Device, OriginConn: actor.Conn, ReadCount: -1,
	}
}

// receiptLocalID is the local id of a receipt: its idempotency key, with
// the unique (sender, local id) of messages. "read:<msg id>" and
// "delivery:<msg id>" make a receipt of one message by one user stored
// once; "channel:<head seq>" makes a channel ack stored once per state of
// the conversation. Send refuses these prefixes (isReceiptLocalID).
func receiptLocalID(typ MsgType, key string) string { return string(typ) + ":" + key }

// isReceiptLocalID reports whether id has a prefix reserved for receipts.
func isReceiptLocalID(id string) bool {
	for _, t := range ReceiptTypes {
		if strings.HasPrefix(id, string(t)+":") {
			return true
		}
	}
	return false
}

// storeReceipt commits a receipt through the message batcher.
func (s *Service) storeReceipt(ctx context.Context, actor Actor, m *Message) error {
	r := &sendReq{result: newResult(), actor: actor, msg: m}
	if err := s.msgs.submit(ctx, r); err != nil {
		return err
	}
	return r.wait(ctx)
}

// checkChannel applies the rule of a single-chat channel ack inside the
// message batch, holding the message counter: the actor's read position
// moves to the conversation's head, and the ack is stored (to tell the
// peer) only when the actor had something unread; then the read position
// has moved, so a second ack, from any device, finds nothing unread.
// Otherwise, or when the actor has receipts off (recordsReceipts), it is
// accepted and stores nothing (it.none).
func (s *Service) checkChannel(ctx context.Context, tx Tx, it *sendItem) error {
	m := &it.msg
	c, err := tx.Conversation(ctx, m.From, m.Conv)
	if errors.Is(err, ErrNotFound) || (err == nil && c.LastSeq == 0) {
		it.none = true
		return nil
	}
	if err != nil {
		return err
	}
	if err := tx.SetReadSeq(ctx, m.From, m.Conv, c.LastSeq); err != nil {
		return err
	}
	it.readSeq = c.LastSeq
	if c.Unread == 0 {
		it.none = true
		return nil
	}
	// The read position moved (the actor's own read state); the peer is
	// told only if the actor records receipts.
	if on, err := userRecordsReceipts(ctx, tx, m.From); err != nil || !on {
		it.none = true
		return err
	}
	m.LocalID = receiptLocalID(TypeChannel, strconv.FormatInt(c.LastSeq, 10))
	if _, err := tx.MessageByLocalID(ctx, m.From, m.LocalID); err == nil {
		m.LocalID = "" // held by a message sent before the prefix was reserved
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}

// publishPeerReceipt pushes a stored receipt to the peer's devices.
func (s *Service) publishPeerReceipt(m *Message) {
	kind := EventPeerRead
	switch m.Type {
	case TypeDelivery:
		kind = EventDelivered
	case TypeChannel:
		kind = EventChannel
	}
	s.publish(UserTopic(m.To), Event{Kind: kind, Peer: &PeerReceipt{
		ID: m.ID, Seq: m.Seq, Msg: m.AckMsg, From: m.FromName, FromID: m.From, To: m.ToName, ToID: m.To,
		At: ms(m.SentAt), Device: m.OriginDevice, Conn: m.OriginConn,
	}})
}
