package bus_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"seen/internal/bus"
	"seen/internal/chat"
)

func startNATS(t *testing.T, port int) *natsserver.Server {
	t.Helper()
	s, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	return s
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func dial(t *testing.T, url, node string, onReconnect func()) *bus.NATS {
	t.Helper()
	b, err := bus.DialNATS(url, bus.NATSOptions{Node: node, OnReconnect: onReconnect}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func collect(t *testing.T, b chat.Bus, topic string) (<-chan chat.Event, func()) {
	t.Helper()
	ch := make(chan chat.Event, 100)
	cancel, err := b.Subscribe(topic, func(ev chat.Event) { ch <- ev })
	if err != nil {
		t.Fatal(err)
	}
	return ch, cancel
}

func recv(t *testing.T, ch <-chan chat.Event, what string) chat.Event {
	t.Helper()
	select {
	case ev := <-ch:
		return ev
	case <-time.After(5 * time.Second):
		t.Fatalf("no event: %s", what)
		return chat.Event{}
	}
}

// empty fails the test if ch holds an event. The caller has made sure
// that an event that was going to come would be there: it has received
// a later one, or the bus delivers synchronously.
func empty(t *testing.T, ch <-chan chat.Event, what string) {
	t.Helper()
	select {
	case ev := <-ch:
		t.Errorf("%s: unexpected event %+v", what, ev)
	default:
	}
}

// marker is an event that only fences others in tests.
func marker(seq int64) chat.Event {
	return chat.Event{Kind: chat.EventConvRead, ConvRead: &chat.ConvReadEvent{Seq: seq}}
}

// isMarker reports whether ev is marker(seq).
func isMarker(ev chat.Event, seq int64) bool {
	return ev.Kind == chat.EventConvRead && ev.ConvRead.Seq == seq
}

// waitChanged waits until ok holds, checking again at each change the
// bus reports (the connection, a heartbeat heard or sent).
func waitChanged(t *testing.T, b *bus.NATS, what string, ok func() bool) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		changed := b.Changed()
		if ok() {
			return
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("not within 10s: %s", what)
		}
	}
}

// waitPeers waits until ok holds for b.Peers.
func waitPeers(t *testing.T, b *bus.NATS, what string, ok func([]bus.Peer) bool) {
	t.Helper()
	var last []bus.Peer
	defer func() {
		if t.Failed() {
			t.Logf("%s: last Peers() = %+v", what, last)
		}
	}()
	waitChanged(t, b, what, func() bool {
		last = b.Peers(time.Second)
		return ok(last)
	})
}

func TestLocalBus(t *testing.T) {
	b := bus.NewLocal()
	ch, cancel := collect(t, b, "u.1")
	other, cancelOther := collect(t, b, "u.2")
	defer cancelOther()
	b.Publish(context.Background(), "u.1", chat.Event{Kind: chat.EventMessage, Message: &chat.Message{Text: "x"}})
	if ev := recv(t, ch, "u.1"); ev.Message.Text != "x" {
		t.Errorf("event = %+v", ev)
	}
	empty(t, other, "other topic") // Local delivers before Publish returns
	cancel()
	cancel() // idempotent
	b.Publish(context.Background(), "u.1", chat.Event{Kind: chat.EventMessage, Message: &chat.Message{}})
	empty(t, ch, "after cancel")
	if n := b.Topics(); n != 1 {
		t.Errorf("Topics() = %d, want 1", n)
	}
}

func TestNATSBusAcrossNodes(t *testing.T) {
	srv := startNATS(t, -1)
	defer srv.Shutdown()
	a := dial(t, srv.ClientURL(), "a", nil)
	b := dial(t, srv.ClientURL(), "b", nil)

	onA, cancelA := collect(t, a, "g.9")
	defer cancelA()
	onB, cancelB := collect(t, b, "g.9")
	onB2, cancelB2 := collect(t, b, "g.9")
	ev := chat.Event{Kind: chat.EventReceipt, Receipt: &chat.ReceiptPush{Msg: 12345678901234567, Count: 7, Reader: "bob"}}
	if err := a.Publish(context.Background(), "g.9", ev); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []<-chan chat.Event{onA, onB, onB2} {
		got := recv(t, ch, "receipt")
		if got.Kind != chat.EventReceipt || got.Receipt.Msg != 12345678901234567 || got.Receipt.Count != 7 || got.Receipt.Reader != "bob" {
			t.Errorf("received %+v, want the receipt push", got.Receipt)
		}
	}
	// Node b has the event, so NATS had it before b's marker: were a's own
	// event to come back to a, it would come before the marker.
	if err := b.Publish(context.Background(), "g.9", marker(1)); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, onA, "b's marker"); !isMarker(got, 1) {
		t.Errorf("a received %+v before b's marker: its own event twice", got)
	}
	for _, ch := range []<-chan chat.Event{onB, onB2} {
		recv(t, ch, "b's marker, locally")
	}

	// Once b's subscribers cancel, a new one (a fresh NATS subscription)
	// receives what a publishes and the old ones do not. The second
	// event fences the first: b delivered ev to everyone subscribed
	// before it delivered the marker.
	cancelB()
	cancelB2()
	onB3, cancelB3 := collect(t, b, "g.9")
	defer cancelB3()
	for _, e := range []chat.Event{ev, marker(2)} {
		if err := a.Publish(context.Background(), "g.9", e); err != nil {
			t.Fatal(err)
		}
		recv(t, onA, "still on a")
	}
	recv(t, onB3, "the event on b's new subscription")
	if got := recv(t, onB3, "the marker on b's new subscription"); !isMarker(got, 2) {
		t.Errorf("b's new subscription received %+v, want the marker", got)
	}
	empty(t, onB, "b's first subscriber cancelled")
	empty(t, onB2, "b's second subscriber cancelled")
}

