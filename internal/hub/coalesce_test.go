package hub

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"seen/internal/bus"
	"seen/internal/chat"
	"seen/internal/chat/chattest"
)

// push is one read-count push a subscriber was handed.
type push struct {
	at    time.Time
	msg   chat.MsgID
	count int
}

// pushSub is a fake session that records the read-count pushes it is
// handed, timed by now, and the kinds of the other events.
type pushSub struct {
	now func() time.Time

	mu     sync.Mutex
	pushes []push
	others []chat.EventKind
}

func (s *pushSub) Deliver(ev chat.Event, _ Frame) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ev.Kind != chat.EventReceipt {
		s.others = append(s.others, ev.Kind)
		return
	}
	s.pushes = append(s.pushes, push{at: s.now(), msg: ev.Receipt.Msg, count: ev.Receipt.Count})
}

func (s *pushSub) Codec() Codec  { return &codec{name: "c"} }
func (s *pushSub) Closing() bool { return false }

// counts returns the counts pushed for msg, in order.
func (s *pushSub) counts(msg chat.MsgID) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int
	for _, p := range s.pushes {
		if p.msg == msg {
			out = append(out, p.count)
		}
	}
	return out
}

// of returns the pushes of msg.
func (s *pushSub) of(msg chat.MsgID) []push {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []push
	for _, p := range s.pushes {
		if p.msg == msg {
			out = append(out, p)
		}
	}
	return out
}

func receiptEvent(msg chat.MsgID, count int) chat.Event {
	return chat.Event{Kind: chat.EventReceipt, Receipt: &chat.ReceiptPush{Msg: msg, Sender: 1, Count: count, StatSeq: int64(count)}}
}

// held returns how many messages the hub holds, and its queue's length.
func (h *Hub) heldNow() (msgs, queue int) {
	h.receipts.mu.Lock()
	defer h.receipts.mu.Unlock()
	return len(h.receipts.held), len(h.receipts.queue)
}

// TestCoalesceReceipts drives the coalescing with a fake clock: the first
// push of a quiet message is handed on at once, later ones in its
// interval are folded into one at the interval's end carrying the
// highest count, lower counts are dropped, messages are independent, a
// message is forgotten after an interval without a push, and other events
// are not held.
func TestCoalesceReceipts(t *testing.T) {
	const iv = 100 * time.Millisecond
	clk := chattest.NewClock(time.Unix(1_000_000, 0))
	b := bus.NewLocal()
	h := New(b, nil, CoalesceReceipts(iv), WithClock(clk))
	s := &pushSub{now: clk.Now}
	if err := h.Add("u.1", s); err != nil {
		t.Fatal(err)
	}
	start := clk.Now()
	at := func(d time.Duration) { clk.Add(start.Add(d).Sub(clk.Now())) }
	check := func(when string, msg chat.MsgID, want ...int) {
		t.Helper()
		if got := s.counts(msg); !slices.Equal(got, want) {
			t.Errorf("%s: counts pushed for %d = %v, want %v", when, msg, got, want)
		}
	}

	publish(t, b, "u.1", receiptEvent(10, 1))
	check("first push of a quiet message", 10, 1)
	at(10 * time.Millisecond)
	publish(t, b, "u.1", receiptEvent(10, 3))
	publish(t, b, "u.1", receiptEvent(10, 2)) // overtaken: dropped
	publish(t, b, "u.1", receiptEvent(20, 7)) // another message: at once
	publish(t, b, "u.1", chat.Event{Kind: chat.EventMessage})
	check("within the interval", 10, 1)
	check("another message", 20, 7)
	if got := s.others; !slices.Equal(got, []chat.EventKind{chat.EventMessage}) {
		t.Errorf("other events handed on during the interval = %v, want [msg]", got)
	}
	at(50 * time.Millisecond)
	publish(t, b, "u.1", receiptEvent(20, 8))
	at(99 * time.Millisecond)
	check("1 ms before the interval ends", 10, 1)
	at(100 * time.Millisecond)
	check("at the interval's end", 10, 1, 3)
	check("another message before its interval's end", 20, 7)
	at(110 * time.Millisecond)
	check("another message at its interval's end", 20, 7, 8)
	at(150 * time.Millisecond)
	publish(t, b, "u.1", receiptEvent(10, 3)) // not newer than what was pushed
	at(200 * time.Millisecond)
	check("after a repeated count", 10, 1, 3)
	if n, _ := h.heldNow(); n != 1 {
		t.Errorf("messages held after message 10's quiet interval = %d, want 1 (message 20)", n)
	}
	at(210 * time.Millisecond)
	if n, _ := h.heldNow(); n != 0 {
		t.Errorf("messages held after both quiet intervals = %d, want 0", n)
	}
	// A count lower than one pushed before, arriving late from a node
	// that fell behind, is dropped even once the message is forgotten.
	publish(t, b, "u.1", receiptEvent(20, 6))
	check("a late lower count of a forgotten message", 20, 7, 8)
	// Message 10 was forgotten at 200 ms: its next push is at once.
	at(250 * time.Millisecond)
	publish(t, b, "u.1", receiptEvent(10, 4))
	check("a push after a quiet interval", 10, 1, 3, 4)
	at(time.Second)
	if n, q := h.heldNow(); n != 0 || q != 0 {
		t.Errorf("after every message went quiet: %d held, queue %d, want 0, 0", n, q)
	}
	if n := clk.Pending(); n != 0 {
		t.Errorf("timers set with nothing held = %d, want 0", n)
	}

	// A timer running late: a push after the interval's end is handed on
	// at once, and the late timer then changes nothing.
	publish(t, b, "u.1", receiptEvent(30, 1))
	publish(t, b, "u.1", receiptEvent(30, 2))
	clk.Set(clk.Now().Add(iv + 5*time.Millisecond))
	publish(t, b, "u.1", receiptEvent(30, 5))
	check("a push after the end of an interval whose timer is late", 30, 1, 5)
	clk.Add(0)
	check("the late timer", 30, 1, 5)
	clk.Add(iv)
	check("the interval opened by the late push", 30, 1, 5)
	if n, q := h.heldNow(); n != 0 || q != 0 {
		t.Errorf("after the late timer: %d held, queue %d, want 0, 0", n, q)
	}
}

