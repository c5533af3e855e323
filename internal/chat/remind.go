package chat

import (
	"context"
	"encoding/json"
	"slices"
	"time"
)

// MaxRemindUsers is the most members one Remind may name.
const MaxRemindUsers = 1000

// RemindResult is the outcome of a Remind.
type RemindResult struct {
	Reminded int       // members reminded
	Skipped  []string  // named members not reminded: read it already, or not eligible
	At       time.Time // when
	NextAt   time.Time // the earliest time the message may be reminded again
}

// Remind reminds the eligible members of group g who have not read
// message id (all of them when users is empty, else those named, at most
// MaxRemindUsers). The sender, the owner and admins may (and the
// administrator), where the group's policy shows them the receipts; a
// reminder naming members only where it shows lists (mayRemind). Each reminded member gets a stored reminder (a message
// of TypeRemind, To the member, AckMsg id) that sync delivers to every
// device, and a live push; the count and time of reminders show in the
// unread list; a webhook event is written in the same transaction. A
// message is reminded at most once per Config.RemindInterval
// (CodeLimitExceeded, naming the limit).
//
// Everything is one transaction, whatever the number of members reminded:
// the unread members are read in one query (bounded by the group's size,
// at most Config.MaxGroupMembers), then the reminders are numbered with
// one NextSeq and inserted in chunks, so the message counter is held only
// for the inserts. A reminder is all or nothing: the rate limit is never
// spent on a half-done one. When there is nobody to remind, nothing is
// stored and the limit is not spent.
func (s *Service) Remind(ctx context.Context, actor Actor, g GroupID, id MsgID, users []string) (RemindResult, error) {
	if id <= 0 {
		return RemindResult{}, Errorf(CodeBadRequest, "message id must be positive")
	}
	if len(users) > MaxRemindUsers {
		return RemindResult{}, Errorf(CodeBadRequest, "remind at most %d named members at a time (none: every unread member)", MaxRemindUsers)
	}
	named := make([]string, 0, len(users))
	for _, u := range users {
		n, err := NormalizeName(u)
		if err != nil {
			return RemindResult{}, err
		}
		if !slices.Contains(named, n) {
			named = append(named, n)
		}
	}
	now := s.now()
	res := RemindResult{At: now, NextAt: now, Skipped: []string{}}
	var sent []*Message
	err := s.write(ctx, "remind", func(tx Tx) error {
		// The group's row lock serializes reminders of its messages, so
		// that the rate limit holds across nodes. A destroyed group is
		// refused as mayRemind refuses it (receiptTarget).
		if _, err := lockGroup(ctx, tx, g); err != nil {
			return err
		}
		m, c, err := s.remindTarget(ctx, tx, actor, g, id, len(named) > 0)
		if err != nil {
			return err
		}
		if err := mayRemindAgain(s.cfg, c, now); err != nil {
			return err
		}
		var targets []Member
		if len(named) == 0 {
			if targets, err = tx.UnreadList(ctx, g, id, m.Seq, m.From, 0, 0); err != nil {
				return err
			}
		} else {
			found, err := tx.UsersByName(ctx, named)
			if err != nil {
				return err
			}
			ids := make([]UserID, len(found))
			for i, u := range found {
				ids[i] = u.ID
			}
			if targets, err = tx.UnreadAmong(ctx, g, id, m.Seq, m.From, ids); err != nil {
				return err
			}
			in := make(map[string]bool, len(targets))
			for _, t := range targets {
				in[t.Name] = true
			}
			for _, n := range named {
				if !in[n] {
					res.Skipped = append(res.Skipped, n)
				}
			}
		}
		// Rows the SQL pre-filter let through pass the rule too
		// (TestEligibleReaderSQL); filter once more, in Go, to be sure.
		// Only a name the caller gave is reported skipped: a reminder of
		// everyone names nobody, and may be allowed where lists are not.
		targets = slices.DeleteFunc(targets, func(mem Member) bool {
			if eligibleReader(m, mem) {
				return false
			}
			if len(named) > 0 {
				res.Skipped = append(res.Skipped, mem.Name)
			}
			return true
		})
		if len(targets) == 0 {
			if iv := s.cfg.RemindInterval; iv > 0 && !c.RemindAt.IsZero() && c.RemindAt.Add(iv).After(now) {
				res.NextAt = c.RemindAt.Add(iv)
			}
			return nil
		}
		sent, err = s.storeReminders(ctx, tx, actor, m, c, targets, now)
		if err != nil {
			return err
		}
		res.Reminded = len(targets)
		res.NextAt = now.Add(s.cfg.RemindInterval)
		return nil
	})
	if err != nil {
		return RemindResult{}, internal("remind", err)
	}
	for _, r := range sent {
		s.publish(UserTopic(r.To), Event{Kind: EventMessage, Message: r})
	}
	return res, nil
}

