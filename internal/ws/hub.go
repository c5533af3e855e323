package ws

import (
	"log/slog"
	"sync"
	"time"

	"seen/internal/chat"
)

// hub routes bus events to the local sessions that want them. It holds
// one bus subscription per topic per node, reference-counted by the
// sessions interested: N sessions of a 100k-member group on one node
// cost one subscription, and each event is encoded once and then copied
// into N queues.
//
// Locks: hub.mu guards topics, each topic's subscription state (cancel,
// err, dropped) and every session's topic set (session.topics);
// topic.mu guards one topic's sessions. Order: hub.mu, then topic.mu,
// then session.mu. No lock is held while calling the bus: the first
// session of a topic subscribes after releasing hub.mu, and the others
// wait on the topic's ready channel. Fan-out holds topic.mu for reading
// and never takes hub.mu: subscription changes caused by an event (a user
// added to or removed from a group) run after the fan-out releases it.
type hub struct {
	bus chat.Bus
	log *slog.Logger

	mu     sync.Mutex
	topics map[string]*topic
	users  map[chat.UserID]*userBudget
}

// userBudget is one user's request budget on this node: a token bucket
// shared by all the user's sessions here, so that 20 connections of one
// user get no more requests through than one. It lives while the user has
// a session on the node (refs, guarded by hub.mu).
type userBudget struct {
	refs int

	mu sync.Mutex
	b  bucket
}

// allow takes a token from the user's bucket.
func (u *userBudget) allow(now time.Time) bool {
	u.mu.Lock()
	ok := u.b.allow(now)
	u.mu.Unlock()
	return ok
}

// addUser returns user's budget, creating it (full) for the user's first
// session on the node.
func (h *hub) addUser(user chat.UserID, rate float64, burst int) *userBudget {
	h.mu.Lock()
	defer h.mu.Unlock()
	u := h.users[user]
	if u == nil {
		u = &userBudget{b: bucket{rate: rate, burst: float64(burst)}}
		h.users[user] = u
	}
	u.refs++
	return u
}

// removeUser releases a session's hold on its user's budget.
func (h *hub) removeUser(user chat.UserID, u *userBudget) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if u.refs--; u.refs == 0 && h.users[user] == u {
		delete(h.users, user)
	}
}

type topic struct {
	name  string
	log   *slog.Logger
	ready chan struct{} // closed once the bus subscription is made (or failed)

	// Guarded by hub.mu.
	cancel  func()
	err     error
	dropped bool // every session left before the subscription was made

	mu       sync.RWMutex
	sessions map[*session]struct{}
}

func newHub(bus chat.Bus, log *slog.Logger) *hub {
	return &hub{bus: bus, log: log, topics: make(map[string]*topic), users: make(map[chat.UserID]*userBudget)}
}

// add subscribes s to a topic, subscribing the node to the bus topic if
// s is its first local session. It returns once the bus subscription is
// live. It does nothing for a closing session.
func (h *hub) add(name string, s *session) error {
	h.mu.Lock()
	if s.isClosing() || s.topics[name] {
		h.mu.Unlock()
		return nil
	}
	t := h.topics[name]
	first := t == nil
	if first {
		t = &topic{name: name, log: h.log, ready: make(chan struct{}), sessions: make(map[*session]struct{})}
		h.topics[name] = t
	}
	t.mu.Lock()
	t.sessions[s] = struct{}{}
	t.mu.Unlock()
	s.topics[name] = true
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
		for s := range t.sessions {
			delete(s.topics, name)
		}
		clear(t.sessions)
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

// remove unsubscribes s from a topic, and the node from the bus topic if
// s was its last local session.
func (h *hub) remove(name string, s *session) {
	h.mu.Lock()
	cancel := h.removeLocked(name, s)
	h.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// removeLocked removes s from a topic and returns the bus subscription's
// cancel function when s was the topic's last session, to be called
// without hub.mu.
func (h *hub) removeLocked(name string, s *session) func() {
	if !s.topics[name] {
		return nil
	}
	delete(s.topics, name)
	t := h.topics[name]
	if t == nil {
		return nil
	}
	t.mu.Lock()
	delete(t.sessions, s)
	empty := len(t.sessions) == 0
	t.mu.Unlock()
	if !empty {
		return nil
	}
	delete(h.topics, name)
	if t.cancel == nil {
		t.dropped = true // still subscribing: add cancels when done
	}
	return t.cancel
}

// unregister removes s from every topic.
func (h *hub) unregister(s *session) {
	h.mu.Lock()
	var cancels []func()
	for name := range s.topics {
		if c := h.removeLocked(name, s); c != nil {
			cancels = append(cancels, c)
		}
	}
	h.mu.Unlock()
	for _, c := range cancels {
		c()
	}
}

// deliver is the bus handler of a topic: it runs on the publisher's
// goroutine and must not block. It encodes the push once and hands it to
// every local session, which filters it and copies it into its queue.
func (t *topic) deliver(ev chat.Event) {
	t.mu.RLock()
	if len(t.sessions) == 0 {
		t.mu.RUnlock()
		return
	}
	kind, frame, ok, err := pushFrame(ev)
	if err != nil {
		t.log.Error("push not sent", "topic", t.name, "event", ev.Kind, "err", err)
	}
	if !ok {
		t.mu.RUnlock()
		return
	}
	var after []func()
	for s := range t.sessions {
		if f := s.push(ev, kind, frame); f != nil {
			after = append(after, f)
		}
	}
	t.mu.RUnlock()
	for _, f := range after {
		f()
	}
}
