package hub

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"seen/internal/bus"
	"seen/internal/chat"
)

// codec is a test Codec that counts its encodings and encodes an event
// as "<name>:<kind>". An event of kind "bad" fails to encode; one of kind
// "skip" is not pushed.
type codec struct {
	name string
	n    atomic.Int32
}

func (c *codec) Encode(ev chat.Event) (Frame, bool, error) {
	c.n.Add(1)
	switch ev.Kind {
	case "bad":
		return Frame{}, false, errors.New("cannot encode")
	case "skip":
		return Frame{}, false, nil
	}
	return Frame{Kind: string(ev.Kind), Data: []byte(c.name + ":" + string(ev.Kind))}, true, nil
}

// sub is a fake session: it records what it is delivered.
type sub struct {
	codec   Codec
	closing atomic.Bool
	adding  chan struct{} // if set, Closing sends on it (Add and Follow call it under Hub.mu)

	mu     sync.Mutex
	frames []string
}

func newSub(c Codec) *sub { return &sub{codec: c} }

func (s *sub) Deliver(_ chat.Event, f Frame) {
	s.mu.Lock()
	s.frames = append(s.frames, string(f.Data))
	s.mu.Unlock()
}

func (s *sub) Codec() Codec { return s.codec }
func (s *sub) Closing() bool {
	if s.adding != nil {
		s.adding <- struct{}{}
	}
	return s.closing.Load()
}

// got returns the frames delivered so far.
func (s *sub) got() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.frames)
}

func publish(t *testing.T, b chat.Bus, topic string, ev chat.Event) {
	t.Helper()
	if err := b.Publish(context.Background(), topic, ev); err != nil {
		t.Fatalf("publish to %s: %v", topic, err)
	}
}

type failingBus struct{ chat.Bus }

func (failingBus) Subscribe(string, func(chat.Event)) (func(), error) {
	return nil, errors.New("bus down")
}

// TestSubscribeFails: when the bus refuses the subscription, Add says so
// to the subscriber that made it and to one waiting for it, and the hub
// keeps nothing.
func TestSubscribeFails(t *testing.T) {
	h := New(failingBus{}, nil)
	s := newSub(&codec{})
	if err := h.Add("u.1", s); err == nil {
		t.Errorf("Add with a failing bus = nil, want an error")
	}
	if h.Subscribed("u.1", s) || h.Topics() != 0 || len(h.members) != 0 {
		t.Errorf("after a failed Add: subscribed %v, topics %d, members %d, want false, 0, 0", h.Subscribed("u.1", s), h.Topics(), len(h.members))
	}
}

// blockingBus is a bus.Local whose first Subscribe tells entered that it
// was called and waits for release; every Subscribe fails with err.
type blockingBus struct {
	*bus.Local
	err     error
	calls   atomic.Int32
	entered chan struct{}
	release chan struct{}
}

func (b *blockingBus) Subscribe(topic string, fn func(chat.Event)) (func(), error) {
	if b.calls.Add(1) == 1 {
		b.entered <- struct{}{}
		<-b.release
	}
	if b.err != nil {
		return nil, b.err
	}
	return b.Local.Subscribe(topic, fn)
}

// TestSubscribeWaits: a second subscriber of a topic being subscribed
// waits for the subscription and gets its error, without subscribing
// again; a topic every subscriber left while it was being subscribed is
// cancelled once the subscription is made.
func TestSubscribeWaits(t *testing.T) {
	for _, tc := range []struct {
		name  string
		err   error
		leave bool // both subscribers leave before the subscription is made
	}{
		{"ok", nil, false},
		{"fails", errors.New("bus down"), false},
		{"dropped", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &blockingBus{Local: bus.NewLocal(), err: tc.err, entered: make(chan struct{}), release: make(chan struct{})}
			h := New(b, nil)
			s1, s2 := newSub(&codec{}), newSub(&codec{})
			s2.adding = make(chan struct{})
			errs := make(chan error, 2)
			go func() { errs <- h.Add("g.1", s1) }()
			<-b.entered
			go func() { errs <- h.Add("g.1", s2) }()
			<-s2.adding // s2's Add holds Hub.mu ...
			h.Topics()  // ... and has released it: s2 is in the topic
			if !h.Subscribed("g.1", s2) {
				t.Fatalf("second subscriber not in the topic while it is being subscribed")
			}
			if tc.leave {
				h.Remove("g.1", s1)
				h.Remove("g.1", s2)
			}
			close(b.release)
			for range 2 {
				if err := <-errs; !errors.Is(err, tc.err) {
					t.Errorf("Add = %v, want %v", err, tc.err)
				}
			}
			if n := b.calls.Load(); n != 1 {
				t.Errorf("bus subscriptions for two subscribers = %d, want 1", n)
			}
			want := 1
			if tc.err != nil || tc.leave {
				want = 0
			}
			if got := b.Topics(); got != want {
				t.Errorf("bus topics = %d, want %d", got, want)
			}
			if got := h.Topics(); got != want {
				t.Errorf("hub topics = %d, want %d", got, want)
			}
			if got := h.Subscribed("g.1", s2); got != (want == 1) {
				t.Errorf("second subscriber subscribed = %v, want %v", got, want == 1)
			}
		})
	}
}

