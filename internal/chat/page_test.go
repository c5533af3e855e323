package chat_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"seen/internal/chat"
	"seen/internal/wire"
)

// pageBudget is the smallest budget the configuration allows.
const pageBudget = 4 << 10

// budgetCheck follows one paged listing: every page of more than one item
// encodes (as both transports send it) within the budget, and the listing
// took more pages than its item limit alone would have.
type budgetCheck struct {
	t     *testing.T
	what  string
	pages int
}

func (b *budgetCheck) page(items int, reply any) {
	b.t.Helper()
	b.pages++
	if items == 0 {
		b.t.Errorf("%s: page %d is empty", b.what, b.pages)
	}
	raw, err := json.Marshal(reply)
	if err != nil {
		b.t.Fatal(err)
	}
	if items > 1 && len(raw) > pageBudget {
		b.t.Errorf("%s: page %d holds %d items in %d bytes, over the budget of %d", b.what, b.pages, items, len(raw), pageBudget)
	}
	if b.pages > 1000 {
		b.t.Fatalf("%s: paging does not end", b.what)
	}
}

func (b *budgetCheck) done(wantMorePagesThan int) {
	b.t.Helper()
	if b.pages <= wantMorePagesThan {
		b.t.Errorf("%s: %d pages, want more than %d (the budget did not cut)", b.what, b.pages, wantMorePagesThan)
	}
}

