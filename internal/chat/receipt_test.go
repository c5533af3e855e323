package chat_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"seen/internal/chat"
)

func TestWhoMayAskForReceipts(t *testing.T) {
	for _, tc := range []struct {
		senders string
		member  chat.Code
	}{
		{"admins", chat.CodePermissionDenied},
		{"all", ""},
	} {
		t.Run(tc.senders, func(t *testing.T) {
			e := newEnv(t, withConfig(func(c *chat.Config) { c.GroupAckSenders = tc.senders }))
			ctx := context.Background()
			u := e.users(t, "owner", "admin", "member")
			g := e.group(t, u[0], u[1], u[2])
			if err := e.svc.SetAdmin(ctx, u[0], g, "admin", true); err != nil {
				t.Fatal(err)
			}
			for _, a := range u[:2] {
				if m := e.sendGroup(t, a, g, true); !m.AllowGroupAck {
					t.Errorf("%s's message has AllowGroupAck false", a.Name)
				}
			}
			_, err := e.svc.Send(ctx, u[2], chat.Outgoing{LocalID: "m", Type: chat.TypeText, ChatType: chat.GroupChat, To: g.String(), Text: "x", AllowGroupAck: true})
			wantCode(t, "member asks for receipts", err, tc.member)
			h, _ := e.svc.History(ctx, u[2], chat.HistoryQuery{ChatType: chat.GroupChat, With: g.String()})
			want := 2
			if tc.member == "" {
				want = 3
			}
			if len(h.Messages) != want {
				t.Errorf("stored %d messages, want %d", len(h.Messages), want)
			}
			for _, m := range h.Messages {
				if !m.AllowGroupAck {
					t.Errorf("receiver sees AllowGroupAck false on %v", m.ID)
				}
			}
		})
	}
}

func ack(t *testing.T, e *env, a chat.Actor, g chat.GroupID, id chat.MsgID, content string) chat.AckResult {
	t.Helper()
	rs, err := e.svc.Ack(context.Background(), a, g, []chat.AckItem{{Msg: id, Content: content}})
	if err != nil {
		t.Fatalf("Ack = %v", err)
	}
	return rs[0]
}

// TestAckItemErrorNamesItsMessage: the error of one item of a
// multi-item ack names that item's message, not the request's first.
func TestAckItemErrorNamesItsMessage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.users(t, "owner", "bob")
	g := e.group(t, u[0], u[1])
	m := e.sendGroup(t, u[0], g, true)
	missing := []chat.MsgID{m.ID + 1001, m.ID + 1002}
	rs, err := e.svc.Ack(ctx, u[1], g, []chat.AckItem{{Msg: m.ID}, {Msg: missing[0]}, {Msg: missing[1]}})
	if err != nil || len(rs) != 3 || rs[0].Err != nil {
		t.Fatalf("Ack = %+v, %v; want the first item accepted", rs, err)
	}
	for i, id := range missing {
		r := rs[i+1]
		wantCode(t, fmt.Sprintf("item %d", i+1), r.Err, chat.CodeMessageNotFound)
		if msg := chat.ErrorMessage(r.Err); !strings.Contains(msg, id.String()) || strings.Contains(msg, m.ID.String()) {
			t.Errorf("item %d (message %s): error %q, want it to name %s and not %s", i+1, id, msg, id, m.ID)
		}
	}
}

// TestAckAsync: AckAsync applies Ack's validation before queueing (an
// invalid request is refused and done never runs), and otherwise calls
// done exactly once, with the committed results.
func TestAckAsync(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.users(t, "owner", "bob")
	g := e.group(t, u[0], u[1])
	m := e.sendGroup(t, u[0], g, true)
	calls := make(chan []chat.AckResult, 4)
	done := func(rs []chat.AckResult, err error) {
		if err != nil {
			t.Errorf("done(%v), want results", err)
		}
		calls <- rs
	}
	for i, tc := range []struct {
		items []chat.AckItem
		code  chat.Code
	}{
		{nil, chat.CodeBadRequest},
		{[]chat.AckItem{{Msg: 0}}, chat.CodeBadRequest},
		{[]chat.AckItem{{Msg: m.ID, Content: strings.Repeat("x", chat.MaxAckContent+1)}}, chat.CodeTooLarge},
	} {
		err := e.svc.AckAsync(ctx, u[1], g, tc.items, done)
		wantCode(t, fmt.Sprintf("AckAsync case %d", i), err, tc.code)
	}
	if err := e.svc.AckAsync(ctx, u[1], g, []chat.AckItem{{Msg: m.ID}, {Msg: m.ID + 1001}}, done); err != nil {
		t.Fatalf("AckAsync = %v", err)
	}
	var rs []chat.AckResult
	select {
	case rs = <-calls:
	case <-time.After(10 * time.Second):
		t.Fatal("done not called")
	}
	if len(rs) != 2 || rs[0].Err != nil || !rs[0].Counted || rs[0].Count != 1 {
		t.Errorf("results = %+v, want the first counted (1 reader)", rs)
	}
	wantCode(t, "item 1", rs[1].Err, chat.CodeMessageNotFound)
	// The refused calls never called done, and the accepted one once.
	if rs := ack(t, e, u[1], g, m.ID, ""); rs.Counted {
		t.Errorf("repeat ack counted: %+v", rs)
	}
	select {
	case rs := <-calls:
		t.Errorf("done called again: %+v", rs)
	default:
	}
}