// TestRefcount: many subscribers joining and leaving the same topics
// concurrently end with one bus subscription per topic in use, and none
// when all have left.
func TestRefcount(t *testing.T) {
	b := bus.NewLocal()
	h := New(b, nil)
	c := &codec{name: "c"}
	subs := make([]*sub, 50)
	for i := range subs {
		subs[i] = newSub(c)
	}
	topics := []string{"g.1", "g.2", "g.3"}
	var wg sync.WaitGroup
	for _, s := range subs {
		wg.Go(func() {
			for range 20 {
				for _, name := range topics {
					if err := h.Add(name, s); err != nil {
						t.Errorf("Add(%s) = %v", name, err)
					}
				}
				h.Remove("g.2", s)
			}
		})
	}
	wg.Wait()
	if got := b.Topics(); got != 2 {
		t.Errorf("bus topics with subscribers on g.1 and g.3 = %d, want 2", got)
	}
	// One event reaches each subscriber once, encoded once.
	publish(t, b, "g.1", chat.Event{Kind: chat.EventMessage})
	for i, s := range subs {
		if got := s.got(); !slices.Equal(got, []string{"c:msg"}) {
			t.Errorf("subscriber %d got %q after one event, want [c:msg]", i, got)
		}
	}
	if n := c.n.Load(); n != 1 {
		t.Errorf("encodings of one event for 50 subscribers = %d, want 1", n)
	}
	for _, s := range subs {
		wg.Go(func() { h.Unregister(s) })
	}
	wg.Wait()
	if got, hub := b.Topics(), h.Topics(); got != 0 || hub != 0 || len(h.members) != 0 {
		t.Errorf("after Unregister: bus topics %d, hub topics %d, members %d, want 0, 0, 0", got, hub, len(h.members))
	}
}

