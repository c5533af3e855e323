package chat

import "time"

// The receipt rules (docs/receipts.md), one function each. Every path
// applies them through these functions: the message batch (asking), the
// ack batch and the conversation ack (acking), the reader, unread, count,
// analytics and statistics queries (seeing), reminders (reminding:
// mayRemind, which applies maySeeReceipts and, to a reminder naming
// members, mayList). The store pre-filters with SQL where a rule decides
// which rows a query returns (eligibleReader, JoinSeq, ReceiptsSince and
// recordsReceipts, in Tx.Unread, Tx.UnreadList, Tx.UnreadAmong,
// Tx.UnreadTotal and Tx.UnreadReceiptMsgs, and so in Eligible at send,
// countEligible); TestEligibleReaderSQL proves the SQL agrees with the
// function on every case of the rule table. The one rule not here is
// "counts never go backwards", each transport's, with HighWater. One view
// decides without maySeeReceipts, on purpose: fillReadCounts gives the
// read count of a message in history and sync to its sender only (a
// subset of whom maySeeReceipts admits), without a membership lookup per
// message (group history already requires membership; sync carries what
// was sent while the user was a member).

// mayRequestReceipts is the rule of who may ask for read receipts on a
// message to group g: mem, the sender's membership, must be the owner's
// or an admin's unless the group's policy (Request, by default
// cfg.GroupAckSenders) is RequestAll; the group must be
// within cfg.ReceiptMaxGroupSize; and when cfg.ReceiptDailyLimit is set,
// sentToday, how many receipt-requesting messages the sender sent in the
// last 24 hours, must be under it. sentToday is called only then, after
// the other checks passed: counting costs a query.
func mayRequestReceipts(cfg Config, g Group, mem Member, sentToday func() (int, error)) error {
	if effectivePolicy(cfg, g.OwnPolicy).Request != RequestAll && !canManage(mem.Role) {
		return Errorf(CodePermissionDenied, "only the group owner and admins may request read receipts")
	}
	if lim := cfg.ReceiptMaxGroupSize; lim > 0 && g.Members > lim {
		return Errorf(CodeLimitExceeded, "read receipts are limited to groups of %d members (receipt-max-group-size); this group has %d", lim, g.Members)
	}
	if lim := cfg.ReceiptDailyLimit; lim > 0 {
		n, err := sentToday()
		if err != nil {
			return err
		}
		if n >= lim {
			return Errorf(CodeLimitExceeded, "you may send %d receipt-requesting messages per 24 hours (receipt-daily-limit)", lim)
		}
	}
	return nil
}

// eligibleReader is the rule of who may be counted as a reader of m: a
// member (mem, its current membership of m's group) who was a member when
// m was committed, without a break (JoinSeq < m.Seq: a member who left
// and rejoined has a new JoinSeq), other than the sender, who records
// receipts (recordsReceipts) and has, without a break, since before m was
// committed (ReceiptsSince < m.Seq: turning receipts on again sets a new
// ReceiptsSince, as rejoining sets a new JoinSeq). An eligible reader is
// who the unread lists and totals, Eligible at send and reminders count.
// So every reader counted was in Eligible at send: a count reaches
// Eligible only when each of them has read (ReadByAll).
func eligibleReader(m Message, mem Member) bool {
	return mem.JoinSeq < m.Seq && mem.ReceiptsSince < m.Seq && mem.User != m.From && recordsReceipts(mem.ReceiptsOff)
}

// recordsReceipts is the privacy rule (docs/receipts.md, "Privacy"): a
// user who turned receipts off (User.ReceiptsOff, Member.ReceiptsOff)
// keeps their own read state, but their reads are recorded as receipts
// nowhere: a group ack is accepted and not counted (no count, no reader
// entry, no webhook event), they are not eligible readers (unread lists
// and totals, Eligible, reminders), and their single-chat read and
// channel receipts are not sent. It is not reciprocal: they still see the
// receipts of their own messages. Turned on again, it applies to messages
// sent from then on (eligibleReader, User.ReceiptsSince).
func recordsReceipts(receiptsOff bool) bool { return !receiptsOff }