func TestNATSOutageKeepsLocalDelivery(t *testing.T) {
	srv := startNATS(t, -1)
	opts := srv.ClientURL()
	reconnected := make(chan string, 4)
	a := dial(t, opts, "a", func() { reconnected <- "a" })
	b := dial(t, opts, "b", func() { reconnected <- "b" })
	onA, cancelA := collect(t, a, "u.1")
	defer cancelA()
	onB, cancelB := collect(t, b, "u.1")
	defer cancelB()

	addr := srv.Addr().String()
	srv.Shutdown()
	srv.WaitForShutdown()
	waitChanged(t, a, "a notices the outage", func() bool { return !a.Connected() })
	// NATS is gone: node a still serves its own sessions.
	a.Publish(context.Background(), "u.1", chat.Event{Kind: chat.EventConvRead, ConvRead: &chat.ConvReadEvent{Seq: 1}})
	if ev := recv(t, onA, "local delivery during outage"); ev.ConvRead.Seq != 1 {
		t.Errorf("event = %+v", ev)
	}
	// NATS returns on the same port: both reconnect and traffic flows.
	_, portStr, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portStr)
	srv2 := startNATS(t, port)
	defer srv2.Shutdown()
	// OnReconnect runs once the server has the node's subscriptions back.
	for range 2 {
		select {
		case <-reconnected:
		case <-time.After(10 * time.Second):
			t.Fatal("the nodes did not both reconnect")
		}
	}
	if err := a.Publish(context.Background(), "u.1", marker(2)); err != nil {
		t.Fatal(err)
	}
	// What a published during the outage was buffered by its client and
	// may arrive too, first.
	for ev := recv(t, onB, "node b after NATS came back"); !isMarker(ev, 2); ev = recv(t, onB, "node b after NATS came back") {
		if !isMarker(ev, 1) {
			t.Fatalf("node b received %+v after NATS came back, want the events of node a", ev)
		}
	}
	if !a.Connected() || !b.Connected() {
		t.Errorf("Connected() = %v, %v after the reconnect, want true", a.Connected(), b.Connected())
	}
}

func TestNATSPresence(t *testing.T) {
	srv := startNATS(t, -1)
	defer srv.Shutdown()
	a := dial(t, srv.ClientURL(), "a", nil)
	b := dial(t, srv.ClientURL(), "b", nil)
	if err := a.StartPresence(20*time.Millisecond, func() int { return 3 }); err != nil {
		t.Fatal(err)
	}
	if err := b.StartPresence(20*time.Millisecond, func() int { return 5 }); err != nil {
		t.Fatal(err)
	}
	waitPeers(t, a, "want a:3 and b:5", func(ps []bus.Peer) bool {
		return len(ps) == 2 && ps[0].Node == "a" && ps[0].Sessions == 3 && ps[1].Node == "b" && ps[1].Sessions == 5
	})
}

func TestNATSPeerLost(t *testing.T) {
	srv := startNATS(t, -1)
	defer srv.Shutdown()
	lost := make(chan string, 4)
	a, err := bus.DialNATS(srv.ClientURL(), bus.NATSOptions{Node: "a", OnPeerLost: func(n string) { lost <- n }}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := bus.DialNATS(srv.ClientURL(), bus.NATSOptions{Node: "b"}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.StartPresence(20*time.Millisecond, func() int { return 0 }); err != nil {
		t.Fatal(err)
	}
	if err := b.StartPresence(20*time.Millisecond, func() int { return 0 }); err != nil {
		t.Fatal(err)
	}
	waitPeers(t, a, "a never heard of b", func(ps []bus.Peer) bool { return len(ps) == 2 })
	b.Close() // b dies
	select {
	case n := <-lost:
		if n != "b" {
			t.Errorf("lost peer = %q, want b", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a did not notice that b was gone")
	}
}