// remindTarget loads message id of group g and its receipt count, and
// applies mayRemind (named: the reminder names members).
func (s *Service) remindTarget(ctx context.Context, tx Tx, actor Actor, g GroupID, id MsgID, named bool) (Message, ReceiptCount, error) {
	ms, _, err := s.checkedMessages(ctx, tx, actor, g, []MsgID{id},
		func(actor Actor, g GroupID, id MsgID, m *Message, live bool, mem *Member, pol ReceiptPolicy) error {
			return mayRemind(actor, g, id, m, live, mem, pol, named)
		})
	if err != nil {
		return Message{}, ReceiptCount{}, err
	}
	cs, err := tx.ReceiptCounts(ctx, []MsgID{id})
	if err != nil {
		return Message{}, ReceiptCount{}, err
	}
	if len(cs) != 1 {
		return Message{}, ReceiptCount{}, Errorf(CodeMessageNotFound, "no receipts of message %s", id)
	}
	return ms[0], cs[0], nil
}

// storeReminders stores one reminder message per target, numbered with
// one NextSeq, counts them (MarkReminded), and writes the webhook events,
// one per at most MaxRemindUsers members per target. It returns the
// messages, ready to publish.
func (s *Service) storeReminders(ctx context.Context, tx Tx, actor Actor, m Message, c ReceiptCount, targets []Member, now time.Time) ([]*Message, error) {
	first, err := tx.NextSeq(ctx, SeqMessages, len(targets))
	if err != nil {
		return nil, err
	}
	msgs := make([]*Message, len(targets))
	ids := make([]UserID, len(targets))
	from := actor.Name
	if actor.User == 0 {
		from = "" // the administrator: as sync presents it (fillNames)
	}
	for i, t := range targets {
		ids[i] = t.User
		msgs[i] = &Message{
			ID: MsgID(s.ids.Next()), Seq: first + int64(i), Conv: GroupConv(m.Group), Type: TypeRemind, ChatType: GroupChat,
			From: actor.User, To: t.User, Group: m.Group, AckMsg: m.ID, SentAt: now,
			FromName: from, ToName: t.Name, ReadCount: -1, OriginDevice: actor.Device, OriginConn: actor.Conn,
		}
	}
	if err := tx.InsertMessages(ctx, msgs); err != nil {
		return nil, err
	}
	if err := tx.MarkReminded(ctx, m.ID, ids, now); err != nil {
		return nil, err
	}
	if len(s.cfg.WebhookTargets) == 0 {
		return msgs, nil
	}
	names, err := userNames(ctx, tx, []UserID{m.From})
	if err != nil {
		return nil, err
	}
	var evs []WebhookEvent
	for part := range slices.Chunk(targets, MaxRemindUsers) {
		ev := WebhookEvent{
			Kind: WebhookRemind, Group: m.Group, Msg: m.ID, Sender: names[m.From], SenderID: m.From,
			Count: c.Count, Eligible: c.Eligible, At: ms(now), Users: make([]string, len(part)),
		}
		if actor.Admin {
			ev.ByAdmin = true
		} else {
			ev.By, ev.ByID = actor.Name, actor.User
		}
		for i, t := range part {
			ev.Users[i] = t.Name
		}
		evs = append(evs, ev)
	}
	rows, err := s.outboxRows(evs, now)
	if err != nil {
		return nil, err
	}
	return msgs, tx.InsertOutbox(ctx, rows)
}

// outboxRows makes the outbox rows of events: one per event per
// configured target, due at now.
func (s *Service) outboxRows(evs []WebhookEvent, now time.Time) ([]OutboxEvent, error) {
	rows := make([]OutboxEvent, 0, len(evs)*len(s.cfg.WebhookTargets))
	for _, ev := range evs {
		payload, err := json.Marshal(ev)
		if err != nil {
			return nil, err
		}
		for _, t := range s.cfg.WebhookTargets {
			rows = append(rows, OutboxEvent{Target: t, Kind: ev.Kind, Payload: payload, CreatedAt: now, NextAt: now})
		}
	}
	return rows, nil
}