// TestFanOut: an event reaches the subscribers of its topic only, in
// their codec's encoding, encoded once per codec; one that fails to
// encode for a codec still reaches the others.
func TestFanOut(t *testing.T) {
	b := bus.NewLocal()
	h := New(b, nil)
	ca, cb := &codec{name: "a"}, &codec{name: "b"}
	a1, a2, b1, other := newSub(ca), newSub(ca), newSub(cb), newSub(ca)
	for _, s := range []*sub{a1, a2, b1} {
		if err := h.Add("g.1", s); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Add("g.2", other); err != nil {
		t.Fatal(err)
	}
	publish(t, b, "g.1", chat.Event{Kind: chat.EventMessage})
	publish(t, b, "g.1", chat.Event{Kind: "skip"})
	publish(t, b, "g.1", chat.Event{Kind: chat.EventReceipt})
	for _, tc := range []struct {
		name string
		s    *sub
		want []string
	}{
		{"a1", a1, []string{"a:msg", "a:receipt"}},
		{"a2", a2, []string{"a:msg", "a:receipt"}},
		{"b1", b1, []string{"b:msg", "b:receipt"}},
		{"other topic", other, nil},
	} {
		if got := tc.s.got(); !slices.Equal(got, tc.want) {
			t.Errorf("%s got %q, want %q", tc.name, got, tc.want)
		}
	}
	if na, nb := ca.n.Load(), cb.n.Load(); na != 3 || nb != 3 {
		t.Errorf("encodings of 3 events: codec a %d, codec b %d, want 3, 3", na, nb)
	}

	// An event that one codec fails to encode reaches the others.
	f1, a3 := newSub(&failCodec{fail: "x"}), newSub(ca)
	for _, s := range []*sub{f1, a3} {
		if err := h.Add("g.3", s); err != nil {
			t.Fatal(err)
		}
	}
	publish(t, b, "g.3", chat.Event{Kind: "x"})
	publish(t, b, "g.3", chat.Event{Kind: "y"})
	if got, want := f1.got(), []string{"y"}; !slices.Equal(got, want) {
		t.Errorf("subscriber of the failing codec got %q, want %q", got, want)
	}
	if got, want := a3.got(), []string{"a:x", "a:y"}; !slices.Equal(got, want) {
		t.Errorf("subscriber of the other codec got %q, want %q", got, want)
	}
}

// failCodec fails to encode events of kind fail and encodes the others
// as their kind.
type failCodec struct{ fail chat.EventKind }

func (c *failCodec) Encode(ev chat.Event) (Frame, bool, error) {
	if ev.Kind == c.fail {
		return Frame{}, false, fmt.Errorf("cannot encode %s", ev.Kind)
	}
	return Frame{Data: []byte(ev.Kind)}, true, nil
}

// TestClosing: a closing subscriber is not subscribed, so that nothing
// outlives its Unregister.
func TestClosing(t *testing.T) {
	b := bus.NewLocal()
	h := New(b, nil)
	s := newSub(&codec{})
	s.closing.Store(true)
	if err := h.Add("g.1", s); err != nil {
		t.Fatalf("Add of a closing subscriber = %v, want nil", err)
	}
	if err := h.Follow(context.Background(), s, chat.Actor{User: 1}, groups{}); err != nil {
		t.Fatalf("Follow of a closing subscriber = %v, want nil", err)
	}
	if b.Topics() != 0 || h.Topics() != 0 || len(h.members) != 0 {
		t.Errorf("after a closing subscriber's Add and Follow: bus topics %d, hub topics %d, members %d, want 0, 0, 0", b.Topics(), h.Topics(), len(h.members))
	}
}

// groups is a fake Groups: the user's groups, served in pages of two.
type groups map[chat.UserID][]chat.GroupID

func (g groups) MyGroups(_ context.Context, actor chat.Actor, cursor string, _ int) (chat.GroupPage, error) {
	ids := g[actor.User]
	start := 0
	if cursor != "" {
		fmt.Sscan(cursor, &start)
	}
	end := min(start+2, len(ids))
	var p chat.GroupPage
	for _, id := range ids[start:end] {
		p.Groups = append(p.Groups, chat.Group{ID: id})
	}
	if end < len(ids) {
		p.Next = fmt.Sprint(end)
	}
	return p, nil
}

type errGroups struct{}

func (errGroups) MyGroups(context.Context, chat.Actor, string, int) (chat.GroupPage, error) {
	return chat.GroupPage{}, errors.New("store down")
}

func groupEvent(g chat.GroupID, op string, users ...chat.UserID) chat.Event {
	return chat.Event{Kind: chat.EventGroup, Group: &chat.GroupEvent{Group: g, Op: op, UserIDs: users}}
}

// TestFollow: Follow subscribes the user topic and every group's (over
// several pages), then follows the group events for the user: joins,
// leaves, removals and destroys, whichever topic they arrive on, and
// only for the user they name.
func TestFollow(t *testing.T) {
	b := bus.NewLocal()
	h := New(b, nil)
	c := &codec{name: "c"}
	alice, bob := chat.Actor{User: 1, Conn: "s.1"}, chat.Actor{User: 2, Conn: "s.2"}
	gs := groups{1: {10, 11, 12}, 2: {10}}
	sa1, sa2, sb := newSub(c), newSub(c), newSub(c)
	for _, f := range []struct {
		s *sub
		a chat.Actor
	}{{sa1, alice}, {sa2, alice}, {sb, bob}} {
		if err := h.Follow(context.Background(), f.s, f.a, gs); err != nil {
			t.Fatalf("Follow(%d) = %v", f.a.User, err)
		}
	}
	// A plain subscriber of the group topic follows no one.
	plain := newSub(c)
	if err := h.Add("g.11", plain); err != nil {
		t.Fatal(err)
	}
	check := func(when string, s *sub, want ...string) {
		t.Helper()
		var got []string
		for _, name := range []string{"u.1", "u.2", "g.10", "g.11", "g.12", "g.13", "g.15"} {
			if h.Subscribed(name, s) {
				got = append(got, name)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: subscribed to %q, want %q", when, got, want)
		}
	}
	check("alice after Follow", sa1, "u.1", "g.10", "g.11", "g.12")
	check("bob after Follow", sb, "u.2", "g.10")

	// Bob is added to group 13 (announced on his user topic); alice is
	// not concerned.
	publish(t, b, "u.2", groupEvent(13, chat.GroupOpInvited, 2))
	check("bob invited to 13", sb, "u.2", "g.10", "g.13")
	// Alice creates group 13 with bob: on her user topic, and on the
	// group's topic, which bob's session is in: bob's is unchanged.
	publish(t, b, "g.13", groupEvent(13, chat.GroupOpCreate, 1, 2))
	check("create on the group topic: bob", sb, "u.2", "g.10", "g.13")
	publish(t, b, "u.1", groupEvent(13, chat.GroupOpCreate, 1, 2))
	check("alice creates 13: alice's first session", sa1, "u.1", "g.10", "g.11", "g.12", "g.13")
	check("alice creates 13: alice's second session", sa2, "u.1", "g.10", "g.11", "g.12", "g.13")
	// An event naming someone else changes nothing.
	publish(t, b, "g.10", groupEvent(15, chat.GroupOpInvited, 2))
	check("bob invited to 15: alice", sa1, "u.1", "g.10", "g.11", "g.12", "g.13")
	check("bob invited to 15: bob", sb, "u.2", "g.10", "g.13", "g.15")
	h.Remove("g.15", sb)
	publish(t, b, "g.10", groupEvent(10, chat.GroupOpRemoved, 3))
	check("someone else removed from 10: bob", sb, "u.2", "g.10", "g.13")
	// Bob is removed from 10: on the group topic, which he hears before
	// leaving it.
	publish(t, b, "g.10", groupEvent(10, chat.GroupOpRemoved, 2))
	check("bob removed from 10", sb, "u.2", "g.13")
	check("bob removed from 10: alice", sa1, "u.1", "g.10", "g.11", "g.12", "g.13")
	// Alice leaves 12.
	publish(t, b, "g.12", groupEvent(12, chat.GroupOpMemberGone, 1))
	check("alice left 12", sa1, "u.1", "g.10", "g.11", "g.13")
	// Group 11 is destroyed: everyone leaves its topic, the plain
	// subscriber too? No: it follows nobody, so it stays.
	publish(t, b, "g.11", groupEvent(11, chat.GroupOpDestroy))
	check("11 destroyed", sa2, "u.1", "g.10", "g.13")
	if !h.Subscribed("g.11", plain) {
		t.Errorf("plain subscriber after destroy of 11: not subscribed, want subscribed (it follows no one)")
	}
	// Every event was delivered before the change it implied: bob got
	// the removal from 10, alice the destroy of 11.
	if got := sb.got(); !slices.Contains(got, "c:group") || len(got) != 5 {
		t.Errorf("bob's frames = %q, want the 5 group events on his topics", got)
	}

	for _, s := range []*sub{sa1, sa2, sb, plain} {
		h.Unregister(s)
	}
	if b.Topics() != 0 || h.Topics() != 0 || len(h.members) != 0 {
		t.Errorf("after Unregister: bus topics %d, hub topics %d, members %d, want 0, 0, 0", b.Topics(), h.Topics(), len(h.members))
	}
	// A group event after Unregister re-subscribes nobody.
	publish(t, b, "u.1", groupEvent(14, chat.GroupOpInvited, 1))
	if b.Topics() != 0 {
		t.Errorf("bus topics after a late event = %d, want 0", b.Topics())
	}
}

// TestFollowFails: Follow returns the errors of the bus and of the group
// listing.
func TestFollowFails(t *testing.T) {
	if err := New(failingBus{}, nil).Follow(context.Background(), newSub(&codec{}), chat.Actor{User: 1}, groups{}); err == nil {
		t.Errorf("Follow with a failing bus = nil, want an error")
	}
	h := New(bus.NewLocal(), nil)
	if err := h.Follow(context.Background(), newSub(&codec{}), chat.Actor{User: 1}, errGroups{}); err == nil {
		t.Errorf("Follow with a failing group list = nil, want an error")
	}
	// A follow-up subscription that fails is logged, not fatal: the
	// subscriber stays on its other topics.
	fb := &flakyBus{Local: bus.NewLocal()}
	h = New(fb, nil)
	s := newSub(&codec{})
	if err := h.Follow(context.Background(), s, chat.Actor{User: 1}, groups{}); err != nil {
		t.Fatal(err)
	}
	fb.fail.Store(true)
	publish(t, fb, "u.1", groupEvent(5, chat.GroupOpInvited, 1))
	if h.Subscribed("g.5", s) || !h.Subscribed("u.1", s) {
		t.Errorf("after a failed follow-up: g.5 %v, u.1 %v, want false, true", h.Subscribed("g.5", s), h.Subscribed("u.1", s))
	}
}

// flakyBus is a bus.Local whose Subscribe fails once fail is set.
type flakyBus struct {
	*bus.Local
	fail atomic.Bool
}

func (b *flakyBus) Subscribe(topic string, fn func(chat.Event)) (func(), error) {
	if b.fail.Load() {
		return nil, errors.New("bus down")
	}
	return b.Local.Subscribe(topic, fn)
}

// TestBudget: the sessions of one user share one budget, other users
// have their own, and it is dropped with the user's last session.
func TestBudget(t *testing.T) {
	h := New(bus.NewLocal(), nil)
	now := time.Unix(1000, 0)
	u1a := h.AddUser(1, 1, 3)
	u1b := h.AddUser(1, 100, 100) // the first session's rate and burst hold
	u2 := h.AddUser(2, 1, 3)
	allowed := 0
	for i := range 10 {
		b := u1a
		if i%2 == 1 {
			b = u1b
		}
		if b.Allow(now) {
			allowed++
		}
	}
	if allowed != 3 {
		t.Errorf("requests allowed from two sessions of one user with burst 3 = %d, want 3", allowed)
	}
	if !u2.Allow(now) {
		t.Errorf("another user's first request refused, want allowed")
	}
	// One token per second comes back.
	if !u1b.Allow(now.Add(time.Second)) || u1a.Allow(now.Add(time.Second)) {
		t.Errorf("after 1s at 1/s: want one request allowed, then refused")
	}
	h.RemoveUser(1, u1a)
	if got := h.AddUser(1, 1, 3); got != u1b {
		t.Errorf("AddUser while a session holds the budget returned a new budget, want the shared one")
	} else {
		h.RemoveUser(1, got)
	}
	h.RemoveUser(1, u1b)
	fresh := h.AddUser(1, 1, 3)
	if fresh == u1a || !fresh.Allow(now.Add(time.Second)) {
		t.Errorf("AddUser after the user's last session left: want a fresh, full budget")
	}
	h.RemoveUser(1, fresh)
	h.RemoveUser(2, u2)
	if len(h.users) != 0 {
		t.Errorf("budgets after every session left = %d, want 0", len(h.users))
	}
}

// TestBucket: a bucket starts full, refills at its rate, and never holds
// more than its burst.
func TestBucket(t *testing.T) {
	now := time.Unix(1000, 0)
	b := NewBucket(2, 4)
	for i := range 4 {
		if !b.Allow(now) {
			t.Fatalf("request %d of a full bucket of 4 refused", i+1)
		}
	}
	if b.Allow(now) {
		t.Errorf("5th request at once allowed, want refused")
	}
	now = now.Add(time.Second) // 2 tokens
	if n := drain(&b, now); n != 2 {
		t.Errorf("after 1s at 2/s: %d allowed, want 2", n)
	}
	now = now.Add(time.Hour) // full: 4, not 7200
	if n := drain(&b, now); n != 4 {
		t.Errorf("after an hour: %d allowed, want the burst, 4", n)
	}
}

// drain returns how many requests b allows at now.
func drain(b *Bucket, now time.Time) int {
	n := 0
	for b.Allow(now) {
		n++
	}
	return n
}
