package chat_test

import (
	"context"
	"testing"

	"seen/internal/chat"
)

// TestExMembersAndDestroyedGroupsLoseReceipts checks maySeeReceipts and mayAck on every
// path: a sender who left or was removed, and everyone after the group is
// destroyed, can no longer list readers or unread members, read counts,
// see statistics or ack; and a refused ack counts nothing.
func TestExMembersAndDestroyedGroupsLoseReceipts(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		for _, tc := range []struct {
			name string
			// lose takes the sender's access to group g away.
			lose func(e *env, owner, sender chat.Actor, g chat.GroupID) error
			// want is the code the refused get.
			want chat.Code
			// also refused for the owner and the administrator.
			everyone bool
		}{
			{"leave", func(e *env, _, sender chat.Actor, g chat.GroupID) error {
				return e.svc.Leave(context.Background(), sender, g)
			}, chat.CodeNotMember, false},
			{"removal", func(e *env, owner, sender chat.Actor, g chat.GroupID) error {
				return e.svc.RemoveMember(context.Background(), owner, g, sender.Name)
			}, chat.CodeNotMember, false},
			{"destroy", func(e *env, owner, _ chat.Actor, g chat.GroupID) error {
				return e.svc.DestroyGroup(context.Background(), owner, g)
			}, chat.CodeGroupNotFound, true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				// Pushes unfolded and published by the ack batcher itself, in
				// commit order.
				e := newEnv(t, withConfig(func(c *chat.Config) { c.GroupAckSenders = "all"; c.CoalesceInterval = 0 }))
				ctx := context.Background()
				u := e.users(t, "owner", "sender", "carol", "dave")
				owner, sender, carol := u[0], u[1], u[2]
				g := e.group(t, owner, sender, carol, u[3])
				m := e.sendGroup(t, sender, g, true)
				mo := e.sendGroup(t, owner, g, true)
				for _, id := range []chat.MsgID{m.ID, mo.ID} {
					if r := ack(t, e, carol, g, id, ""); !r.Counted {
						t.Fatalf("carol's ack of %s = %+v, want counted", id, r)
					}
				}
				// Before: the sender sees its receipts.
				if p, err := e.svc.Unread(ctx, sender, g, m.ID, "", 10); err != nil || p.Total != 2 {
					t.Fatalf("Unread before = %+v, %v; want 2 unread", p, err)
				}
				if got := statsAll(t, e, sender); got[m.ID].Count != 1 {
					t.Fatalf("stats before = %+v, want m with count 1", got)
				}
				toSender, toOwner := e.record(t, chat.UserTopic(sender.User)), e.record(t, chat.UserTopic(owner.User))
				if err := tc.lose(e, owner, sender, g); err != nil {
					t.Fatal(err)
				}
				// One more change of m's count while the sender is outside (not
				// possible after destroy: the ack is refused): no push to the
				// sender. Then one of mo's, pushed to the owner once every
				// push of the earlier batch was published.
				r := ack(t, e, u[3], g, m.ID, "")
				if tc.everyone {
					wantCode(t, "dave's ack after destroy", r.Err, chat.CodeGroupNotFound)
				} else {
					if !r.Counted {
						t.Errorf("dave's ack = %+v, want counted", r)
					}
					if r := ack(t, e, u[3], g, mo.ID, ""); !r.Counted {
						t.Errorf("dave's ack of mo = %+v, want counted", r)
					}
					toOwner.waitFor(t, "owner's push of mo", func(ev chat.Event) bool {
						return ev.Kind == chat.EventReceipt && ev.Receipt.Msg == mo.ID && ev.Receipt.Count == 2
					})
					for _, ev := range toSender.events() {
						if ev.Kind == chat.EventReceipt {
							t.Errorf("push to the sender after %s: %+v", tc.name, *ev.Receipt)
						}
					}
				}

				refused := []chat.Actor{sender}
				if tc.everyone {
					refused = append(refused, owner, chat.AdminActor)
				}
				for _, a := range refused {
					who := a.Name
					_, err := e.svc.Readers(ctx, a, g, m.ID, chat.OldestFirst, "", 10)
					wantCode(t, who+": Readers", err, tc.want)
					_, err = e.svc.Readers(ctx, a, g, m.ID, chat.NewestFirst, "", 10)
					wantCode(t, who+": Readers(desc)", err, tc.want)
					_, err = e.svc.Unread(ctx, a, g, m.ID, "", 10)
					wantCode(t, who+": Unread", err, tc.want)
					_, err = e.svc.ReadCounts(ctx, a, g, []chat.MsgID{m.ID}, false)
					wantCode(t, who+": ReadCounts", err, tc.want)
					_, err = e.svc.ReadCounts(ctx, a, g, []chat.MsgID{m.ID}, true)
					wantCode(t, who+": ReadCounts(withUnread)", err, tc.want)
				}
				// Acks: the sender's own (and after destroy everyone's) are
				// refused and count nothing.
				acks := []chat.Actor{sender}
				if tc.everyone {
					acks = append(acks, owner, carol)
				}
				for _, a := range acks {
					for _, id := range []chat.MsgID{m.ID, mo.ID} {
						r := ack(t, e, a, g, id, "")
						wantCode(t, a.Name+": Ack", r.Err, tc.want)
						if r.Counted {
							t.Errorf("%s: Ack counted", a.Name)
						}
					}
				}
				// Statistics: the sender's devices see no more of the group.
				if got := statsAll(t, e, sender); len(got) != 0 {
					t.Errorf("stats after %s = %+v, want none", tc.name, got)
				}
				if tc.everyone {
					if got := statsAll(t, e, owner); len(got) != 0 {
						t.Errorf("owner's stats after destroy = %+v, want none", got)
					}
					return
				}
				// The group's managers still see everything, the refused
				// acks counted nothing: carol and dave read m and mo.
				c, err := e.svc.ReadCounts(ctx, owner, g, []chat.MsgID{m.ID, mo.ID}, true)
				if err != nil {
					t.Fatal(err)
				}
				if c.Counts[m.ID] != 2 || c.Counts[mo.ID] != 2 {
					t.Errorf("owner's counts = %v, want m:2, mo:2", c.Counts)
				}
			})
		}
	})
}

