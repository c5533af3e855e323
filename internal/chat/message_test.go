package chat_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"seen/internal/chat"
)

func TestSendValidation(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		e := newEnv(t, withConfig(func(c *chat.Config) { c.MaxMessageBytes = 100 }))
		ctx := context.Background()
		u := e.users(t, "alice", "bob", "eve")
		g := e.group(t, u[0], u[1])
		ok := chat.Outgoing{LocalID: "1", Type: chat.TypeText, ChatType: chat.SingleChat, To: "bob", Text: "hi"}
		for _, tc := range []struct {
			name string
			edit func(*chat.Outgoing)
			want chat.Code
		}{
			{"no local id", func(o *chat.Outgoing) { o.LocalID = "" }, chat.CodeBadRequest},
			{"long local id", func(o *chat.Outgoing) { o.LocalID = strings.Repeat("x", 65) }, chat.CodeBadRequest},
			{"unknown type", func(o *chat.Outgoing) { o.Type = "img" }, chat.CodeBadRequest},
			{"empty text", func(o *chat.Outgoing) { o.Text = "" }, chat.CodeBadRequest},
			{"unknown chat type", func(o *chat.Outgoing) { o.ChatType = "room" }, chat.CodeBadRequest},
			{"unknown peer", func(o *chat.Outgoing) { o.To = "ghost" }, chat.CodeUserNotFound},
			{"bad group id", func(o *chat.Outgoing) { o.ChatType, o.To = chat.GroupChat, "abc" }, chat.CodeBadRequest},
			{"unknown group", func(o *chat.Outgoing) { o.ChatType, o.To = chat.GroupChat, "12345" }, chat.CodeGroupNotFound},
			{"too large", func(o *chat.Outgoing) { o.Text = strings.Repeat("x", 101) }, chat.CodeTooLarge},
			{"ext not object", func(o *chat.Outgoing) { o.Ext = []byte(`"s"`) }, chat.CodeBadRequest},
			{"custom without event", func(o *chat.Outgoing) { o.Type, o.Text = chat.TypeCustom, "" }, chat.CodeBadRequest},
			{"custom exts not object", func(o *chat.Outgoing) {
				o.Type, o.Text, o.CustomEvent, o.CustomExts = chat.TypeCustom, "", "e", []byte(`[]`)
			}, chat.CodeBadRequest},
			{"text with custom event", func(o *chat.Outgoing) { o.CustomEvent = "e" }, chat.CodeBadRequest},
		} {
			o := ok
			tc.edit(&o)
			_, err := e.svc.Send(ctx, u[0], o)
			wantCode(t, tc.name, err, tc.want)
		}
		// A non-member cannot send to the group, and nothing is stored.
		_, err := e.svc.Send(ctx, u[2], chat.Outgoing{LocalID: "x", Type: chat.TypeText, ChatType: chat.GroupChat, To: g.String(), Text: "hi"})
		wantCode(t, "non-member sends", err, chat.CodeNotMember)
		p, err := e.svc.History(ctx, u[0], chat.HistoryQuery{ChatType: chat.GroupChat, With: g.String()})
		if err != nil || len(p.Messages) != 0 {
			t.Errorf("History after refused sends = %d messages, %v; want none", len(p.Messages), err)
		}
		// A custom message round-trips.
		m, err := e.svc.Send(ctx, u[0], chat.Outgoing{LocalID: "c1", Type: chat.TypeCustom, ChatType: chat.SingleChat, To: "bob",
			CustomEvent: "vote", CustomExts: []byte(`{"a":"b"}`), Ext: []byte(`{"k":1}`)})
		if err != nil {
			t.Fatalf("Send(custom) = %v", err)
		}
		h, err := e.svc.History(ctx, u[1], chat.HistoryQuery{ChatType: chat.SingleChat, With: "alice"})
		if err != nil || len(h.Messages) != 1 {
			t.Fatalf("History(bob) = %+v, %v", h, err)
		}
		got := h.Messages[0]
		if got.ID != m.ID || got.CustomEvent != "vote" || string(got.CustomExts) != `{"a":"b"}` || string(got.Ext) != `{"k":1}` || got.FromName != "alice" || got.ToName != "bob" {
			t.Errorf("History(bob)[0] = %+v, want the custom message", got)
		}
	})
}