func TestAckRules(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		e := newEnv(t)
		ctx := context.Background()
		u := e.users(t, "owner", "bob", "carol", "late", "outsider")
		owner, bob, carol, late, outsider := u[0], u[1], u[2], u[3], u[4]
		g := e.group(t, owner, bob, carol)
		other := e.group(t, owner, bob)
		m := e.sendGroup(t, owner, g, true)
		plain := e.sendGroup(t, owner, g, false)
		elsewhere := e.sendGroup(t, owner, other, true)
		if _, err := e.svc.AddMembers(ctx, owner, g, []string{"late"}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name  string
			actor chat.Actor
			g     chat.GroupID
			msg   chat.MsgID
			want  chat.Code
		}{
			{"unknown message", bob, g, m.ID + 12345, chat.CodeMessageNotFound},
			{"message of another group", bob, g, elsewhere.ID, chat.CodeMessageNotFound},
			{"plain message", bob, g, plain.ID, chat.CodeNotAllowed},
			{"non-member", outsider, g, m.ID, chat.CodeNotMember},
			{"joined after", late, g, m.ID, chat.CodeNotAllowed},
		} {
			r := ack(t, e, tc.actor, tc.g, tc.msg, "")
			wantCode(t, tc.name, r.Err, tc.want)
			if r.Counted {
				t.Errorf("%s: counted", tc.name)
			}
		}
		// The sender's own ack is accepted and not counted.
		if r := ack(t, e, owner, g, m.ID, ""); r.Err != nil || r.Counted {
			t.Errorf("sender's own ack = %+v, want accepted, not counted", r)
		}
		// First ack counts; repeats (same or another device) change nothing.
		if r := ack(t, e, bob, g, m.ID, `{"a":1}`); r.Err != nil || !r.Counted || r.Count != 1 {
			t.Errorf("bob's first ack = %+v, want counted with count 1", r)
		}
		bob2 := bob
		bob2.Device = "phone"
		for _, a := range []chat.Actor{bob, bob2} {
			if r := ack(t, e, a, g, m.ID, "again"); r.Err != nil || r.Counted {
				t.Errorf("repeated ack = %+v, want accepted, not counted", r)
			}
		}
		// Duplicates inside one batch count once.
		rs, err := e.svc.Ack(ctx, carol, g, []chat.AckItem{{Msg: m.ID}, {Msg: m.ID}})
		if err != nil || !rs[0].Counted || rs[1].Counted || rs[1].Err != nil {
			t.Errorf("Ack(duplicate items) = %+v, %v; want first counted, second accepted", rs, err)
		}
		counts, err := e.svc.ReadCounts(ctx, owner, g, []chat.MsgID{m.ID}, false)
		if err != nil || counts.Counts[m.ID] != 2 {
			t.Errorf("ReadCounts = %v, %v; want 2", counts, err)
		}
		// The first reader's ackContent is kept.
		p, err := e.svc.Readers(ctx, owner, g, m.ID, chat.OldestFirst, "", 10)
		if err != nil || len(p.Readers) != 2 || p.Readers[0].Name != "bob" || p.Readers[0].Content != `{"a":1}` {
			t.Errorf("Readers = %+v, %v; want bob first with his first ackContent", p, err)
		}
		// Bad batches change nothing.
		_, err = e.svc.Ack(ctx, bob, g, nil)
		wantCode(t, "Ack(no items)", err, chat.CodeBadRequest)
		_, err = e.svc.Ack(ctx, bob, g, make([]chat.AckItem, 101))
		wantCode(t, "Ack(101 items)", err, chat.CodeBadRequest)
		_, err = e.svc.Ack(ctx, late, g, []chat.AckItem{{Msg: m.ID, Content: strings.Repeat("x", 1025)}})
		wantCode(t, "Ack(ackContent over 1 KiB)", err, chat.CodeTooLarge)
	})
}