// TestCoalesceResubscribe: a push held when the topic's subscriber
// leaves goes to the topic's subscribers at the interval's end: to a
// session that came meanwhile, and to nobody when none did.
func TestCoalesceResubscribe(t *testing.T) {
	clk := chattest.NewClock(time.Unix(1_000_000, 0))
	b := bus.NewLocal()
	h := New(b, nil, CoalesceReceipts(100*time.Millisecond), WithClock(clk))
	s1, s2 := &pushSub{now: clk.Now}, &pushSub{now: clk.Now}
	if err := h.Add("u.1", s1); err != nil {
		t.Fatal(err)
	}
	publish(t, b, "u.1", receiptEvent(1, 1))
	publish(t, b, "u.1", receiptEvent(1, 2))
	publish(t, b, "u.1", receiptEvent(2, 1))
	publish(t, b, "u.1", receiptEvent(2, 2))
	h.Remove("u.1", s1)
	if err := h.Add("u.1", s2); err != nil {
		t.Fatal(err)
	}
	clk.Add(100 * time.Millisecond)
	if got1, got2 := s1.counts(1), s2.counts(1); !slices.Equal(got1, []int{1}) || !slices.Equal(got2, []int{2}) {
		t.Errorf("counts pushed to the session that left %v, to the one that came %v, want [1], [2]", got1, got2)
	}
	publish(t, b, "u.1", receiptEvent(1, 3))
	h.Remove("u.1", s2)
	clk.Add(100 * time.Millisecond) // nobody to push to
	clk.Add(100 * time.Millisecond)
	if n, q := h.heldNow(); n != 0 || q != 0 || h.Topics() != 0 {
		t.Errorf("after the last session left: %d held, queue %d, topics %d, want 0, 0, 0", n, q, h.Topics())
	}
}

// TestCoalesceCap: past the cap, pushes of messages not held are handed
// on uncoalesced, and held messages stay coalesced.
func TestCoalesceCap(t *testing.T) {
	clk := chattest.NewClock(time.Unix(1_000_000, 0))
	b := bus.NewLocal()
	h := New(b, nil, CoalesceReceipts(100*time.Millisecond), WithClock(clk))
	h.receipts.max = 2
	s := &pushSub{now: clk.Now}
	if err := h.Add("u.1", s); err != nil {
		t.Fatal(err)
	}
	for count := 1; count <= 3; count++ {
		for msg := chat.MsgID(1); msg <= 3; msg++ {
			publish(t, b, "u.1", receiptEvent(msg, count))
		}
	}
	for _, tc := range []struct {
		msg  chat.MsgID
		want []int
	}{{1, []int{1}}, {2, []int{1}}, {3, []int{1, 2, 3}}} {
		if got := s.counts(tc.msg); !slices.Equal(got, tc.want) {
			t.Errorf("message %d with a cap of 2: counts pushed = %v, want %v", tc.msg, got, tc.want)
		}
	}
	if n, _ := h.heldNow(); n != 2 || h.receipts.overrun != 3 {
		t.Errorf("held %d, handed on past the cap %d, want 2, 3", n, h.receipts.overrun)
	}
	clk.Add(100 * time.Millisecond)
	if got := s.counts(1); !slices.Equal(got, []int{1, 3}) {
		t.Errorf("held message at its interval's end: counts pushed = %v, want [1 3]", got)
	}
}

