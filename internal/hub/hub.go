// Package hub routes bus events to the sessions of one node, whatever
// their transport (internal/ws for seen's JSON protocol, internal/msync
// for the vendor SDK's). It holds one bus subscription per topic per
// node, reference-counted by the local subscribers interested in it, and
// hands each event to the subscribers of its topic, encoded once per
// Codec. It also keeps a user's sessions on their groups' topics as the
// user joins and leaves groups (Follow), and holds the request budget
// that all of a user's sessions on the node share (AddUser).
//
// A session of either transport uses it like this:
//
//	// At login, once the token is checked:
//	s.budget = h.AddUser(actor.User, cfg.UserRatePerSec, cfg.UserRateBurst)
//	if err := h.Follow(ctx, s, actor, svc); err != nil {
//		// The session cannot get its events: close it.
//	}
//	// For every request:
//	if !s.budget.Allow(time.Now()) { /* refuse: rate limited */ }
//	// At teardown, after s.Closing() has started returning true:
//	h.Unregister(s)
//	h.RemoveUser(actor.User, s.budget)
//
// where s implements Subscriber: Deliver copies the frame (or the event)
// into the session's bounded queue without blocking, Codec names the
// transport's encoding, and Closing reports that the session is going
// away, so that nothing subscribes it again after Unregister.
//
// With CoalesceReceipts, the read-count pushes (chat.EventReceipt) that
// reach the node from every node of the cluster are coalesced per
// message before the fan-out: the first push of a quiet message at once,
// then at most one per interval, the last one carrying the highest count
// (see receipts).
//
// Locks: Hub.mu guards the topics, each topic's subscription state
// (cancel, err, dropped) and every subscriber's topic set; topic.mu
// guards one topic's subscribers; receipts.mu guards the coalescing and
// is held over the fan-out of a read-count push. Order: receipts.mu,
// then Hub.mu, then topic.mu, then the subscriber's own locks (Deliver
// runs under topic.mu held for reading).
// No lock is held while calling the bus: the first subscriber of a topic
// subscribes after releasing Hub.mu, and the others wait on the topic's
// ready channel. Fan-out holds topic.mu for reading and never takes
// Hub.mu: the subscription changes caused by an event (a user added to or
// removed from a group) run after the fan-out releases it. A Budget's
// lock is a leaf.
package hub

import (
	"log/slog"
	"sync"

	"seen/internal/chat"
)

// Subscriber is what a session offers the hub.
type Subscriber interface {
	// Deliver hands the subscriber one event of a topic it is in, with
	// the frame its Codec made of it. It runs on the publisher's
	// goroutine (or, for a read-count push held by CoalesceReceipts, the
	// hub's timer's), under the topic's lock: it must not block and must not
	// call the hub (subscription changes it implies are made by Follow,
	// or by the subscriber later on a goroutine of its own).
	Deliver(ev chat.Event, f Frame)
	// Codec is the encoding of the subscriber's transport. Every
	// subscriber of a transport should return the same value, so that an
	// event is encoded once per transport, not once per subscriber.
	Codec() Codec
	// Closing reports whether the subscriber is going away. Add and
	// Follow do nothing for a closing subscriber, so that a subscription
	// racing with Unregister cannot outlive it.
	Closing() bool
}

// Codec encodes an event into a transport's frame. Codec values are
// compared with ==: use a comparable type (an empty struct, a pointer).
type Codec interface {
	// Encode returns the frame of ev. ok is false for an event the
	// transport does not push; err says why an event could not be
	// encoded (it is logged, and the event is not delivered to the
	// codec's subscribers).
	Encode(ev chat.Event) (f Frame, ok bool, err error)
}

// Frame is an encoded event, shared by every subscriber of one Codec:
// they must not modify Data.
type Frame struct {
	Kind string // a name for metrics and logs, like "push.message"
	Data []byte // the bytes to write; nil for events acted on and never sent
}

// Hub routes a bus's events to local subscribers. Its zero value is not
// usable: use New.
type Hub struct {
	bus chat.Bus
	log *slog.Logger

	mu      sync.Mutex
	topics  map[string]*topic
	members map[Subscriber]*member
	users   map[chat.UserID]*Budget

	receipts receipts
}

// member is the hub's state about one subscriber, guarded by Hub.mu.
type member struct {
	topics map[string]bool
	// actor is the user whose groups the subscriber follows (Follow),
	// zero when it follows none.
	actor chat.Actor
}

type topic struct {
	name  string
	hub   *Hub
	ready chan struct{} // closed once the bus subscription is made (or failed)

	// Guarded by Hub.mu.
	cancel  func()
	err     error
	dropped bool // every subscriber left before the subscription was made

	mu   sync.RWMutex
	subs map[Subscriber]struct{}
}

// New returns a hub over bus. A nil logger discards logs.
func New(bus chat.Bus, log *slog.Logger, opts ...Option) *Hub {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Hub{
		bus: bus, log: log,
		topics:  make(map[string]*topic),
		members: make(map[Subscriber]*member),
		users:   make(map[chat.UserID]*Budget),
	}
	h.receipts = receipts{
		hub: h, clock: chat.SystemClock{}, max: maxCoalesced,
		seen: chat.NewHighWater(maxCoalesced), held: make(map[heldKey]*heldMsg),
	}
	for _, o := range opts {
		o(h)
	}
	return h
}

// memberLocked returns sub's state, creating it. Hub.mu is held.
func (h *Hub) memberLocked(sub Subscriber) *member {
	m := h.members[sub]
	if m == nil {
		m = &member{topics: make(map[string]bool)}
		h.members[sub] = m
	}
	return m
}