// TestLivePushesAndCoalescing drives the coalescer with the fake clock:
// the first ack of a quiet message is pushed at once; a burst within the
// interval after it is folded into one push, sent when the interval ends,
// with the final count; an interval with nothing pending ends quietly.
func TestLivePushesAndCoalescing(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		const interval = 50 * time.Millisecond
		e := newEnv(t, withFastHash(), withConfig(func(c *chat.Config) { c.CoalesceInterval = interval }))
		ctx := context.Background()
		names := []string{"owner"}
		for i := 0; i < 300; i++ {
			names = append(names, fmt.Sprintf("r%03d", i))
		}
		u := e.users(t, names...)
		g := e.group(t, u[0], u[1:]...)
		pushes := e.record(t, chat.UserTopic(u[0].User))
		m := e.sendGroup(t, u[0], g, true)
		receipts := func() []int {
			var counts []int
			for _, ev := range pushes.events() {
				if ev.Kind == chat.EventReceipt {
					counts = append(counts, ev.Receipt.Count)
				}
			}
			return counts
		}

		// One quiet ack: pushed at once with reader, content and time.
		ack(t, e, u[1], g, m.ID, "seen it")
		ev := pushes.waitFor(t, "first push", func(ev chat.Event) bool { return ev.Kind == chat.EventReceipt })
		if r := ev.Receipt; r.Msg != m.ID || r.Group != g || r.Count != 1 || r.Reader != "r000" || r.AckContent != "seen it" || r.At == 0 {
			t.Errorf("first push = %+v", r)
		}
		// A burst from 299 readers within the interval: folded.
		var wg sync.WaitGroup
		for _, a := range u[2:] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := e.svc.Ack(ctx, a, g, []chat.AckItem{{Msg: m.ID}}); err != nil {
					t.Errorf("Ack = %v", err)
				}
			}()
		}
		wg.Wait()
		// The batcher commits one batch after the other, and a batch
		// hands its pushes to the coalescer before the next: once a
		// repeat ack (counted nowhere, pushed to nobody) returns, every
		// push of the burst is in the coalescer.
		if r := ack(t, e, u[1], g, m.ID, ""); r.Err != nil || r.Counted {
			t.Fatalf("repeat ack = %+v, want accepted, not counted", r)
		}
		if diff := cmp.Diff([]int{1}, receipts()); diff != "" {
			t.Errorf("pushes within the interval (-want +got):\n%s", diff)
		}
		e.clock.Add(interval) // the interval ends: the final count
		if diff := cmp.Diff([]int{1, 300}, receipts()); diff != "" {
			t.Errorf("pushes after the interval (-want +got):\n%s", diff)
		}
		e.clock.Add(interval) // nothing pending: the message is quiet again
		if diff := cmp.Diff([]int{1, 300}, receipts()); diff != "" {
			t.Errorf("pushes after a quiet interval (-want +got):\n%s", diff)
		}
		if n := e.clock.Pending(); n != 0 {
			t.Errorf("%d timers left after a quiet interval, want 0", n)
		}
	})
}

func TestReadersAndUnreadLists(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		e := newEnv(t)
		ctx := context.Background()
		u := e.users(t, "owner", "admin", "a", "b", "c", "d", "late")
		owner, admin := u[0], u[1]
		g := e.group(t, owner, u[1:6]...)
		if err := e.svc.SetAdmin(ctx, owner, g, "admin", true); err != nil {
			t.Fatal(err)
		}
		m := e.sendGroup(t, owner, g, true)
		if _, err := e.svc.AddMembers(ctx, owner, g, []string{"late"}); err != nil {
			t.Fatal(err)
		}
		for _, a := range []chat.Actor{u[4], u[2], u[3]} { // c, a, b in this order
			ack(t, e, a, g, m.ID, "c-"+a.Name)
			e.clock.Add(time.Second)
		}
		// Readers: by read time, paged, with total.
		var readers []string
		cursor := ""
		for {
			p, err := e.svc.Readers(ctx, admin, g, m.ID, chat.OldestFirst, cursor, 2)
			if err != nil {
				t.Fatal(err)
			}
			if p.Total != 3 {
				t.Errorf("Readers total = %d, want 3", p.Total)
			}
			for _, r := range p.Readers {
				readers = append(readers, r.Name)
				if r.Content != "c-"+r.Name || r.At.IsZero() {
					t.Errorf("reader %+v lacks its content or time", r)
				}
			}
			if p.Next == "" {
				break
			}
			cursor = p.Next
		}
		if strings.Join(readers, ",") != "c,a,b" {
			t.Errorf("Readers = %v, want [c a b] (read order)", readers)
		}
		// Unread: eligible members only (not the sender, not late joiners).
		p, err := e.svc.Unread(ctx, owner, g, m.ID, "", 500)
		if err != nil {
			t.Fatal(err)
		}
		if got := memberNames(p.Users); got != "admin,d" || p.Total != 2 {
			t.Errorf("Unread = %s (total %d), want admin,d (2)", got, p.Total)
		}
		// Leaving keeps a reader counted and drops a non-reader from unread.
		if err := e.svc.Leave(ctx, u[3], g); err != nil { // b read it
			t.Fatal(err)
		}
		if err := e.svc.Leave(ctx, u[5], g); err != nil { // d did not
			t.Fatal(err)
		}
		counts, _ := e.svc.ReadCounts(ctx, owner, g, []chat.MsgID{m.ID}, false)
		p, _ = e.svc.Unread(ctx, owner, g, m.ID, "", 500)
		if counts.Counts[m.ID] != 3 || memberNames(p.Users) != "admin" || p.Total != 1 {
			t.Errorf("after leaving: count %d, unread %s (%d); want 3, admin (1)", counts.Counts[m.ID], memberNames(p.Users), p.Total)
		}
		// Only the sender, owner and admins may look.
		_, err = e.svc.Readers(ctx, u[2], g, m.ID, chat.OldestFirst, "", 10)
		wantCode(t, "member lists readers", err, chat.CodePermissionDenied)
		_, err = e.svc.Unread(ctx, u[2], g, m.ID, "", 10)
		wantCode(t, "member lists unread", err, chat.CodePermissionDenied)
		_, err = e.svc.ReadCounts(ctx, u[2], g, []chat.MsgID{m.ID}, false)
		wantCode(t, "member reads counts", err, chat.CodePermissionDenied)
		_, err = e.svc.Readers(ctx, owner, g, m.ID, chat.OldestFirst, "", 501)
		wantCode(t, "Readers(page 501)", err, chat.CodeBadRequest)
		_, err = e.svc.Readers(ctx, owner, g, m.ID, chat.OldestFirst, "junk", 10)
		wantCode(t, "Readers(bad cursor)", err, chat.CodeBadRequest)
	})
}

