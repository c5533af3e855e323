package ws

import (
	"errors"
	"testing"
	"time"

	"seen/client"
	"seen/internal/chat"
	"seen/internal/hub"
)

type failingBus struct{ chat.Bus }

func (failingBus) Subscribe(string, func(chat.Event)) (func(), error) {
	return nil, errors.New("bus down")
}

// TestAuthSubscribeFails: a session whose topics cannot be subscribed to
// at login closes with 1011, without its auth reply (it would get no
// events), and leaves nothing in the hub.
func TestAuthSubscribeFails(t *testing.T) {
	st := newStack(t, Config{})
	st.users(t, "alice")
	st.srv.hub = hub.New(failingBus{st.bus}, nil)
	f := st.fake(t)
	f.send(t, `{"id":"a","op":"auth","data":{"token":"`+st.token(t, "alice")+`","device":"d1","version":1}}`)
	if code, reason := f.closedWith(t); code != closeInternal || reason != "internal error" {
		t.Errorf("close = %d %q, want %d internal error", code, reason, closeInternal)
	}
	if b := f.next(t); b != nil {
		t.Errorf("frame written before the close: %s, want none", b)
	}
	st.ended.waitFor(t, "session ended", 1)
	if n := st.srv.hub.Topics(); n != 0 {
		t.Errorf("hub topics after the failed login = %d, want 0", n)
	}
}

// otherCodec and otherSession stand for another transport's sessions on
// the same hub (internal/msync).
type otherCodec struct{}

func (otherCodec) Encode(ev chat.Event) (hub.Frame, bool, error) {
	return hub.Frame{Kind: "other." + string(ev.Kind)}, true, nil
}

type otherSession struct{ events chan chat.Event }

func (o *otherSession) Deliver(ev chat.Event, f hub.Frame) {
	if f.Kind != "other."+string(ev.Kind) {
		panic("delivered another codec's frame: " + f.Kind)
	}
	select {
	case o.events <- ev:
	default:
	}
}
func (o *otherSession) Codec() hub.Codec { return otherCodec{} }
func (o *otherSession) Closing() bool    { return false }

// next waits for the next event of kind.
func (o *otherSession) next(t *testing.T, kind chat.EventKind) chat.Event {
	t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case ev := <-o.events:
			if ev.Kind == kind {
				return ev
			}
		case <-timeout:
			t.Fatalf("other transport: no %s event", kind)
		}
	}
}

// TestSharedHub: a session of another transport on the server's hub
// shares the ws sessions' bus subscriptions and user budget, follows the
// user's groups as they do, and gets the same events in its own codec.
func TestSharedHub(t *testing.T) {
	st := newStack(t, Config{})
	st.users(t, "alice", "bob")
	ctx := ctxT(t)
	alice := st.dial(t, "alice", "a1")
	bob := st.dial(t, "bob", "b1")
	sess := st.sessionsOf("alice")[0]
	topics := st.bus.Topics()

	h := st.srv.Hub()
	other := &otherSession{events: make(chan chat.Event, 64)}
	me := chat.Actor{User: sess.actor.User, Name: "alice", Conn: "other.1"}
	if err := h.Follow(ctx, other, me, st.svc); err != nil {
		t.Fatalf("Follow = %v", err)
	}
	defer h.Unregister(other)
	if n := st.bus.Topics(); n != topics {
		t.Errorf("bus topics after a second transport's session of alice = %d, want %d (shared)", n, topics)
	}
	budget := h.AddUser(me.User, 1, 1)
	defer h.RemoveUser(me.User, budget)
	if budget != sess.user {
		t.Errorf("the other transport's budget for alice is not the ws session's, want one per user")
	}

	g, err := bob.CreateGroup(ctx, client.GroupCreate{Name: "team", Members: []string{"alice"}})
	if err != nil {
		t.Fatal(err)
	}
	waitPush(t, alice, client.PushGroup, nil)
	if ev := other.next(t, chat.EventGroup); ev.Group.Op != chat.GroupOpInvited {
		t.Errorf("other transport: group event %q, want %q", ev.Group.Op, chat.GroupOpInvited)
	}
	id, err := chat.ParseGroupID(g.GroupID)
	if err != nil {
		t.Fatal(err)
	}
	if !h.Subscribed(chat.GroupTopic(id), other) {
		t.Fatalf("other transport's session not on the new group's topic")
	}
	if _, err := bob.SendText(ctx, client.GroupChat, g.GroupID, "hi"); err != nil {
		t.Fatal(err)
	}
	waitPush(t, alice, client.PushMsg, nil)
	if ev := other.next(t, chat.EventMessage); ev.Message.Text != "hi" {
		t.Errorf("other transport: message %q, want hi", ev.Message.Text)
	}
	if n := st.bus.Topics(); n != topics+1 {
		t.Errorf("bus topics with one group = %d, want %d (one per topic per node)", n, topics+1)
	}
}