func TestSendIsIdempotent(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		e := newEnv(t)
		ctx := context.Background()
		u := e.users(t, "alice", "bob")
		o := chat.Outgoing{LocalID: "same", Type: chat.TypeText, ChatType: chat.SingleChat, To: "bob", Text: "once"}
		// Concurrent resends land in one batch or several; either way one message.
		var wg sync.WaitGroup
		ids := make([]chat.MsgID, 8)
		for i := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				m, err := e.svc.Send(ctx, u[0], o)
				if err != nil {
					t.Errorf("Send = %v", err)
				}
				ids[i] = m.ID
			}()
		}
		wg.Wait()
		for _, id := range ids {
			if id != ids[0] || id == 0 {
				t.Fatalf("resend ids = %v, want all equal", ids)
			}
		}
		h, _ := e.svc.History(ctx, u[1], chat.HistoryQuery{ChatType: chat.SingleChat, With: "alice"})
		if len(h.Messages) != 1 {
			t.Errorf("stored %d messages, want 1", len(h.Messages))
		}
		// The same local id from another sender is another message.
		m, err := e.svc.Send(ctx, u[1], chat.Outgoing{LocalID: "same", Type: chat.TypeText, ChatType: chat.SingleChat, To: "alice", Text: "mine"})
		if err != nil || m.ID == ids[0] {
			t.Errorf("Send(bob, same local id) = %v, %v; want a new message", m.ID, err)
		}
	})
}

func TestSyncDeliversMissedMessagesOnce(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		e := newEnv(t)
		ctx := context.Background()
		u := e.users(t, "alice", "bob", "carol")
		alice, bob, carol := u[0], u[1], u[2]
		g := e.group(t, alice, bob)
		// carol is added later: she must not get what came before.
		var want []chat.MsgID
		for i := 0; i < 5; i++ {
			want = append(want, e.sendGroup(t, alice, g, false).ID)
		}
		m, err := e.svc.Send(ctx, alice, chat.Outgoing{LocalID: "s1", Type: chat.TypeText, ChatType: chat.SingleChat, To: "bob", Text: "dm"})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, m.ID)
		if _, err := e.svc.AddMembers(ctx, alice, g, []string{"carol"}); err != nil {
			t.Fatal(err)
		}
		late := e.sendGroup(t, alice, g, false)
		want = append(want, late.ID)

		// bob pages through with page size 2.
		got := syncAll(t, e, bob, 2)
		if !equalIDs(got, want) {
			t.Errorf("Sync(bob) = %v, want %v", got, want)
		}
		// After confirming, nothing twice.
		if again := syncAll(t, e, bob, 2); len(again) != 0 {
			t.Errorf("Sync(bob) after confirming = %v, want nothing", again)
		}
		// A new device of bob starts where his furthest device is, then
		// has its own position.
		bob2 := bob
		bob2.Device = "d2"
		if got := syncAll(t, e, bob2, 100); len(got) != 0 {
			t.Errorf("Sync(bob's new device) = %v, want nothing already seen on d1", got)
		}
		next := e.sendGroup(t, alice, g, false)
		if got := syncAll(t, e, bob2, 100); !equalIDs(got, []chat.MsgID{next.ID}) {
			t.Errorf("Sync(bob on d2) = %v, want [%v]", got, next.ID)
		}
		if got := syncAll(t, e, bob, 100); !equalIDs(got, []chat.MsgID{next.ID}) {
			t.Errorf("Sync(bob on d1) = %v, want [%v]", got, next.ID)
		}
		want = append(want, next.ID)
		// carol sees only what came after she joined.
		if got := syncAll(t, e, carol, 100); !equalIDs(got, []chat.MsgID{late.ID, next.ID}) {
			t.Errorf("Sync(carol) = %v, want [%v %v]", got, late.ID, next.ID)
		}
		// The sender's own devices get their own messages too.
		if got := syncAll(t, e, alice, 100); !equalIDs(got, want) {
			t.Errorf("Sync(alice) = %v, want %v", got, want)
		}
		// Acks beyond the head are refused.
		_, err = e.svc.Sync(ctx, bob, 1<<40, 10)
		wantCode(t, "Sync(ack beyond head)", err, chat.CodeBadRequest)
	})
}

// syncAll loops sync pages as a client does and returns the message ids.
func syncAll(t *testing.T, e *env, a chat.Actor, limit int) []chat.MsgID {
	t.Helper()
	var ids []chat.MsgID
	var ack int64
	for i := 0; ; i++ {
		p, err := e.svc.Sync(context.Background(), a, ack, limit)
		if err != nil {
			t.Fatalf("Sync = %v", err)
		}
		for _, m := range p.Messages {
			ids = append(ids, m.ID)
		}
		ack = p.Next
		if !p.More {
			if _, err := e.svc.Sync(context.Background(), a, ack, 1); err != nil {
				t.Fatalf("Sync(confirm) = %v", err)
			}
			return ids
		}
		if i > 1000 {
			t.Fatal("sync does not end")
		}
	}
}