// readerNames pages through all readers of a message in one order.
func readerNames(t *testing.T, e *env, a chat.Actor, g chat.GroupID, id chat.MsgID, order chat.Order, limit int) []string {
	t.Helper()
	var names []string
	cursor := ""
	for i := 0; ; i++ {
		p, err := e.svc.Readers(context.Background(), a, g, id, order, cursor, limit)
		if err != nil {
			t.Fatalf("Readers(order %d, cursor %q) = %v", order, cursor, err)
		}
		for _, r := range p.Readers {
			names = append(names, r.Name)
		}
		if p.Next == "" {
			return names
		}
		if i > 100 {
			t.Fatalf("Readers(order %d) does not end", order)
		}
		cursor = p.Next
	}
}

func TestReadersOrder(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		e := newEnv(t)
		ctx := context.Background()
		u := e.users(t, "owner", "a", "b", "c", "d", "e")
		owner := u[0]
		g := e.group(t, owner, u[1:]...)
		m := e.sendGroup(t, owner, g, true)
		// d, then b and e in the same millisecond, then a; c never reads.
		ack(t, e, u[4], g, m.ID, "")
		e.clock.Add(time.Second)
		ack(t, e, u[2], g, m.ID, "")
		ack(t, e, u[5], g, m.ID, "")
		e.clock.Add(time.Second)
		ack(t, e, u[1], g, m.ID, "")
		asc := []string{"d", "b", "e", "a"} // b and e: same time, by user id (b registered first)
		desc := []string{"a", "e", "b", "d"}
		for _, limit := range []int{1, 2, 3, 10} {
			if got := readerNames(t, e, owner, g, m.ID, chat.OldestFirst, limit); !cmp.Equal(got, asc) {
				t.Errorf("Readers(oldest first, pages of %d) = %v, want %v", limit, got, asc)
			}
			if got := readerNames(t, e, owner, g, m.ID, chat.NewestFirst, limit); !cmp.Equal(got, desc) {
				t.Errorf("Readers(newest first, pages of %d) = %v, want %v", limit, got, desc)
			}
		}
		// A later read goes to the front of newest first; a cursor taken
		// before it keeps paging where it was.
		p, err := e.svc.Readers(ctx, owner, g, m.ID, chat.NewestFirst, "", 2)
		if err != nil || p.Total != 4 || p.Next == "" {
			t.Fatalf("Readers(newest first, 2) = total %d, next %q, %v; want 4, more", p.Total, p.Next, err)
		}
		e.clock.Add(time.Second)
		ack(t, e, u[3], g, m.ID, "")
		p, err = e.svc.Readers(ctx, owner, g, m.ID, chat.NewestFirst, p.Next, 10)
		if got := names(p.Readers); err != nil || p.Total != 5 || !cmp.Equal(got, []string{"b", "d"}) || p.Next != "" {
			t.Errorf("Readers(newest first, page 2 after a new read) = %v (total %d, next %q), %v; want [b d] (5, last)", got, p.Total, p.Next, err)
		}
		first, err := e.svc.Readers(ctx, owner, g, m.ID, chat.NewestFirst, "", 1)
		if err != nil || len(first.Readers) != 1 || first.Readers[0].Name != "c" {
			t.Errorf("Readers(newest first, 1) = %+v, %v; want c, the latest", first.Readers, err)
		}
	})
}

