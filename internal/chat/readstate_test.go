package chat_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"seen/internal/chat"
)

// TestHistoryCarriesPeerReadState checks isRead / isDelivered in single-chat
// history: set on the messages I sent from the peer's read and delivery
// receipts and conversation acks, never on the peer's messages, the same on
// every page.
func TestHistoryCarriesPeerReadState(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		e := newEnv(t)
		ctx := context.Background()
		u := e.users(t, "alice", "bob", "carol")
		alice, bob, carol := u[0], u[1], u[2]
		send := func(from chat.Actor, to, text string) chat.Message {
			t.Helper()
			m, err := e.svc.Send(ctx, from, chat.Outgoing{LocalID: nextLocal(), Type: chat.TypeText, ChatType: chat.SingleChat, To: to, Text: text})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		receipt := func(k chat.EventKind, id chat.MsgID) {
			t.Helper()
			if err := e.svc.PeerReceipt(ctx, bob, k, "alice", id); err != nil {
				t.Fatalf("PeerReceipt(%s, %s) = %v", k, id, err)
			}
		}
		send(alice, "bob", "m1")
		send(alice, "bob", "m2")
		if _, err := e.svc.AckConversation(ctx, bob, chat.SingleChat, "alice"); err != nil { // covers m1, m2
			t.Fatal(err)
		}
		m3 := send(alice, "bob", "m3")
		m4 := send(alice, "bob", "m4")
		send(alice, "bob", "m5")
		b1 := send(bob, "alice", "b1")
		receipt(chat.EventDelivered, m3.ID)
		receipt(chat.EventPeerRead, m4.ID) // read without a delivery receipt: delivered too
		if err := e.svc.PeerReceipt(ctx, alice, chat.EventPeerRead, "bob", b1.ID); err != nil {
			t.Fatal(err)
		}
		// A read receipt in another conversation says nothing of this one.
		c1 := send(alice, "carol", "c1")
		if err := e.svc.PeerReceipt(ctx, carol, chat.EventPeerRead, "alice", c1.ID); err != nil {
			t.Fatal(err)
		}

		type state struct {
			Text            string
			Read, Delivered bool
		}
		history := func(a chat.Actor, with string, limit int) []state {
			t.Helper()
			var out []state
			q := chat.HistoryQuery{ChatType: chat.SingleChat, With: with, Limit: limit, Newer: true}
			for i := 0; i < 100; i++ {
				p, err := e.svc.History(ctx, a, q)
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range p.Messages {
					out = append(out, state{m.Text, m.PeerRead, m.PeerDelivered})
				}
				if p.IsLast {
					return out
				}
				q.Cursor = p.Cursor
			}
			t.Fatal("history does not end")
			return nil
		}
		for _, limit := range []int{100, 2} {
			want := []state{
				{"m1", true, true}, {"m2", true, true}, {"m3", false, true}, {"m4", true, true}, {"m5", false, false},
				{"b1", false, false}, // bob's: not mine
			}
			if diff := cmp.Diff(want, history(alice, "bob", limit)); diff != "" {
				t.Errorf("alice's history with bob (limit %d) (-want +got):\n%s", limit, diff)
			}
			// Bob's view: alice read b1; alice's messages are not his.
			want = []state{
				{"m1", false, false}, {"m2", false, false}, {"m3", false, false}, {"m4", false, false}, {"m5", false, false},
				{"b1", true, true},
			}
			if diff := cmp.Diff(want, history(bob, "alice", limit)); diff != "" {
				t.Errorf("bob's history with alice (limit %d) (-want +got):\n%s", limit, diff)
			}
		}
		if diff := cmp.Diff([]state{{"c1", true, true}}, history(alice, "carol", 10)); diff != "" {
			t.Errorf("alice's history with carol (-want +got):\n%s", diff)
		}
		// A later conversation ack covers everything up to the head.
		if _, err := e.svc.AckConversation(ctx, bob, chat.SingleChat, "alice"); err != nil {
			t.Fatal(err)
		}
		for _, s := range history(alice, "bob", 10) {
			if mine := s.Text != "b1"; s.Read != mine || s.Delivered != mine {
				t.Errorf("after bob's second conversation ack: %+v, want read and delivered = %v", s, mine)
			}
		}
	})
}
