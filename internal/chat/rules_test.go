package chat_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"seen/internal/chat"
)

// TestEligibleReaderSQL is the conformance test of the store's SQL
// pre-filters with the Go rule of who is an eligible reader
// (chat.eligibleReader), on both stores: for every case of the rule
// table, a user is listed and counted unread (Tx.Unread, Tx.UnreadTotal)
// and offered to the conversation ack (Tx.UnreadReceiptMsgs) exactly when
// the rule calls it eligible and it has not read the message; and an ack
// counts exactly then too.
func TestEligibleReaderSQL(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		e := newEnv(t, withConfig(func(c *chat.Config) { c.GroupAckSenders = "all" }))
		ctx := context.Background()
		u := e.users(t, "owner", "admin", "sender", "before", "after", "left", "removed", "readded", "read", "outsider", "private",
			"backon", "onbefore", "flicker")
		owner, admin, sender, before, after, left, removed, readded, read, outsider := u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9]
		private, backOn, onBefore, flicker := u[10], u[11], u[12], u[13]
		must := func(what string, err error) {
			t.Helper()
			if err != nil {
				t.Fatalf("%s = %v", what, err)
			}
		}
		g := e.group(t, owner, admin, sender, before, left, removed, readded, read, private, backOn, onBefore, flicker)
		must("SetAdmin", e.svc.SetAdmin(ctx, owner, g, admin.Name, true))
		receipts := func(who chat.Actor, on bool) {
			t.Helper()
			_, err := e.svc.SetSettings(ctx, who, chat.SettingsUpdate{SendReadReceipts: &on})
			must("SetSettings("+who.Name+")", err)
		}
		receipts(private, false)
		receipts(backOn, false)
		receipts(onBefore, false)
		receipts(onBefore, true)
		receipts(onBefore, true) // on while on: no break, nothing changes
		m := e.sendGroup(t, sender, g, true)
		receipts(backOn, true)
		receipts(flicker, false)
		receipts(flicker, true)
		var err error
		_, err = e.svc.AddMembers(ctx, owner, g, []string{after.Name})
		must("AddMembers(after)", err)
		must("Leave(left)", e.svc.Leave(ctx, left, g))
		must("RemoveMember(removed)", e.svc.RemoveMember(ctx, owner, g, removed.Name))
		must("RemoveMember(readded)", e.svc.RemoveMember(ctx, owner, g, readded.Name))
		_, err = e.svc.AddMembers(ctx, owner, g, []string{readded.Name})
		must("AddMembers(readded)", err)
		if r := ack(t, e, read, g, m.ID, ""); r.Err != nil || !r.Counted {
			t.Fatalf("ack by read = %+v, want counted", r)
		}
		// A destroyed group: its members are gone with it.
		gone := e.group(t, owner, sender, before)
		mGone := e.sendGroup(t, sender, gone, true)
		must("DestroyGroup", e.svc.DestroyGroup(ctx, owner, gone))

		for _, tc := range []struct {
			name     string
			who      chat.Actor
			g        chat.GroupID
			m        chat.Message
			eligible bool // the rule table: what eligibleReader must say
			hasRead  bool
		}{
			{"owner", owner, g, m, true, false},
			{"admin", admin, g, m, true, false},
			{"sender", sender, g, m, false, false},
			{"member joined before", before, g, m, true, false},
			{"member joined after", after, g, m, false, false},
			{"member who left", left, g, m, false, false},
			{"member removed", removed, g, m, false, false},
			{"member removed and re-added", readded, g, m, false, false},
			{"member who read it", read, g, m, true, true},
			{"never a member", outsider, g, m, false, false},
			{"member with receipts off", private, g, m, false, false},
			{"member with receipts off at send, on again after", backOn, g, m, false, false},
			{"member with receipts off and on again before send", onBefore, g, m, true, false},
			{"member with receipts on at send, off and on again after", flicker, g, m, false, false},
			{"member of a destroyed group", before, gone, mGone, false, false},
			{"sender in a destroyed group", sender, gone, mGone, false, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var mem *chat.Member
				var unread []chat.Member
				var total int
				var offered []chat.Message
				err := e.store.Read(ctx, func(tx chat.Tx) error {
					mb, err := tx.Member(ctx, tc.g, tc.who.User)
					switch {
					case err == nil:
						mem = &mb
					case !errors.Is(err, chat.ErrNotFound):
						return err
					}
					if unread, total, err = tx.Unread(ctx, tc.g, tc.m.ID, tc.m.Seq, tc.m.From, 0, 1000); err != nil {
						return err
					}
					head, err := tx.HeadSeq(ctx, chat.SeqMessages)
					if err != nil || mem == nil {
						return err
					}
					// As the conversation ack asks (ackAllReceipts).
					offered, err = tx.UnreadReceiptMsgs(ctx, tc.g, tc.who.User, mem.JoinSeq, head, chat.MaxAckBatch)
					return err
				})
				if err != nil {
					t.Fatalf("read = %v", err)
				}
				rule := mem != nil && chat.EligibleReader(tc.m, *mem)
				if rule != tc.eligible {
					t.Fatalf("eligibleReader = %v, want %v (membership %+v)", rule, tc.eligible, mem)
				}
				want := rule && !tc.hasRead
				listed := slices.ContainsFunc(unread, func(x chat.Member) bool { return x.User == tc.who.User })
				if listed != want {
					t.Errorf("Tx.Unread lists the user: %v, want %v (eligible %v, read %v)", listed, want, rule, tc.hasRead)
				}
				if total != len(unread) {
					t.Errorf("Tx.UnreadTotal = %d, Tx.Unread lists %d", total, len(unread))
				}
				if mem != nil {
					got := slices.ContainsFunc(offered, func(x chat.Message) bool { return x.ID == tc.m.ID })
					if got != want {
						t.Errorf("Tx.UnreadReceiptMsgs offers the message: %v, want %v", got, want)
					}
				}
				rs, err := e.svc.Ack(ctx, tc.who, tc.g, []chat.AckItem{{Msg: tc.m.ID}})
				if err != nil {
					t.Fatalf("Ack = %v", err)
				}
				if rs[0].Counted != want {
					t.Errorf("Ack = %+v, counted %v, want %v", rs[0], rs[0].Counted, want)
				}
			})
		}
		// Every eligible reader has acked now: nobody is left unread.
		err = e.store.Read(ctx, func(tx chat.Tx) error {
			us, n, err := tx.Unread(ctx, g, m.ID, m.Seq, m.From, 0, 1000)
			if err == nil && (n != 0 || len(us) != 0) {
				t.Errorf("Tx.Unread after every eligible ack = %d (%v), want none", n, us)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestEligibleExactUnderRaces: Eligible, counted at send before the
// message counter is taken (countEligible), is exactly the eligible
// readers the rule finds once the send committed, when a join and a
// member's turning receipts on race with the send (on PostgreSQL, where
// they run at once; on SQLite they serialize).
func TestEligibleExactUnderRaces(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		e := newEnv(t)
		ctx := context.Background()
		u := e.users(t, "owner", "a", "switch")
		owner, sw := u[0], u[2]
		g := e.group(t, owner, u[1], sw)
		rounds := 30
		if testing.Short() {
			rounds = 5
		}
		for i := range rounds {
			joiner := e.users(t, fmt.Sprintf("joiner%d", i))[0]
			off, on := false, true
			if _, err := e.svc.SetSettings(ctx, sw, chat.SettingsUpdate{SendReadReceipts: &off}); err != nil {
				t.Fatal(err)
			}
			start := make(chan struct{})
			errs := make(chan error, 3)
			var m chat.Message
			go func() {
				<-start
				var err error
				m, err = e.svc.Send(ctx, owner, chat.Outgoing{LocalID: nextLocal(), Type: chat.TypeText, ChatType: chat.GroupChat, To: g.String(), Text: "hi", AllowGroupAck: true})
				errs <- err
			}()
			go func() {
				<-start
				_, err := e.svc.AddMembers(ctx, owner, g, []string{joiner.Name})
				errs <- err
			}()
			go func() {
				<-start
				_, err := e.svc.SetSettings(ctx, sw, chat.SettingsUpdate{SendReadReceipts: &on})
				errs <- err
			}()
			close(start)
			for range 3 {
				if err := <-errs; err != nil {
					t.Fatalf("round %d: %v", i, err)
				}
			}
			err := e.store.Read(ctx, func(tx chat.Tx) error {
				cs, err := tx.ReceiptCounts(ctx, []chat.MsgID{m.ID})
				if err != nil || len(cs) != 1 {
					return fmt.Errorf("receipt counts = %v, %v", cs, err)
				}
				n, err := tx.UnreadTotal(ctx, g, m.ID, m.Seq, m.From)
				if err != nil {
					return err
				}
				if cs[0].Eligible != n {
					t.Errorf("round %d: Eligible at send = %d, the rule finds %d eligible readers now", i, cs[0].Eligible, n)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	})
}