func TestParseOrder(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want chat.Order
		code chat.Code
	}{
		{"", chat.OldestFirst, ""},
		{"asc", chat.OldestFirst, ""},
		{"desc", chat.NewestFirst, ""},
		{"DESC", 0, chat.CodeBadRequest},
		{"newest", 0, chat.CodeBadRequest},
	} {
		got, err := chat.ParseOrder(tc.in)
		wantCode(t, fmt.Sprintf("ParseOrder(%q)", tc.in), err, tc.code)
		if err == nil && got != tc.want {
			t.Errorf("ParseOrder(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestReadCountsWithUnread(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		e := newEnv(t)
		ctx := context.Background()
		u := e.users(t, "owner", "admin", "a", "b", "c", "late")
		owner, admin := u[0], u[1]
		g := e.group(t, owner, u[1:5]...)
		if err := e.svc.SetAdmin(ctx, owner, g, "admin", true); err != nil {
			t.Fatal(err)
		}
		m1 := e.sendGroup(t, owner, g, true) // eligible: admin, a, b, c
		if _, err := e.svc.AddMembers(ctx, owner, g, []string{"late"}); err != nil {
			t.Fatal(err)
		}
		m2 := e.sendGroup(t, admin, g, true) // eligible: owner, a, b, c, late
		ack(t, e, u[2], g, m1.ID, "")
		ack(t, e, u[2], g, m2.ID, "")
		ack(t, e, u[3], g, m2.ID, "")
		if err := e.svc.Leave(ctx, u[4], g); err != nil { // c, who read neither
			t.Fatal(err)
		}
		ids := []chat.MsgID{m1.ID, m2.ID}
		got, err := e.svc.ReadCounts(ctx, owner, g, ids, true)
		want := chat.ReceiptTotals{
			Counts:   map[chat.MsgID]int{m1.ID: 1, m2.ID: 2},
			Eligible: map[chat.MsgID]int{m1.ID: 4, m2.ID: 5}, // at send: c counts, though gone
			Unread:   map[chat.MsgID]int{m1.ID: 2, m2.ID: 2}, // m1: admin, b; m2: owner, late
		}
		if diff := cmp.Diff(want, got); err != nil || diff != "" {
			t.Errorf("ReadCounts(withUnread) = %v, diff (-want +got):\n%s", err, diff)
		}
		// The unread totals are those of Unread.
		for _, id := range ids {
			p, err := e.svc.Unread(ctx, owner, g, id, "", 1)
			if err != nil || p.Total != got.Unread[id] {
				t.Errorf("Unread(%v) total = %d, %v; ReadCounts says %d", id, p.Total, err, got.Unread[id])
			}
		}
		// Without withUnread there is no Unread; a repeated id is answered once.
		got, err = e.svc.ReadCounts(ctx, owner, g, ids, false)
		if err != nil || got.Unread != nil || got.Counts[m2.ID] != 2 {
			t.Errorf("ReadCounts(no unread) = %+v, %v; want counts only", got, err)
		}
		got, err = e.svc.ReadCounts(ctx, owner, g, []chat.MsgID{m1.ID, m1.ID}, true)
		if err != nil || len(got.Unread) != 1 || got.Unread[m1.ID] != 2 {
			t.Errorf("ReadCounts(m1 twice) = %+v, %v; want unread {m1: 2}", got, err)
		}
		// Same permission as the counts: a plain member may not ask.
		_, err = e.svc.ReadCounts(ctx, u[2], g, ids, true)
		wantCode(t, "member asks for unread totals", err, chat.CodePermissionDenied)
		_, err = e.svc.ReadCounts(ctx, owner, g, make([]chat.MsgID, 101), true)
		wantCode(t, "ReadCounts(101 messages)", err, chat.CodeBadRequest)
	})
}

func memberNames(ms []chat.Member) string {
	var names []string
	for _, m := range ms {
		names = append(names, m.Name)
	}
	return strings.Join(names, ",")
}

func TestReceiptStatsPerDevice(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		e := newEnv(t)
		u := e.users(t, "owner", "a", "b")
		owner, a, b := u[0], u[1], u[2]
		g := e.group(t, owner, a, b)
		m1 := e.sendGroup(t, owner, g, true)
		m2 := e.sendGroup(t, owner, g, true)
		e.sendGroup(t, owner, g, true) // never read: never in the statistics

		phone, laptop := owner, owner
		phone.Device, laptop.Device = "phone", "laptop"
		// Both devices connect once (confirming nothing yet), then go offline.
		statsAll(t, e, phone)
		statsAll(t, e, laptop)

		ack(t, e, a, g, m1.ID, "x")
		ack(t, e, b, g, m1.ID, "y")
		ack(t, e, a, g, m2.ID, "z")

		// The phone comes back: one entry per changed message, current counts.
		got := statsAll(t, e, phone)
		if len(got) != 2 || got[m1.ID].Count != 2 || got[m1.ID].LastName != "b" || got[m1.ID].LastContent != "y" || got[m2.ID].Count != 1 {
			t.Errorf("stats(phone) = %+v, want m1:2 (last b, y) and m2:1", got)
		}
		// Once confirmed, not again on that device ...
		if again := statsAll(t, e, phone); len(again) != 0 {
			t.Errorf("stats(phone) again = %+v, want none", again)
		}
		// ... but the laptop, offline meanwhile, still gets them.
		if got := statsAll(t, e, laptop); len(got) != 2 {
			t.Errorf("stats(laptop) = %+v, want 2 entries", got)
		}
		// A new change shows up on both.
		ack(t, e, b, g, m2.ID, "")
		for _, d := range []chat.Actor{phone, laptop} {
			if got := statsAll(t, e, d); len(got) != 1 || got[m2.ID].Count != 2 {
				t.Errorf("stats(%s) after one more ack = %+v, want m2:2", d.Device, got)
			}
		}
		// Other users see nothing of it.
		if got := statsAll(t, e, a); len(got) != 0 {
			t.Errorf("stats(a) = %+v, want none", got)
		}
	})
}

