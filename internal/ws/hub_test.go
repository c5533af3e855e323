package ws

import (
	"context"
	"errors"
	"sync"
	"testing"

	"seen/internal/bus"
	"seen/internal/chat"
)

type failingBus struct{ chat.Bus }

func (failingBus) Subscribe(string, func(chat.Event)) (func(), error) {
	return nil, errors.New("bus down")
}

func TestHubSubscribeFails(t *testing.T) {
	srv := New(nil, failingBus{}, Config{}, nil, nil)
	s := newSession(srv, nil)
	defer s.cancel()
	if err := srv.hub.add("u.1", s); err == nil {
		t.Errorf("hub.add with a failing bus = nil, want an error")
	}
	if srv.hub.subscribed("u.1", s) || srv.hub.topicCount() != 0 {
		t.Errorf("after a failed add: subscribed %v, topics %d, want false, 0", srv.hub.subscribed("u.1", s), srv.hub.topicCount())
	}
}

// TestHubRefcount: many sessions joining and leaving the same topics
// concurrently end with one bus subscription per topic in use, and none
// when all have left.
func TestHubRefcount(t *testing.T) {
	b := bus.NewLocal()
	srv := New(nil, b, Config{}, nil, nil)
	sessions := make([]*session, 50)
	for i := range sessions {
		sessions[i] = newSession(srv, nil)
		defer sessions[i].cancel()
	}
	topics := []string{"g.1", "g.2", "g.3"}
	var wg sync.WaitGroup
	for _, s := range sessions {
		wg.Go(func() {
			for range 20 {
				for _, name := range topics {
					if err := srv.hub.add(name, s); err != nil {
						t.Errorf("hub.add(%s) = %v", name, err)
					}
				}
				srv.hub.remove("g.2", s)
			}
		})
	}
	wg.Wait()
	if got := b.Topics(); got != 2 {
		t.Errorf("bus topics with sessions on g.1 and g.3 = %d, want 2", got)
	}
	// One event reaches each session once.
	b.Publish(context.Background(), "g.1", chat.Event{Kind: chat.EventGroup, Group: &chat.GroupEvent{Group: 1, Op: chat.GroupOpSetAdmin}})
	for i, s := range sessions {
		if n := s.queue.len(); n != 1 {
			t.Errorf("session %d queue after one event = %d frames, want 1", i, n)
		}
	}
	for _, s := range sessions {
		wg.Go(func() { srv.hub.unregister(s) })
	}
	wg.Wait()
	if got, hub := b.Topics(), srv.hub.topicCount(); got != 0 || hub != 0 {
		t.Errorf("after unregister: bus topics %d, hub topics %d, want 0, 0", got, hub)
	}
}