func equalIDs(a, b []chat.MsgID) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestHistoryPaging(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		e := newEnv(t)
		ctx := context.Background()
		u := e.users(t, "alice", "bob")
		g := e.group(t, u[0], u[1])
		var ids []chat.MsgID
		for i := 0; i < 7; i++ {
			ids = append(ids, e.sendGroup(t, u[0], g, i%2 == 0).ID)
		}
		var older []chat.MsgID
		q := chat.HistoryQuery{ChatType: chat.GroupChat, With: g.String(), Limit: 3}
		for {
			p, err := e.svc.History(ctx, u[0], q)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range p.Messages {
				older = append(older, m.ID)
				if m.AllowGroupAck && m.ReadCount != 0 {
					t.Errorf("ReadCount of own receipt message = %d, want 0", m.ReadCount)
				}
				if !m.AllowGroupAck && m.ReadCount != -1 {
					t.Errorf("ReadCount of a plain message = %d, want -1", m.ReadCount)
				}
			}
			if p.IsLast {
				break
			}
			q.Cursor = p.Cursor
		}
		for i := range ids {
			if older[i] != ids[len(ids)-1-i] {
				t.Fatalf("History older = %v, want newest first of %v", older, ids)
			}
		}
		p, err := e.svc.History(ctx, u[1], chat.HistoryQuery{ChatType: chat.GroupChat, With: g.String(), Newer: true, Limit: 100})
		if err != nil || !equalIDs(idsOf(p.Messages), ids) {
			t.Errorf("History newer = %v, %v; want %v", idsOf(p.Messages), err, ids)
		}
		for _, m := range p.Messages {
			if m.ReadCount != -1 {
				t.Errorf("bob sees ReadCount %d of alice's message, want -1", m.ReadCount)
			}
		}
		_, err = e.svc.History(ctx, u[0], chat.HistoryQuery{ChatType: chat.GroupChat, With: g.String(), Cursor: "x"})
		wantCode(t, "History(bad cursor)", err, chat.CodeBadRequest)
	})
}

func idsOf(ms []chat.Message) []chat.MsgID {
	ids := make([]chat.MsgID, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids
}

func TestConversationsAndAck(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		e := newEnv(t)
		ctx := context.Background()
		u := e.users(t, "alice", "bob", "carol")
		alice, bob := u[0], u[1]
		g := e.group(t, alice, bob, u[2])
		e.sendGroup(t, alice, g, false)
		e.sendGroup(t, alice, g, false)
		if _, err := e.svc.Send(ctx, alice, chat.Outgoing{LocalID: "dm", Type: chat.TypeText, ChatType: chat.SingleChat, To: "bob", Text: "hey"}); err != nil {
			t.Fatal(err)
		}
		p, err := e.svc.Conversations(ctx, bob, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Conversations) != 2 {
			t.Fatalf("Conversations(bob) = %+v, want 2", p.Conversations)
		}
		single, group := p.Conversations[0], p.Conversations[1]
		if single.ChatType != chat.SingleChat || single.PeerName != "alice" || single.Unread != 1 || single.Last == nil || single.Last.Text != "hey" {
			t.Errorf("newest conversation = %+v, want the single chat with alice, 1 unread", single)
		}
		if group.ChatType != chat.GroupChat || group.Group != g || group.Unread != 2 {
			t.Errorf("second conversation = %+v, want the group with 2 unread", group)
		}
		// Alice's own messages are not unread for her.
		pa, _ := e.svc.Conversations(ctx, alice, "", 10)
		for _, c := range pa.Conversations {
			if c.Unread != 0 {
				t.Errorf("alice's unread in %s = %d, want 0", c.Conv, c.Unread)
			}
		}
		// The conversation ack clears unread on all devices and tells the peer.
		bobTopic := e.record(t, chat.UserTopic(bob.User))
		aliceTopic := e.record(t, chat.UserTopic(alice.User))
		if _, err := e.svc.AckConversation(ctx, bob, chat.GroupChat, g.String()); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.AckConversation(ctx, bob, chat.SingleChat, "alice"); err != nil {
			t.Fatal(err)
		}
		bobTopic.waitFor(t, "conv.read", func(ev chat.Event) bool { return ev.Kind == chat.EventConvRead && ev.ConvRead.Group == g })
		aliceTopic.waitFor(t, "channel to alice", func(ev chat.Event) bool {
			return ev.Kind == chat.EventChannel && ev.Peer.From == "bob"
		})
		p, _ = e.svc.Conversations(ctx, bob, "", 10)
		for _, c := range p.Conversations {
			if c.Unread != 0 {
				t.Errorf("unread in %s after ack = %d, want 0", c.Conv, c.Unread)
			}
		}
		// Paging.
		p1, err := e.svc.Conversations(ctx, bob, "", 1)
		if err != nil || len(p1.Conversations) != 1 || p1.Next == "" {
			t.Fatalf("Conversations(limit 1) = %+v, %v", p1, err)
		}
		p2, err := e.svc.Conversations(ctx, bob, p1.Next, 1)
		if err != nil || len(p2.Conversations) != 1 || p2.Conversations[0].Conv == p1.Conversations[0].Conv {
			t.Errorf("Conversations(page 2) = %+v, %v", p2, err)
		}
	})
}