// TestCoalesceOff: without CoalesceReceipts, every push is handed on.
func TestCoalesceOff(t *testing.T) {
	b := bus.NewLocal()
	h := New(b, nil)
	s := &pushSub{now: time.Now}
	if err := h.Add("u.1", s); err != nil {
		t.Fatal(err)
	}
	for _, c := range []int{1, 3, 2} {
		publish(t, b, "u.1", receiptEvent(1, c))
	}
	if got := s.counts(1); !slices.Equal(got, []int{1, 3, 2}) {
		t.Errorf("counts pushed without coalescing = %v, want [1 3 2]", got)
	}
}

// TestCoalesceRandom: pushes from several publishers of several messages,
// arriving out of order at random times: per message, the counts handed on
// only grow, two pushes are at least an interval apart, a push of a
// message with no push in the last interval is handed on at once, the
// last push carries the highest count, and one timer at most is set.
func TestCoalesceRandom(t *testing.T) {
	const iv = 100 * time.Millisecond
	for seed := range uint64(20) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(seed, 1))
			clk := chattest.NewClock(time.Unix(1_000_000, 0))
			b := bus.NewLocal()
			h := New(b, nil, CoalesceReceipts(iv), WithClock(clk))
			s := &pushSub{now: clk.Now}
			if err := h.Add("u.1", s); err != nil {
				t.Fatal(err)
			}
			const msgs = 4
			top := make([]int, msgs+1) // highest count published, by message
			for range 2000 {
				clk.Add(time.Duration(rnd.IntN(15)) * time.Millisecond)
				if n := clk.Pending(); n > 1 {
					t.Fatalf("timers set = %d, want at most 1", n)
				}
				msg := chat.MsgID(1 + rnd.IntN(msgs))
				count := top[msg] + 1
				if rnd.IntN(4) == 0 && top[msg] > 3 {
					count = top[msg] - rnd.IntN(3) // a push from a node that fell behind
				}
				rises := count > top[msg]
				top[msg] = max(top[msg], count)
				ps := s.of(msg)
				quiet := len(ps) == 0 || ps[len(ps)-1].at.Before(clk.Now().Add(-iv))
				publish(t, b, "u.1", receiptEvent(msg, count))
				if quiet && rises && len(s.of(msg)) != len(ps)+1 {
					t.Fatalf("push of count %d of message %d, quiet for an interval: not handed on at once", count, msg)
				}
			}
			clk.Add(3 * iv)
			for msg := chat.MsgID(1); msg <= msgs; msg++ {
				ps := s.of(msg)
				for i := 1; i < len(ps); i++ {
					if ps[i].count <= ps[i-1].count {
						t.Errorf("message %d: count %d pushed after %d", msg, ps[i].count, ps[i-1].count)
					}
					if gap := ps[i].at.Sub(ps[i-1].at); gap < iv {
						t.Errorf("message %d: pushes %v apart, want at least %v", msg, gap, iv)
					}
				}
				if len(ps) == 0 || ps[len(ps)-1].count != top[msg] {
					t.Errorf("message %d: last count pushed of %v, want %d", msg, s.counts(msg), top[msg])
				}
			}
			if n, q := h.heldNow(); n != 0 || q != 0 || clk.Pending() != 0 {
				t.Errorf("when quiet: %d held, queue %d, timers %d, want 0, 0, 0", n, q, clk.Pending())
			}
		})
	}
}

// natsURL returns the NATS server of the tests: SEEN_TEST_NATS_URL (make
// test sets it when one answers), or one started in the test.
func natsURL(t *testing.T) string {
	if u := os.Getenv("SEEN_TEST_NATS_URL"); u != "" {
		return u
	}
	s, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	t.Cleanup(s.Shutdown)
	return s.ClientURL()
}