// TestPagesStopAtTheByteBudget pages through every budgeted listing with
// large items: each page stays within the budget (or holds one item that
// alone is over it) and following the cursors returns every item exactly
// once, in order.
func TestPagesStopAtTheByteBudget(t *testing.T) {
	onStores(t, func(t *testing.T, newEnv func(t testing.TB, opts ...option) *env) {
		e := newEnv(t, withFastHash(), withConfig(func(c *chat.Config) {
			c.MaxPageBytes = pageBudget
			c.GroupAckSenders = "all"
		}))
		ctx := context.Background()
		names := []string{"alice", "bob"}
		for i := 0; i < 50; i++ { // long names: the unread list's items
			names = append(names, fmt.Sprintf("member-%02d-%s", i, strings.Repeat("n", 50)))
		}
		u := e.users(t, names...)
		alice, bob, members := u[0], u[1], u[2:]

		// Single chat: escaping makes these three times their size on the
		// wire; one is over the budget by itself.
		big := strings.Repeat("<é\"x", 60)
		var sent []chat.MsgID
		for i := 0; i < 12; i++ {
			text := fmt.Sprintf("%d %s", i, big)
			if i == 5 {
				text = strings.Repeat("x", 3*pageBudget)
			}
			m, err := e.svc.Send(ctx, alice, chat.Outgoing{LocalID: nextLocal(), Type: chat.TypeText, ChatType: chat.SingleChat, To: "bob", Text: text, Ext: json.RawMessage(`{"k":"<&>"}`)})
			if err != nil {
				t.Fatal(err)
			}
			sent = append(sent, m.ID)
		}

		t.Run("sync", func(t *testing.T) {
			b := &budgetCheck{t: t, what: "sync"}
			var got []chat.MsgID
			var ack int64
			for {
				p, err := e.svc.Sync(ctx, bob, ack, chat.MaxSyncPage)
				if err != nil {
					t.Fatal(err)
				}
				if len(p.Messages) == 0 && !p.More {
					break
				}
				b.page(len(p.Messages), wire.SyncReply(p))
				for _, m := range p.Messages {
					got = append(got, m.ID)
				}
				ack = p.Next
				if !p.More {
					break
				}
			}
			b.done(1)
			if diff := cmp.Diff(sent, got); diff != "" {
				t.Errorf("sync returned (-sent +got):\n%s", diff)
			}
		})

		t.Run("history", func(t *testing.T) {
			for _, newer := range []bool{false, true} {
				b := &budgetCheck{t: t, what: fmt.Sprintf("history (newer %v)", newer)}
				var got []chat.MsgID
				q := chat.HistoryQuery{ChatType: chat.SingleChat, With: "bob", Limit: 100, Newer: newer}
				for {
					p, err := e.svc.History(ctx, alice, q)
					if err != nil {
						t.Fatal(err)
					}
					b.page(len(p.Messages), wire.HistoryReply(p))
					for _, m := range p.Messages {
						got = append(got, m.ID)
					}
					if p.IsLast {
						break
					}
					q.Cursor = p.Cursor
				}
				b.done(1)
				want := append([]chat.MsgID(nil), sent...)
				if !newer {
					for i, j := 0, len(want)-1; i < j; i, j = i+1, j-1 {
						want[i], want[j] = want[j], want[i]
					}
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("history (newer %v) returned (-want +got):\n%s", newer, diff)
				}
			}
		})

		// Conversations: alice with each member, a large last message each.
		var peers []string
		for _, m := range members[:10] {
			if _, err := e.svc.Send(ctx, alice, chat.Outgoing{LocalID: nextLocal(), Type: chat.TypeText, ChatType: chat.SingleChat, To: m.Name, Text: big}); err != nil {
				t.Fatal(err)
			}
			peers = append([]string{m.Name}, peers...) // newest first
		}
		peers = append(peers, "bob")
		t.Run("conversations", func(t *testing.T) {
			b := &budgetCheck{t: t, what: "conversations"}
			var got []string
			cursor := ""
			for {
				p, err := e.svc.Conversations(ctx, alice, cursor, 100)
				if err != nil {
					t.Fatal(err)
				}
				b.page(len(p.Conversations), wire.ConvListReply(p))
				for _, c := range p.Conversations {
					got = append(got, c.PeerName)
				}
				if p.Next == "" {
					break
				}
				cursor = p.Next
			}
			b.done(1)
			if diff := cmp.Diff(peers, got); diff != "" {
				t.Errorf("conversations (-want +got):\n%s", diff)
			}
		})

		// A group: 8 readers with large ackContent, 42 who did not read;
		// 7 receipt-requesting messages of alice each read with large
		// ackContent (her statistics).
		g := e.group(t, alice, members...)
		content := strings.Repeat("ok ", 300)
		m := e.sendGroup(t, alice, g, true)
		var readers []string
		for i, r := range members[:8] {
			e.clock.Add(1000)
			ack(t, e, r, g, m.ID, fmt.Sprint(i, content))
			readers = append(readers, r.Name)
		}
		t.Run("readers", func(t *testing.T) {
			for _, order := range []chat.Order{chat.OldestFirst, chat.NewestFirst} {
				b := &budgetCheck{t: t, what: fmt.Sprintf("readers (order %d)", order)}
				var got []string
				cursor := ""
				for {
					p, err := e.svc.Readers(ctx, alice, g, m.ID, order, cursor, 500)
					if err != nil {
						t.Fatal(err)
					}
					if p.Total != len(readers) {
						t.Errorf("readers total = %d, want %d", p.Total, len(readers))
					}
					b.page(len(p.Readers), wire.ReadersReply(p))
					for _, r := range p.Readers {
						got = append(got, r.Name)
					}
					if p.Next == "" {
						break
					}
					cursor = p.Next
				}
				b.done(1)
				want := append([]string(nil), readers...)
				if order == chat.NewestFirst {
					for i, j := 0, len(want)-1; i < j; i, j = i+1, j-1 {
						want[i], want[j] = want[j], want[i]
					}
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("readers (order %d) (-want +got):\n%s", order, diff)
				}
			}
		})
		t.Run("unread", func(t *testing.T) {
			b := &budgetCheck{t: t, what: "unread"}
			var got []string
			cursor := ""
			for {
				p, err := e.svc.Unread(ctx, alice, g, m.ID, cursor, 500)
				if err != nil {
					t.Fatal(err)
				}
				b.page(len(p.Users), wire.UnreadReply(p))
				got = append(got, strings.Split(memberNames(p.Users), ",")...)
				if p.Next == "" {
					break
				}
				cursor = p.Next
			}
			b.done(1)
			var want []string
			for _, r := range members[8:] {
				want = append(want, r.Name)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("unread (-want +got):\n%s", diff)
			}
		})

		var stats []chat.MsgID
		for i := 0; i < 7; i++ {
			s := e.sendGroup(t, alice, g, true)
			ack(t, e, members[i], g, s.ID, content)
			stats = append(stats, s.ID)
		}
		t.Run("receipt stats", func(t *testing.T) {
			phone := alice
			phone.Device = "phone"
			b := &budgetCheck{t: t, what: "receipt stats"}
			seen := map[chat.MsgID]int{}
			var ackPos int64
			for {
				p, err := e.svc.ReceiptStats(ctx, phone, ackPos, 1000)
				if err != nil {
					t.Fatal(err)
				}
				b.page(len(p.Entries), wire.StatsReply(p))
				for _, c := range p.Entries {
					seen[c.Msg]++
				}
				ackPos = p.Next
				if !p.More {
					break
				}
			}
			b.done(1)
			want := map[chat.MsgID]int{m.ID: 1}
			for _, id := range stats {
				want[id] = 1
			}
			if diff := cmp.Diff(want, seen); diff != "" {
				t.Errorf("stats entries (-want +got):\n%s", diff)
			}
		})
	})
}

func TestMaxPageBytesIsValidated(t *testing.T) {
	for _, n := range []int{0, -1, 4<<10 - 1, 256<<20 + 1} {
		c := chat.DefaultConfig()
		c.MaxPageBytes = n
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "max-page-bytes") {
			t.Errorf("Validate(MaxPageBytes %d) = %v, want an error naming max-page-bytes", n, err)
		}
	}
	for _, n := range []int{4 << 10, 1 << 20, 256 << 20} {
		c := chat.DefaultConfig()
		c.MaxPageBytes = n
		if err := c.Validate(); err != nil {
			t.Errorf("Validate(MaxPageBytes %d) = %v, want nil", n, err)
		}
	}
}