// statsAll runs the statistics loop as a client does after connecting.
func statsAll(t *testing.T, e *env, a chat.Actor) map[chat.MsgID]chat.ReceiptCount {
	t.Helper()
	out := map[chat.MsgID]chat.ReceiptCount{}
	var ackPos int64
	for i := 0; i < 1000; i++ {
		p, err := e.svc.ReceiptStats(context.Background(), a, ackPos, 1)
		if err != nil {
			t.Fatalf("ReceiptStats = %v", err)
		}
		for _, c := range p.Entries {
			out[c.Msg] = c
		}
		ackPos = p.Next
		if !p.More {
			if _, err := e.svc.ReceiptStats(context.Background(), a, ackPos, 1); err != nil {
				t.Fatalf("ReceiptStats(confirm) = %v", err)
			}
			return out
		}
	}
	t.Fatal("stats do not end")
	return nil
}

func TestConversationAckSatisfiesReceipts(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		e := newEnv(t)
		ctx := context.Background()
		u := e.users(t, "owner", "a")
		g := e.group(t, u[0], u[1])
		var ids []chat.MsgID       // the receipt-requesting ones
		for i := 0; i < 130; i++ { // more than one ack batch
			if m := e.sendGroup(t, u[0], g, i%10 != 0); m.AllowGroupAck {
				ids = append(ids, m.ID)
			}
		}
		ack(t, e, u[1], g, ids[1], "") // already acked: not counted again
		n, err := e.svc.AckConversation(ctx, u[1], chat.GroupChat, g.String())
		if err != nil {
			t.Fatal(err)
		}
		if n != 116 {
			t.Errorf("AckConversation counted %d receipts, want 116", n)
		}
		counts, err := e.svc.ReadCounts(ctx, u[0], g, ids[:100], false)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids[:100] {
			if c := counts.Counts[id]; c != 1 {
				t.Errorf("count of %v = %d, want 1", id, c)
			}
		}
	})
}

func TestReceiptLimits(t *testing.T) {
	t.Run("age", func(t *testing.T) {
		e := newEnv(t, withConfig(func(c *chat.Config) { c.ReceiptMaxAge = time.Hour }))
		u := e.users(t, "o", "a")
		g := e.group(t, u[0], u[1])
		m := e.sendGroup(t, u[0], g, true)
		e.clock.Add(2 * time.Hour)
		r := ack(t, e, u[1], g, m.ID, "")
		wantCode(t, "ack of an old message", r.Err, chat.CodeLimitExceeded)
		if r.Err != nil && !strings.Contains(chat.ErrorMessage(r.Err), "receipt-max-age") {
			t.Errorf("error %q does not name the limit", chat.ErrorMessage(r.Err))
		}
	})
	t.Run("group size", func(t *testing.T) {
		e := newEnv(t, withConfig(func(c *chat.Config) { c.ReceiptMaxGroupSize = 2 }))
		u := e.users(t, "o", "a", "b")
		g := e.group(t, u[0], u[1], u[2])
		_, err := e.svc.Send(context.Background(), u[0], chat.Outgoing{LocalID: "x", Type: chat.TypeText, ChatType: chat.GroupChat, To: g.String(), Text: "x", AllowGroupAck: true})
		wantCode(t, "receipts in a big group", err, chat.CodeLimitExceeded)
	})
	t.Run("daily", func(t *testing.T) {
		e := newEnv(t, withConfig(func(c *chat.Config) { c.ReceiptDailyLimit = 2 }))
		u := e.users(t, "o", "a")
		g := e.group(t, u[0], u[1])
		e.sendGroup(t, u[0], g, true)
		e.sendGroup(t, u[0], g, true)
		e.sendGroup(t, u[0], g, false) // plain messages do not count
		_, err := e.svc.Send(context.Background(), u[0], chat.Outgoing{LocalID: "x3", Type: chat.TypeText, ChatType: chat.GroupChat, To: g.String(), Text: "x", AllowGroupAck: true})
		wantCode(t, "third receipt message of the day", err, chat.CodeLimitExceeded)
		e.clock.Add(25 * time.Hour)
		e.sendGroup(t, u[0], g, true)
	})
}