// TestCoalesceAcrossNodes: several nodes publish rising counts of the same
// messages as fast as they can, over the real buses; the sender's node
// hands its session at most one push per message per interval (counted
// with margins: the pushes are at least half an interval apart, and no
// more than the time over the interval, plus two), the counts only grow,
// and the last one is the final count.
func TestCoalesceAcrossNodes(t *testing.T) {
	const (
		iv    = 100 * time.Millisecond
		nodes = 3
		msgs  = 3
		run   = time.Second
	)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		name string
		// buses returns the sender's node's bus and the publishers'.
		buses func(t *testing.T) (chat.Bus, []chat.Bus)
	}{
		{"local", func(t *testing.T) (chat.Bus, []chat.Bus) {
			b := bus.NewLocal()
			return b, slices.Repeat([]chat.Bus{b}, nodes)
		}},
		{"nats", func(t *testing.T) (chat.Bus, []chat.Bus) {
			url := natsURL(t)
			dial := func(node string) *bus.NATS {
				b, err := bus.DialNATS(url, bus.NATSOptions{Node: node}, log)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { b.Close() })
				return b
			}
			id := rand.Uint64()
			var pubs []chat.Bus
			for i := range nodes {
				pubs = append(pubs, dial(fmt.Sprintf("pub-%d-%x", i, id)))
			}
			return dial(fmt.Sprintf("sender-%x", id)), pubs
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sb, pubs := tc.buses(t)
			h := New(sb, log, CoalesceReceipts(iv))
			s := &pushSub{now: time.Now}
			// A user of its own: other tests may share the NATS server.
			user := chat.UserID(rand.Int64N(1<<40) + 1<<40)
			topic := chat.UserTopic(user)
			if err := h.Add(topic, s); err != nil {
				t.Fatal(err)
			}
			defer h.Unregister(s) // Add returned: the subscription is live at the NATS server
			var counts [msgs + 1]atomic.Int64
			var published atomic.Int64
			start := time.Now()
			var wg sync.WaitGroup
			for _, pb := range pubs {
				wg.Go(func() {
					for time.Since(start) < run {
						for m := chat.MsgID(1); m <= msgs; m++ {
							c := counts[m].Add(1)
							ev := chat.Event{Kind: chat.EventReceipt, Receipt: &chat.ReceiptPush{Msg: m, Sender: user, Count: int(c), StatSeq: c}}
							if err := pb.Publish(context.Background(), topic, ev); err != nil {
								t.Errorf("publish: %v", err)
								return
							}
							published.Add(1)
						}
						time.Sleep(time.Millisecond)
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			// The final count of every message arrives.
			deadline := time.Now().Add(10 * time.Second)
			for m := chat.MsgID(1); m <= msgs; m++ {
				want := int(counts[m].Load())
				for {
					got := s.counts(m)
					if len(got) > 0 && got[len(got)-1] == want {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("message %d: last count pushed %v, want %d", m, got[max(len(got)-3, 0):], want)
					}
					time.Sleep(5 * time.Millisecond)
				}
			}
			limit := int(elapsed/iv) + 2
			for m := chat.MsgID(1); m <= msgs; m++ {
				ps := s.of(m)
				for i := 1; i < len(ps); i++ {
					if ps[i].count <= ps[i-1].count {
						t.Errorf("message %d: count %d pushed after %d", m, ps[i].count, ps[i-1].count)
					}
					if gap := ps[i].at.Sub(ps[i-1].at); gap < iv/2 {
						t.Errorf("message %d: pushes %d and %d %v apart, want about %v", m, i, i+1, gap, iv)
					}
				}
				// The final push may come up to an interval after the run.
				if len(ps) > limit+1 {
					t.Errorf("message %d: %d pushes in %v, want at most %d", m, len(ps), elapsed, limit+1)
				}
				t.Logf("message %d: %d pushes of %d published counts", m, len(ps), counts[m].Load())
			}
			if p := published.Load(); p < int64(msgs*4*limit) {
				t.Errorf("published %d counts, want many more than the %d pushes allowed: the test measures nothing", p, msgs*limit)
			}
			// Everything is forgotten an interval after the last push.
			for {
				if n, q := h.heldNow(); n == 0 && q == 0 {
					break
				}
				if time.Now().After(deadline) {
					n, q := h.heldNow()
					t.Fatalf("long after the last push: %d held, queue %d, want 0, 0", n, q)
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
}