// receiptTarget is the part of the receipt rules about the message itself
// that seeing and giving share: message id (m, nil if there is no such
// message) must be a receipt-requesting message of group g, and g must
// exist (live): after group.destroy nobody, not even the administrator,
// may read, ack or list the receipts of its messages (CodeGroupNotFound,
// as for every other operation on a destroyed group).
func receiptTarget(g GroupID, id MsgID, m *Message, live bool) error {
	if !live {
		return Errorf(CodeGroupNotFound, "no group %s", g)
	}
	if m == nil || m.ChatType != GroupChat || m.Group != g {
		return Errorf(CodeMessageNotFound, "no message %s in group %s", id, g)
	}
	if !m.AllowGroupAck {
		return Errorf(CodeNotAllowed, "message %s did not ask for read receipts", m.ID)
	}
	return nil
}

// maySeeReceipts is the rule of who may list or count the receipts of
// message id (m, nil if there is no such message) in group g (live: g
// exists): readers, unread members, read counts and unread totals,
// statistics, analytics and the live pushes. After receiptTarget, the
// actor must be a current member (mem, nil when it has none;
// CodeNotMember): a sender who left or was removed loses the receipts of
// its messages with the rest of the group. And the member must be one the
// group's policy shows them to (pol.Visibility; CodePermissionDenied):
// the sender (VisibleSender), the sender, the owner or an admin
// (VisibleAdmins), or any member (VisibleMembers). The sender passes
// under every policy. The administrator may see them.
func maySeeReceipts(actor Actor, g GroupID, id MsgID, m *Message, live bool, mem *Member, pol ReceiptPolicy) error {
	if err := receiptTarget(g, id, m, live); err != nil {
		return err
	}
	if actor.Admin {
		return nil
	}
	if mem == nil {
		return Errorf(CodeNotMember, "you are not a member of group %s", g)
	}
	if m.From == actor.User {
		return nil
	}
	switch pol.Visibility {
	case VisibleMembers:
		return nil
	case VisibleSender:
		return Errorf(CodePermissionDenied, "only the sender may see the receipts of a message in group %s", g)
	}
	if !canManage(mem.Role) {
		return Errorf(CodePermissionDenied, "only the sender, the group owner and admins may see the receipts of a message")
	}
	return nil
}

// mayRemindAgain is the rate limit of reminders: a message (its count
// c) is reminded at most once per cfg.RemindInterval (0: no limit).
func mayRemindAgain(cfg Config, c ReceiptCount, now time.Time) error {
	iv := cfg.RemindInterval
	if iv <= 0 || c.RemindAt.IsZero() || !now.Before(c.RemindAt.Add(iv)) {
		return nil
	}
	return Errorf(CodeLimitExceeded, "message %s was reminded at %s; reminders are limited to one per %v (remind-interval); the next is allowed at %s",
		c.Msg, c.RemindAt.UTC().Format("15:04:05"), iv, c.RemindAt.Add(iv).UTC().Format("15:04:05 UTC"))
}

// crossed is the rule of thresholds and milestones: a count going from
// prev to now readers crosses pct percent of eligible readers when it
// was under it and now is at or over it. Counts never go down and
// Eligible is fixed at send, so each threshold is crossed once; every
// reader counted was in Eligible (eligibleReader), so 100% is crossed
// only when all of them have read. A message
// without eligible readers crosses none.
func crossed(prev, now, eligible, pct int) bool {
	return eligible > 0 && prev*100 < pct*eligible && now*100 >= pct*eligible
}

// ReadByAll is the rule of "read by all": every eligible reader at send
// has read the message (crossed 100% of Eligible). A message without
// eligible readers is never read by all.
func ReadByAll(count, eligible int) bool { return crossed(0, count, eligible, 100) }