func TestPeerReceipts(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		e := newEnv(t)
		ctx := context.Background()
		u := e.users(t, "alice", "bob", "eve")
		m, err := e.svc.Send(ctx, u[0], chat.Outgoing{LocalID: "p", Type: chat.TypeText, ChatType: chat.SingleChat, To: "bob", Text: "hi"})
		if err != nil {
			t.Fatal(err)
		}
		alice := e.record(t, chat.UserTopic(u[0].User))
		for _, k := range []chat.EventKind{chat.EventDelivered, chat.EventPeerRead} {
			if err := e.svc.PeerReceipt(ctx, u[1], k, "alice", m.ID); err != nil {
				t.Fatalf("PeerReceipt(%s) = %v", k, err)
			}
			alice.waitFor(t, string(k), func(ev chat.Event) bool { return ev.Kind == k && ev.Peer.Msg == m.ID && ev.Peer.From == "bob" })
		}
		wantCode(t, "eve acks alice's message to bob", e.svc.PeerReceipt(ctx, u[2], chat.EventPeerRead, "alice", m.ID), chat.CodeMessageNotFound)
		wantCode(t, "alice acks her own message", e.svc.PeerReceipt(ctx, u[0], chat.EventPeerRead, "bob", m.ID), chat.CodeMessageNotFound)
	})
}

// syncMessages loops sync pages as a client does and returns the messages.
func syncMessages(t *testing.T, e *env, a chat.Actor) []chat.Message {
	t.Helper()
	var out []chat.Message
	var ack int64
	for i := 0; i < 1000; i++ {
		p, err := e.svc.Sync(context.Background(), a, ack, 2)
		if err != nil {
			t.Fatalf("Sync(%s on %s) = %v", a.Name, a.Device, err)
		}
		out = append(out, p.Messages...)
		ack = p.Next
		if !p.More {
			if _, err := e.svc.Sync(context.Background(), a, ack, 1); err != nil {
				t.Fatalf("Sync(confirm) = %v", err)
			}
			return out
		}
	}
	t.Fatal("sync does not end")
	return nil
}

// peerEvents returns the read, delivery and channel events recorded.
func peerEvents(r *recorder) []chat.Event {
	var out []chat.Event
	for _, ev := range r.events() {
		switch ev.Kind {
		case chat.EventPeerRead, chat.EventDelivered, chat.EventChannel:
			out = append(out, ev)
		}
	}
	return out
}

type receiptRow struct {
	Kind string
	ID   chat.MsgID
	Seq  int64
	Mid  chat.MsgID
	From string
	To   string
}

