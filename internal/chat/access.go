package chat

import "context"

// receiptUse is what a caller wants to do with a message's receipts.
type receiptUse int

const (
	// seeReceipts lists or counts a message's receipts: readers, unread
	// members, read counts and unread totals, statistics.
	seeReceipts receiptUse = iota
	// giveReceipt acknowledges a message (receipt.ack).
	giveReceipt
)

// receiptAccess is the one rule of who may use the receipts of message id
// (m, nil if there is no such message) in group g (docs/receipts.md, "Who may see and give receipts"). Every
// path applies it: Ack (checkAck), Readers, Unread, ReadCounts and
// ReceiptStats, on both transports.
//
//   - live tells whether g exists: after group.destroy nobody, not even the
//     administrator, may read, ack or list the receipts of its messages
//     (CodeGroupNotFound, as for every other operation on a destroyed
//     group).
//   - m must be a receipt-requesting message of g (CodeMessageNotFound,
//     CodeNotAllowed).
//   - mem is the actor's current membership of g, nil when it has none.
//     Only a current member may see or give receipts (CodeNotMember): a
//     sender who left or was removed loses the receipts of its messages
//     with the rest of the group. The administrator may see them.
//   - To see them, the member must be the sender, the owner or an admin
//     (CodePermissionDenied).
//
// The ack's own conditions (eligibility, age) are checkAck's, after this.
func receiptAccess(actor Actor, g GroupID, id MsgID, m *Message, live bool, mem *Member, use receiptUse) error {
	if !live {
		return Errorf(CodeGroupNotFound, "no group %s", g)
	}
	if m == nil || m.ChatType != GroupChat || m.Group != g {
		return Errorf(CodeMessageNotFound, "no message %s in group %s", id, g)
	}
	if !m.AllowGroupAck {
		return Errorf(CodeNotAllowed, "message %s did not ask for read receipts", m.ID)
	}
	if actor.Admin && use == seeReceipts {
		return nil
	}
	if mem == nil {
		return Errorf(CodeNotMember, "you are not a member of group %s", g)
	}
	if use == seeReceipts && m.From != actor.User && !canManage(mem.Role) {
		return Errorf(CodePermissionDenied, "only the sender, the group owner and admins may see the receipts of a message")
	}
	return nil
}

// groupLive reports whether group g exists (was not destroyed).
func groupLive(ctx context.Context, tx Tx, g GroupID) (bool, error) {
	_, err := loadGroup(ctx, tx, g)
	if ErrorCode(err) == CodeGroupNotFound {
		return false, nil
	}
	return err == nil, err
}

// receiptMessages loads messages ids of group g (in the order asked) and
// applies receiptAccess to each for seeing its receipts. A message that
// does not exist is reported as not found with the id asked for.
func receiptMessages(ctx context.Context, tx Tx, actor Actor, g GroupID, ids []MsgID) ([]Message, error) {
	live, err := groupLive(ctx, tx, g)
	if err != nil {
		return nil, err
	}
	var mem *Member
	if live && !actor.Admin {
		if mem, err = memberOf(ctx, tx, g, actor.User); err != nil {
			return nil, err
		}
	}
	var found []Message
	if live {
		if found, err = tx.MessagesByID(ctx, ids); err != nil {
			return nil, err
		}
	}
	byID := make(map[MsgID]*Message, len(found))
	for i := range found {
		byID[found[i].ID] = &found[i]
	}
	out := make([]Message, len(ids))
	for i, id := range ids {
		m := byID[id]
		if err := receiptAccess(actor, g, id, m, live, mem, seeReceipts); err != nil {
			return nil, err
		}
		out[i] = *m
	}
	return out, nil
}