// Add subscribes sub to a topic, subscribing the node to the bus topic
// if sub is its first local subscriber. It returns once the bus
// subscription is live, with the bus's error if it could not be made
// (sub is then not in the topic). It does nothing for a closing
// subscriber or one already in the topic.
func (h *Hub) Add(name string, sub Subscriber) error {
	h.mu.Lock()
	if sub.Closing() {
		h.mu.Unlock()
		return nil
	}
	m := h.memberLocked(sub)
	if m.topics[name] {
		h.mu.Unlock()
		return nil
	}
	t := h.topics[name]
	first := t == nil
	if first {
		t = &topic{name: name, hub: h, ready: make(chan struct{}), subs: make(map[Subscriber]struct{})}
		h.topics[name] = t
	}
	t.mu.Lock()
	t.subs[sub] = struct{}{}
	t.mu.Unlock()
	m.topics[name] = true
	h.mu.Unlock()

	if !first {
		<-t.ready
		h.mu.Lock()
		defer h.mu.Unlock()
		return t.err
	}
	cancel, err := h.bus.Subscribe(name, t.deliver)
	h.mu.Lock()
	t.cancel, t.err = cancel, err
	dropped := t.dropped
	if err != nil {
		// Undo: nobody is subscribed to this topic.
		t.mu.Lock()
		for s := range t.subs {
			if m := h.members[s]; m != nil {
				delete(m.topics, name)
				h.forgetLocked(s, m)
			}
		}
		clear(t.subs)
		t.mu.Unlock()
		if h.topics[name] == t {
			delete(h.topics, name)
		}
	}
	h.mu.Unlock()
	close(t.ready)
	if err == nil && dropped {
		cancel()
	}
	return err
}

// Remove unsubscribes sub from a topic, and the node from the bus topic
// if sub was its last local subscriber.
func (h *Hub) Remove(name string, sub Subscriber) {
	h.mu.Lock()
	var cancel func()
	if m := h.members[sub]; m != nil {
		cancel = h.removeLocked(name, sub, m)
		h.forgetLocked(sub, m)
	}
	h.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// Unregister removes sub from every topic and stops following its
// groups. A session calls it once at teardown, after Closing has
// started returning true.
func (h *Hub) Unregister(sub Subscriber) {
	h.mu.Lock()
	var cancels []func()
	if m := h.members[sub]; m != nil {
		for name := range m.topics {
			if c := h.removeLocked(name, sub, m); c != nil {
				cancels = append(cancels, c)
			}
		}
		delete(h.members, sub)
	}
	h.mu.Unlock()
	for _, c := range cancels {
		c()
	}
}

// removeLocked removes sub from a topic and returns the bus
// subscription's cancel function when sub was the topic's last
// subscriber, to be called without Hub.mu.
func (h *Hub) removeLocked(name string, sub Subscriber, m *member) func() {
	if !m.topics[name] {
		return nil
	}
	delete(m.topics, name)
	t := h.topics[name]
	if t == nil {
		return nil
	}
	t.mu.Lock()
	delete(t.subs, sub)
	empty := len(t.subs) == 0
	t.mu.Unlock()
	if !empty {
		return nil
	}
	delete(h.topics, name)
	if t.cancel == nil {
		t.dropped = true // still subscribing: Add cancels when done
	}
	return t.cancel
}

// forgetLocked drops the state of a subscriber that is in no topic and
// follows no user, so that the hub holds nothing for it.
func (h *Hub) forgetLocked(sub Subscriber, m *member) {
	if len(m.topics) == 0 && m.actor.User == 0 {
		delete(h.members, sub)
	}
}

// Subscribed reports whether sub is in a topic.
func (h *Hub) Subscribed(name string, sub Subscriber) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := h.members[sub]
	return m != nil && m.topics[name]
}

// Topics returns how many bus topics the node is subscribed to.
func (h *Hub) Topics() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.topics)
}

// encoded is one codec's frame of the event being delivered.
type encoded struct {
	codec Codec
	f     Frame
	ok    bool
}

// deliver is the bus handler of a topic: it runs on the publisher's
// goroutine and must not block. A read-count push goes through the
// hub's coalescing (when configured); every other event is handed on at
// once.
func (t *topic) deliver(ev chat.Event) {
	if ev.Kind == chat.EventReceipt && ev.Receipt != nil && t.hub.receipts.interval > 0 {
		t.hub.receipts.update(t, ev)
		return
	}
	t.fanout(ev)
}

// fanout encodes an event once per codec and hands it to every local
// subscriber of the topic, which filters it and copies it into its
// queue; then it applies the subscription changes a group event implies.
func (t *topic) fanout(ev chat.Event) {
	t.mu.RLock()
	if len(t.subs) == 0 {
		t.mu.RUnlock()
		return
	}
	var frames []encoded // one per codec: one or two
	var group []Subscriber
	for s := range t.subs {
		if ev.Kind == chat.EventGroup && ev.Group != nil {
			group = append(group, s)
		}
		e := t.encode(&frames, s.Codec(), ev)
		if e.ok {
			s.Deliver(ev, e.f)
		}
	}
	t.mu.RUnlock()
	if group != nil {
		t.hub.follow(ev.Group, group)
	}
}

// encode returns codec's frame of ev, encoding it the first time.
func (t *topic) encode(frames *[]encoded, codec Codec, ev chat.Event) encoded {
	for _, e := range *frames {
		if e.codec == codec {
			return e
		}
	}
	f, ok, err := codec.Encode(ev)
	if err != nil {
		t.hub.log.Error("push not sent", "topic", t.name, "event", ev.Kind, "err", err)
		ok = false
	}
	e := encoded{codec: codec, f: f, ok: ok}
	*frames = append(*frames, e)
	return e
}
