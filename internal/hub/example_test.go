package hub_test

import (
	"context"
	"fmt"
	"time"

	"seen/internal/bus"
	"seen/internal/chat"
	"seen/internal/hub"
)

// textCodec is a transport's encoding: here, the event kind as text.
type textCodec struct{}

func (textCodec) Encode(ev chat.Event) (hub.Frame, bool, error) {
	return hub.Frame{Kind: string(ev.Kind), Data: []byte("push " + string(ev.Kind))}, true, nil
}

// session is a transport's session. A real one copies the frame into its
// bounded send queue in Deliver, and closes itself when the queue is
// full.
type session struct {
	queue   chan []byte
	closing chan struct{}
	budget  *hub.Budget
}

func (s *session) Deliver(_ chat.Event, f hub.Frame) {
	select {
	case s.queue <- f.Data:
	default: // full: a real session closes as a slow consumer
	}
}

func (s *session) Codec() hub.Codec { return textCodec{} }

func (s *session) Closing() bool {
	select {
	case <-s.closing:
		return true
	default:
		return false
	}
}

// noGroups is the user's group list: *chat.Service in a server.
type noGroups struct{}

func (noGroups) MyGroups(context.Context, chat.Actor, string, int) (chat.GroupPage, error) {
	return chat.GroupPage{}, nil
}

func Example() {
	b := bus.NewLocal()
	h := hub.New(b, nil)
	actor := chat.Actor{User: 7, Conn: "conn-1"}

	// Login.
	s := &session{queue: make(chan []byte, 16), closing: make(chan struct{})}
	s.budget = h.AddUser(actor.User, 50, 100)
	if err := h.Follow(context.Background(), s, actor, noGroups{}); err != nil {
		fmt.Println("close the session:", err)
		return
	}

	// A request spends the user's budget, shared by all the user's
	// sessions on the node.
	fmt.Println("request allowed:", s.budget.Allow(time.Now()))

	// The user is added to group 3: the session follows it.
	b.Publish(context.Background(), chat.UserTopic(actor.User), chat.Event{
		Kind: chat.EventGroup, Group: &chat.GroupEvent{Group: 3, Op: chat.GroupOpInvited, UserIDs: []chat.UserID{actor.User}},
	})
	b.Publish(context.Background(), chat.GroupTopic(3), chat.Event{Kind: chat.EventMessage})
	fmt.Println(string(<-s.queue))
	fmt.Println(string(<-s.queue))

	// Teardown.
	close(s.closing)
	h.Unregister(s)
	h.RemoveUser(actor.User, s.budget)
	fmt.Println("bus topics:", b.Topics())
	// Output:
	// request allowed: true
	// push group
	// push msg
	// bus topics: 0
}