func TestPeerReceiptsStoredAndSynced(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		e := newEnv(t)
		ctx := context.Background()
		u := e.users(t, "alice", "bob")
		alice, bob := u[0], u[1]
		alice2, bob2 := alice, bob
		alice2.Device, bob2.Device = "d2", "d2"
		// alice's second device has a position, then goes offline.
		syncMessages(t, e, alice2)
		m1, err := e.svc.Send(ctx, alice, chat.Outgoing{LocalID: "m1", Type: chat.TypeText, ChatType: chat.SingleChat, To: "bob", Text: "hi bob"})
		if err != nil {
			t.Fatal(err)
		}
		if got := syncMessages(t, e, bob); len(got) != 1 || got[0].ID != m1.ID {
			t.Fatalf("Sync(bob) = %+v, want m1", got)
		}
		live := e.record(t, chat.UserTopic(alice.User))
		mine := e.record(t, chat.UserTopic(bob.User))

		if err := e.svc.PeerReceipt(ctx, bob, chat.EventDelivered, "alice", m1.ID); err != nil {
			t.Fatalf("PeerReceipt(delivery) = %v", err)
		}
		if err := e.svc.PeerReceipt(ctx, bob, chat.EventPeerRead, "alice", m1.ID); err != nil {
			t.Fatalf("PeerReceipt(read) = %v", err)
		}
		if _, err := e.svc.AckConversation(ctx, bob, chat.SingleChat, "alice"); err != nil {
			t.Fatalf("AckConversation = %v", err)
		}
		// Repeats store and push nothing: the same receipt from another
		// device, and a channel ack with nothing unread.
		if err := e.svc.PeerReceipt(ctx, bob2, chat.EventPeerRead, "alice", m1.ID); err != nil {
			t.Fatalf("PeerReceipt(read again) = %v", err)
		}
		if err := e.svc.PeerReceipt(ctx, bob, chat.EventDelivered, "alice", m1.ID); err != nil {
			t.Fatalf("PeerReceipt(delivery again) = %v", err)
		}
		if _, err := e.svc.AckConversation(ctx, bob2, chat.SingleChat, "alice"); err != nil {
			t.Fatalf("AckConversation(again) = %v", err)
		}

		// Live: one push each, with the stored receipt's id and seq.
		var pushed []receiptRow
		for _, ev := range peerEvents(live) {
			p := ev.Peer
			pushed = append(pushed, receiptRow{string(ev.Kind), p.ID, p.Seq, p.Msg, p.From, p.To})
		}
		// Synced: the same receipts, in order, to the offline device (after
		// alice's own m1).
		var synced []receiptRow
		for _, m := range syncMessages(t, e, alice2) {
			if !m.Type.IsReceipt() {
				if m.ID != m1.ID {
					t.Errorf("Sync(alice on d2) has %+v, want m1 and receipts", m)
				}
				continue
			}
			synced = append(synced, receiptRow{string(m.Type), m.ID, m.Seq, m.AckMsg, m.FromName, m.ToName})
		}
		if len(pushed) != 3 {
			t.Fatalf("pushes to alice = %+v, want delivery, read, channel", pushed)
		}
		want := []receiptRow{
			{"delivery", pushed[0].ID, pushed[0].Seq, m1.ID, "bob", "alice"},
			{"read", pushed[1].ID, pushed[1].Seq, m1.ID, "bob", "alice"},
			{"channel", pushed[2].ID, pushed[2].Seq, 0, "bob", "alice"},
		}
		if diff := cmp.Diff(want, pushed); diff != "" {
			t.Errorf("pushes to alice differ (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want, synced); diff != "" {
			t.Errorf("Sync(alice on d2) differs (-want +got):\n%s", diff)
		}
		for _, r := range want {
			if r.ID == 0 || r.Seq <= m1.Seq {
				t.Errorf("receipt %+v: want a server id and a seq after m1's %d", r, m1.Seq)
			}
		}
		if again := syncMessages(t, e, alice2); len(again) != 0 {
			t.Errorf("Sync(alice on d2) after confirming = %+v, want nothing", again)
		}
		// The acknowledging user's devices are not sent their own receipts.
		if ev := peerEvents(mine); len(ev) != 0 {
			t.Errorf("receipt events to bob = %+v, want none", ev)
		}
		if got := syncMessages(t, e, bob2); len(got) != 0 {
			t.Errorf("Sync(bob on d2) = %+v, want nothing", got)
		}

		// Receipts are not content: not in history, not a last message,
		// not unread.
		for _, a := range []chat.Actor{alice, bob} {
			peer := "bob"
			if a.User == bob.User {
				peer = "alice"
			}
			for _, newer := range []bool{false, true} {
				h, err := e.svc.History(ctx, a, chat.HistoryQuery{ChatType: chat.SingleChat, With: peer, Newer: newer})
				if err != nil || len(h.Messages) != 1 || h.Messages[0].ID != m1.ID {
					t.Errorf("History(%s, newer %v) = %+v, %v, want m1 only", a.Name, newer, h.Messages, err)
				}
			}
			p, err := e.svc.Conversations(ctx, a, "", 10)
			if err != nil || len(p.Conversations) != 1 {
				t.Fatalf("Conversations(%s) = %+v, %v, want 1", a.Name, p, err)
			}
			if c := p.Conversations[0]; c.Last == nil || c.Last.ID != m1.ID || c.LastSeq != m1.Seq || c.Unread != 0 {
				t.Errorf("Conversations(%s)[0] = %+v, want last m1, 0 unread", a.Name, c)
			}
		}

		// A receipt is not a message one can acknowledge.
		wantCode(t, "alice reads bob's read receipt", e.svc.PeerReceipt(ctx, alice, chat.EventPeerRead, "bob", pushed[1].ID), chat.CodeMessageNotFound)
		// Receipt local ids are reserved.
		_, err = e.svc.Send(ctx, alice, chat.Outgoing{LocalID: "read:" + m1.ID.String(), Type: chat.TypeText, ChatType: chat.SingleChat, To: "bob", Text: "x"})
		wantCode(t, "Send(local id read:...)", err, chat.CodeBadRequest)

		// Something new to read: the next channel ack is stored again, once
		// however many devices ack at the same time.
		if _, err := e.svc.Send(ctx, alice, chat.Outgoing{LocalID: "m2", Type: chat.TypeText, ChatType: chat.SingleChat, To: "bob", Text: "again"}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d := bob
				d.Device = chat.DeviceID(fmt.Sprintf("c%d", i))
				if _, err := e.svc.AckConversation(ctx, d, chat.SingleChat, "alice"); err != nil {
					t.Errorf("AckConversation(bob on %s) = %v", d.Device, err)
				}
			}()
		}
		wg.Wait()
		got := syncMessages(t, e, alice2)
		if len(got) != 2 || got[0].Text != "again" || got[1].Type != chat.TypeChannel || got[1].From != bob.User {
			t.Errorf("Sync(alice on d2) after a second channel ack = %+v, want m2 and one channel receipt", got)
		}
	})
}

func names(rs []chat.Read) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name
	}
	return out
}
