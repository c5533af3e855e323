package hub

import (
	"sync"
	"time"

	"seen/internal/chat"
)

// Option configures a Hub.
type Option func(*Hub)

// CoalesceReceipts makes the hub hand its subscribers at most one
// read-count push (chat.EventReceipt) per message per interval, however
// many nodes publish them. Give it the service's CoalesceInterval: each
// node's service coalesces the acks it committed, and the hub of the
// sender's node coalesces what arrives from all of them (see receipts).
// Zero, the default, hands every push on as it arrives.
func CoalesceReceipts(interval time.Duration) Option {
	return func(h *Hub) { h.receipts.interval = max(interval, 0) }
}

// WithClock sets the clock that times the coalescing of read-count
// pushes: chat.SystemClock by default; tests give a fake one.
func WithClock(c chat.Clock) Option {
	return func(h *Hub) { h.receipts.clock = c }
}

// maxCoalesced is how many messages the hub coalesces the read-count
// pushes of at once. A message is held from its first push until an
// interval passes without one, so this is the number of messages whose
// count changed in about the last interval for the users on this node.
// Past it, pushes of messages not held are handed on uncoalesced: the
// sender may get more pushes, but gets every count, and memory stays
// bounded.
const maxCoalesced = 1 << 16

// receipts coalesces the read-count pushes of the hub's topics: per
// message, it hands on the first push of a quiet message at once, then
// at most one push per interval, the highest count seen (by Count, then
// StatSeq); when an interval ends with nothing newer, the message is
// forgotten. So the last push always carries the highest count that
// arrived, a push of a quiet message has no added latency, and a
// subscriber gets at most one push per message per interval whatever the
// number of publishers.
//
// A push whose count is not above every count seen for its message
// (chat.HighWater, over the last maxCoalesced messages, forgotten ones
// included) is dropped: the sessions would drop it too, and it must not
// open an interval that holds back the newer count behind it.
//
// One timer serves every message: the intervals all have the same length,
// so the queue of open intervals, in the order they opened, is also in the
// order they end, and the timer is armed for its head.
//
// mu is held while a push is handed to the topic's subscribers, so that
// the pushes of a message reach them in the order they were chosen: lock
// order is receipts.mu, then Hub.mu (the flush looks the topic up), then
// topic.mu.
type receipts struct {
	hub      *Hub
	interval time.Duration
	clock    chat.Clock
	max      int

	mu      sync.Mutex
	seen    *chat.HighWater // the highest count seen, by message
	held    map[heldKey]*heldMsg
	queue   []opened // by end of interval
	armed   bool     // a timer is set for queue[0] or earlier
	overrun uint64   // pushes handed on uncoalesced because held was full
}

type heldKey struct {
	topic string
	msg   chat.MsgID
}

// heldMsg is a message whose interval is open.
type heldMsg struct {
	key  heldKey
	gen  uint64            // counts the intervals opened; queue entries of older ones are stale
	end  time.Time         // when the current interval ends
	sent *chat.ReceiptPush // the last push handed on
	next *chat.Event       // the highest push since, waiting for end
}

// opened is the queue's record of one interval.
type opened struct {
	m   *heldMsg
	gen uint64
	end time.Time
}

// newer reports whether push a carries a later state of its message than b.
func newer(a, b *chat.ReceiptPush) bool {
	return a.Count > b.Count || a.Count == b.Count && a.StatSeq > b.StatSeq
}

// update is topic t's handling of a read-count push ev: hand it on now,
// hold it for the end of the message's interval, or drop it when a newer
// push was handed on or is held already.
func (r *receipts) update(t *topic, ev chat.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.clock.Now()
	p := ev.Receipt
	if !r.seen.Raise(p.Msg, p.Count) {
		return
	}
	k := heldKey{topic: t.name, msg: p.Msg}
	m := r.held[k]
	if m == nil {
		if len(r.held) >= r.max {
			r.overrun++
			t.fanout(ev)
			return
		}
		m = &heldMsg{key: k}
		r.held[k] = m
		r.open(m, now, p)
		t.fanout(ev)
		return
	}
	// seen may have forgotten a message held for long: compare with what
	// the message holds too.
	best := m.sent
	if m.next != nil {
		best = m.next.Receipt
	}
	if !newer(p, best) {
		return
	}
	if now.Before(m.end) {
		m.next = &ev
		return
	}
	// The interval has ended and its timer has not run yet: this is the
	// push it would have handed on.
	m.next = nil
	r.open(m, now, p)
	t.fanout(ev)
}

// open starts an interval of m at now, p being the push handed on.
func (r *receipts) open(m *heldMsg, now time.Time, p *chat.ReceiptPush) {
	m.gen++
	m.sent = p
	m.end = now.Add(r.interval)
	r.queue = append(r.queue, opened{m: m, gen: m.gen, end: m.end})
	if !r.armed {
		r.armed = true
		r.clock.AfterFunc(r.queue[0].end.Sub(now), r.fire)
	}
}

// fire ends the intervals due: a message with a push held gets it handed
// on and a new interval; one without is forgotten.
func (r *receipts) fire() {
	r.mu.Lock()
	defer r.mu.Unlock()
	// r.armed stays set while the loop reopens intervals: the timer for
	// the new head is set once, below.
	now := r.clock.Now()
	n := 0
	for ; n < len(r.queue) && !r.queue[n].end.After(now); n++ {
		o := r.queue[n]
		r.queue[n] = opened{}
		m := o.m
		if o.gen != m.gen {
			continue // reopened since
		}
		if m.next == nil {
			delete(r.held, m.key)
			continue
		}
		ev := *m.next
		m.next = nil
		r.open(m, now, ev.Receipt)
		if t := r.hub.topic(m.key.topic); t != nil {
			t.fanout(ev)
		}
	}
	// Reslicing gives up the front of the array; append copies only the
	// live part when it grows, so the queue holds about what is open.
	r.queue = r.queue[n:]
	r.armed = len(r.queue) > 0
	if r.armed {
		r.clock.AfterFunc(r.queue[0].end.Sub(now), r.fire)
	}
}

// topic returns the topic named name, nil when no local subscriber is in
// it any more.
func (h *Hub) topic(name string) *topic {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.topics[name]
}