// TestReceiptAccessCodes checks the codes of the one rule for the
// listings where access is refused for more than one reason.
func TestReceiptAccessCodes(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		e := newEnv(t)
		ctx := context.Background()
		u := e.users(t, "owner", "bob", "outsider")
		owner, bob, outsider := u[0], u[1], u[2]
		g := e.group(t, owner, bob)
		other := e.group(t, owner, bob)
		m := e.sendGroup(t, owner, g, true)
		plain := e.sendGroup(t, owner, g, false)
		for _, tc := range []struct {
			name  string
			actor chat.Actor
			g     chat.GroupID
			id    chat.MsgID
			want  chat.Code
		}{
			{"no such group", owner, g + 1000, m.ID, chat.CodeGroupNotFound},
			{"message of another group", owner, other, m.ID, chat.CodeMessageNotFound},
			{"unknown message", owner, g, m.ID + 999, chat.CodeMessageNotFound},
			{"plain message", owner, g, plain.ID, chat.CodeNotAllowed},
			{"outsider", outsider, g, m.ID, chat.CodeNotMember},
			{"member", bob, g, m.ID, chat.CodePermissionDenied},
			{"owner", owner, g, m.ID, ""},
			{"administrator", chat.AdminActor, g, m.ID, ""},
		} {
			_, err := e.svc.Readers(ctx, tc.actor, tc.g, tc.id, chat.OldestFirst, "", 10)
			wantCode(t, tc.name+": Readers", err, tc.want)
			_, err = e.svc.Unread(ctx, tc.actor, tc.g, tc.id, "", 10)
			wantCode(t, tc.name+": Unread", err, tc.want)
			_, err = e.svc.ReadCounts(ctx, tc.actor, tc.g, []chat.MsgID{tc.id}, true)
			wantCode(t, tc.name+": ReadCounts", err, tc.want)
		}
	})
}