// senderView is the policy to check the sender's own view with, where
// the group's policy is not loaded (statistics, pushes): the sender sees
// the receipts of its messages under every policy, so the group's would
// decide the same.
var senderView = ReceiptPolicy{Visibility: VisibleSender}

// mayList is the rule of the reader and unread lists, after
// maySeeReceipts: a group whose policy has Lists false shows counts only
// (CodePermissionDenied), to everyone but the administrator. Counts,
// analytics and a reminder of everyone who has not read are not lists; a
// reminder naming members is (mayRemind).
func mayList(actor Actor, g GroupID, pol ReceiptPolicy) error {
	if !pol.Lists && !actor.Admin {
		return Errorf(CodePermissionDenied, "group %s shows read counts only, not who has or has not read", g)
	}
	return nil
}

// mayRemind is the rule of who may remind the unread members of message
// id (m, nil if there is no such message) in group g (live: g exists),
// named: whether the reminder names members. A reminder reveals what
// the receipts do (who is reminded, who is skipped, how many have not
// read), so it needs what seeing them needs, and more: after
// receiptTarget, the actor must be a current member (mem; CodeNotMember)
// who is the sender, the owner or an admin (CodePermissionDenied); the
// group's policy (pol) must show it the receipts (maySeeReceipts: under
// VisibleSender only the sender may remind); and a reminder that names
// members must be allowed the lists (mayList: in a counts-only group its
// Skipped and Reminded would tell who has read, one name at a time), so
// there only a reminder of everyone who has not read is allowed, which
// reveals no more than the unread count. The administrator may remind.
func mayRemind(actor Actor, g GroupID, id MsgID, m *Message, live bool, mem *Member, pol ReceiptPolicy, named bool) error {
	if err := receiptTarget(g, id, m, live); err != nil {
		return err
	}
	if actor.Admin {
		return nil
	}
	if mem == nil {
		return Errorf(CodeNotMember, "you are not a member of group %s", g)
	}
	if m.From != actor.User && !canManage(mem.Role) {
		return Errorf(CodePermissionDenied, "only the sender, the group owner and admins may remind members of a message")
	}
	if err := maySeeReceipts(actor, g, id, m, live, mem, pol); err != nil {
		return Errorf(ErrorCode(err), "group %s shows the receipts of a message to its sender only, so only the sender may remind members of it", g)
	}
	if named && mayList(actor, g, pol) != nil {
		return Errorf(CodePermissionDenied, "group %s shows read counts only, so a reminder may not name members; remind everyone who has not read instead (name nobody)", g)
	}
	return nil
}

// mayAck is the rule of an ack of message id (m, nil if there is no such
// message) in group g (live: g exists) by the actor, a member of g when
// mem is not nil, at now. After receiptTarget: only a current member may
// ack (CodeNotMember; the administrator neither); the sender's own ack is
// accepted and not counted; any other must be by an eligible reader
// (CodeNotAllowed) of a message younger than cfg.ReceiptMaxAge
// (CodeLimitExceeded). An eligible reader's ack counts only if they
// record receipts (recordsReceipts): with receipts off it is accepted and
// not counted. counts says whether an accepted ack is a read to count.
func mayAck(cfg Config, actor Actor, g GroupID, id MsgID, m *Message, live bool, mem *Member, now time.Time) (counts bool, err error) {
	if err := receiptTarget(g, id, m, live); err != nil {
		return false, err
	}
	if mem == nil {
		return false, Errorf(CodeNotMember, "you are not a member of group %s", g)
	}
	if m.From == actor.User {
		return false, nil // the sender's own ack: accepted, not counted
	}
	if mem.JoinSeq >= m.Seq {
		return false, Errorf(CodeNotAllowed, "you joined group %s after message %s was sent", g, m.ID)
	}
	if max := cfg.ReceiptMaxAge; max > 0 && now.Sub(m.SentAt) > max {
		return false, Errorf(CodeLimitExceeded, "message %s is older than the receipt age limit of %v (receipt-max-age)", m.ID, max)
	}
	return eligibleReader(*m, *mem), nil
}
