package chat_test

// FuzzServiceCursors fuzzes the cursors and page sizes of every paged
// listing through a real service on SQLite: history (both directions),
// conversations, readers (both orders), unread, members and my groups.
// A cursor the service refuses is bad_request, never internal; a page's
// next cursor is accepted again and continues without repeating an item
// (so format -> parse is the identity on every cursor the service makes).

import (
	"context"
	"fmt"
	"testing"

	"seen/internal/chat"
)

func FuzzServiceCursors(f *testing.F) {
	ctx := context.Background()
	e := newEnv(f, withFastHash())
	as := e.users(f, "alice", "bob", "carol", "dave")
	alice, bob := as[0], as[1]
	g := e.group(f, alice, as[1:]...)
	var mid chat.MsgID
	for i := 0; i < 4; i++ {
		mid = e.sendGroup(f, alice, g, true).ID
	}
	for _, a := range as[1:3] {
		if _, err := e.svc.Ack(ctx, a, g, []chat.AckItem{{Msg: mid}}); err != nil {
			f.Fatalf("Ack = %v", err)
		}
	}
	for i := 0; i < 3; i++ {
		if _, err := e.svc.Send(ctx, bob, chat.Outgoing{LocalID: fmt.Sprintf("fz%d", i), Type: chat.TypeText, ChatType: chat.SingleChat, To: "alice", Text: "hi"}); err != nil {
			f.Fatalf("Send = %v", err)
		}
	}
	for _, c := range []string{"", "0", "1", "-1", "+1", "1.2", "-1.-1", "9223372036854775807", "9223372036854775808",
		"9223372036854775807.9223372036854775807", "1764000000000.1", "\x00", "\xff", " 1", "1e3", mid.String(), g.String()} {
		for k := range 8 {
			f.Add(uint8(k), c, 0)
		}
	}
	f.Add(uint8(0), "", 1)
	f.Add(uint8(3), "", -1)
	f.Add(uint8(4), "", 1<<31)
	f.Add(uint8(6), "", 1001)

	type page struct {
		items []string
		next  string
	}
	names := []string{"history older", "history newer", "conversations", "readers asc", "readers desc", "unread", "members", "my groups"}
	list := func(k int, cursor string, limit int) (page, error) {
		var p page
		switch k {
		case 0, 1:
			h, err := e.svc.History(ctx, alice, chat.HistoryQuery{ChatType: chat.GroupChat, With: g.String(), Cursor: cursor, Limit: limit, Newer: k == 1})
			for _, m := range h.Messages {
				p.items = append(p.items, m.ID.String())
			}
			p.next = h.Cursor
			if h.IsLast {
				p.next = ""
			}
			return p, err
		case 2:
			c, err := e.svc.Conversations(ctx, alice, cursor, limit)
			for _, cv := range c.Conversations {
				p.items = append(p.items, fmt.Sprintf("%s/%s", cv.ChatType, cv.PeerName))
			}
			p.next = c.Next
			return p, err
		case 3, 4:
			order := chat.OldestFirst
			if k == 4 {
				order = chat.NewestFirst
			}
			r, err := e.svc.Readers(ctx, alice, g, mid, order, cursor, limit)
			for _, rd := range r.Readers {
				p.items = append(p.items, rd.User.String())
			}
			p.next = r.Next
			return p, err
		case 5:
			u, err := e.svc.Unread(ctx, alice, g, mid, cursor, limit)
			for _, m := range u.Users {
				p.items = append(p.items, m.User.String())
			}
			p.next = u.Next
			return p, err
		case 6:
			m, err := e.svc.Members(ctx, alice, g, cursor, limit)
			for _, mb := range m.Members {
				p.items = append(p.items, mb.User.String())
			}
			p.next = m.Next
			return p, err
		default:
			gs, err := e.svc.MyGroups(ctx, alice, cursor, limit)
			for _, gr := range gs.Groups {
				p.items = append(p.items, gr.ID.String())
			}
			p.next = gs.Next
			return p, err
		}
	}

	f.Fuzz(func(t *testing.T, which uint8, cursor string, limit int) {
		k := int(which) % len(names)
		p, err := list(k, cursor, limit)
		if err != nil {
			if code := chat.ErrorCode(err); code != chat.CodeBadRequest {
				t.Fatalf("%s(cursor %q, limit %d) = %v: code %s, want bad_request", names[k], cursor, limit, err, code)
			}
			return
		}
		if p.next == "" {
			return
		}
		// The service's own cursor must be accepted and continue the
		// listing: nothing of this page again.
		p2, err := list(k, p.next, limit)
		if err != nil {
			t.Fatalf("%s(cursor %q, limit %d): the next cursor %q is refused: %v", names[k], cursor, limit, p.next, err)
		}
		seen := map[string]bool{}
		for _, it := range p.items {
			seen[it] = true
		}
		for _, it := range p2.items {
			if seen[it] {
				t.Fatalf("%s(cursor %q, limit %d): %s is on this page %v and again after the next cursor %q: %v", names[k], cursor, limit, it, p.items, p.next, p2.items)
			}
		}
	})
}
