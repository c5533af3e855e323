package chat

import "context"

// groupLive reports whether group g exists (was not destroyed).
func groupLive(ctx context.Context, tx Tx, g GroupID) (bool, error) {
	_, err := loadGroup(ctx, tx, g)
	if ErrorCode(err) == CodeGroupNotFound {
		return false, nil
	}
	return err == nil, err
}

// receiptMessages loads messages ids of group g (in the order asked) and
// applies maySeeReceipts to each; it returns them with the group's
// effective policy. A message that does not exist is
// reported as not found with the id asked for.
func (s *Service) receiptMessages(ctx context.Context, tx Tx, actor Actor, g GroupID, ids []MsgID) ([]Message, ReceiptPolicy, error) {
	return s.checkedMessages(ctx, tx, actor, g, ids, maySeeReceipts)
}

// receiptRule is a rule about the receipts of message id (m, nil if there
// is no such message) in group g (live: g exists), by the actor (mem, its
// membership, nil when it has none) under the group's effective policy
// pol: maySeeReceipts, or mayRemind with its other arguments bound.
type receiptRule func(actor Actor, g GroupID, id MsgID, m *Message, live bool, mem *Member, pol ReceiptPolicy) error

// checkedMessages loads messages ids of group g (in the order asked), the
// group's effective policy and the actor's membership, and applies rule
// to each message; it returns them with the policy.
func (s *Service) checkedMessages(ctx context.Context, tx Tx, actor Actor, g GroupID, ids []MsgID, rule receiptRule) ([]Message, ReceiptPolicy, error) {
	gr, err := loadGroup(ctx, tx, g)
	live := err == nil
	if ErrorCode(err) == CodeGroupNotFound {
		err = nil
	}
	if err != nil {
		return nil, ReceiptPolicy{}, err
	}
	pol := effectivePolicy(s.cfg, gr.OwnPolicy)
	var mem *Member
	if live && !actor.Admin {
		if mem, err = memberOf(ctx, tx, g, actor.User); err != nil {
			return nil, pol, err
		}
	}
	var found []Message
	if live {
		if found, err = tx.MessagesByID(ctx, ids); err != nil {
			return nil, pol, err
		}
	}
	byID := make(map[MsgID]*Message, len(found))
	for i := range found {
		byID[found[i].ID] = &found[i]
	}
	out := make([]Message, len(ids))
	for i, id := range ids {
		m := byID[id]
		if err := rule(actor, g, id, m, live, mem, pol); err != nil {
			return nil, pol, err
		}
		out[i] = *m
	}
	return out, pol, nil
}
