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

func none(t *testing.T, ch <-chan chat.Event, what string) {
	t.Helper()
	// NATS delivers in order per publisher: a marker published after the
	// event under test would arrive after it. A short wait suffices here
	// because the expected count is zero and a duplicate would already be
	// queued behind the first delivery.
	select {
	case ev := <-ch:
		t.Errorf("%s: unexpected event %+v", what, ev)
	case <-time.After(100 * time.Millisecond):
	}
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
	none(t, other, "other topic")
	cancel()
	cancel() // idempotent
	b.Publish(context.Background(), "u.1", chat.Event{Kind: chat.EventMessage, Message: &chat.Message{}})
	none(t, ch, "after cancel")
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
	none(t, onA, "publisher's own node gets it once")
	cancelB()
	cancelB2()
	if err := a.Publish(context.Background(), "g.9", ev); err != nil {
		t.Fatal(err)
	}
	recv(t, onA, "still on a")
	none(t, onB, "b unsubscribed")
}

func TestNATSOutageKeepsLocalDelivery(t *testing.T) {
	srv := startNATS(t, -1)
	opts := srv.ClientURL()
	reconnected := make(chan struct{}, 4)
	a := dial(t, opts, "a", func() { reconnected <- struct{}{} })
	b := dial(t, opts, "b", nil)
	onA, cancelA := collect(t, a, "u.1")
	defer cancelA()
	onB, cancelB := collect(t, b, "u.1")
	defer cancelB()

	addr := srv.Addr().String()
	srv.Shutdown()
	srv.WaitForShutdown()
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
	select {
	case <-reconnected:
	case <-time.After(10 * time.Second):
		t.Fatal("node a did not reconnect")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		a.Publish(context.Background(), "u.1", chat.Event{Kind: chat.EventConvRead, ConvRead: &chat.ConvReadEvent{Seq: 2}})
		select {
		case ev := <-onB:
			if ev.ConvRead.Seq == 2 {
				return
			}
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("node b never received after NATS came back")
		}
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
	deadline := time.Now().Add(5 * time.Second)
	for {
		ps := a.Peers(time.Second)
		if len(ps) == 2 && ps[0].Node == "a" && ps[0].Sessions == 3 && ps[1].Node == "b" && ps[1].Sessions == 5 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Peers() = %+v, want a:3 and b:5", ps)
		}
		time.Sleep(10 * time.Millisecond)
	}
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
	deadline := time.Now().Add(5 * time.Second)
	for len(a.Peers(time.Second)) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("a never heard of b")
		}
		time.Sleep(10 * time.Millisecond)
	}
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
