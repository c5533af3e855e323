package ws

import (
	"log/slog"
	"sync"

	"seen/internal/chat"
)

// hub routes bus events to the local sessions that want them. It holds
// one bus subscription per topic per node, reference-counted by the
// sessions interested: N sessions of a 100k-member group on one node
// cost one subscription, and each event is encoded once and then copied
// into N queues.
//
// Locks: hub.mu guards topics and every session's topic set
// (session.topics); topic.mu guards one topic's sessions. Order: hub.mu,
// then topic.mu, then session.mu. Fan-out holds topic.mu for reading and
// never takes hub.mu: subscription changes caused by an event (a user
// added to or removed from a group) run after the fan-out releases it.
type hub struct {
	bus chat.Bus
	log *slog.Logger

	mu     sync.Mutex
	topics map[string]*topic
}

type topic struct {
	name   string
	cancel func()

	mu       sync.RWMutex
	sessions map[*session]struct{}
}

func newHub(bus chat.Bus, log *slog.Logger) *hub {
	return &hub{bus: bus, log: log, topics: make(map[string]*topic)}
}

// add subscribes s to a topic, subscribing the node to the bus topic if
// s is its first local session. It does nothing for a closing session.
func (h *hub) add(name string, s *session) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.isClosing() || s.topics[name] {
		return nil
	}
	t := h.topics[name]
	if t == nil {
		t = &topic{name: name, sessions: make(map[*session]struct{})}
		cancel, err := h.bus.Subscribe(name, t.deliver)
		if err != nil {
			return err
		}
		t.cancel = cancel
		h.topics[name] = t
	}
	t.mu.Lock()
	t.sessions[s] = struct{}{}
	t.mu.Unlock()
	s.topics[name] = true
	return nil
}

// remove unsubscribes s from a topic, and the node from the bus topic if
// s was its last local session.
func (h *hub) remove(name string, s *session) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.removeLocked(name, s)
}

func (h *hub) removeLocked(name string, s *session) {
	if !s.topics[name] {
		return
	}
	delete(s.topics, name)
	t := h.topics[name]
	if t == nil {
		return
	}
	t.mu.Lock()
	delete(t.sessions, s)
	empty := len(t.sessions) == 0
	t.mu.Unlock()
	if empty {
		delete(h.topics, name)
		t.cancel()
	}
}

// unregister removes s from every topic.
func (h *hub) unregister(s *session) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for name := range s.topics {
		h.removeLocked(name, s)
	}
}

// subscribed reports whether s is subscribed to a topic (for tests).
func (h *hub) subscribed(name string, s *session) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return s.topics[name]
}

// topicCount returns how many bus topics the node is subscribed to.
func (h *hub) topicCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.topics)
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
	kind, frame, ok := pushFrame(ev)
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
