package ws

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"seen/client"
	"seen/internal/chat"
	"seen/internal/protocol"
)

func TestAuth(t *testing.T) {
	st := newStack(t, Config{})
	st.users(t, "alice")
	c := st.dial(t, "alice", "web-1")
	if c.User() != "alice" || c.Device() != "web-1" {
		t.Errorf("Dial(alice, web-1) user, device = %q, %q, want alice, web-1", c.User(), c.Device())
	}
	if n := st.srv.Sessions(); n != 1 {
		t.Errorf("Sessions() = %d, want 1", n)
	}

	_, err := client.Dial(ctxT(t), st.url, "not-a-token", "web-2")
	if got := errName(err); got != "unauthorized" {
		t.Errorf("Dial(bad token) = %v, want unauthorized", err)
	}

	tests := []struct {
		name      string
		frame     string
		wantError string
		wantClose int
	}{
		{"bad token", `{"id":"1","op":"auth","data":{"token":"nope","device":"d","version":1}}`, "unauthorized", protocol.CloseAuth},
		{"bad device", `{"id":"1","op":"auth","data":{"token":"` + st.token(t, "alice") + `","device":"a b","version":1}}`, "bad_request", protocol.CloseAuth},
		{"bad version", `{"id":"1","op":"auth","data":{"token":"` + st.token(t, "alice") + `","device":"d","version":2}}`, "bad_request", protocol.CloseProtocol},
		{"unknown field", `{"id":"1","op":"auth","data":{"token":"x","device":"d","version":1,"user":"a"}}`, "bad_request", protocol.CloseAuth},
		{"not auth first", `{"id":"1","op":"ping"}`, "unauthorized", protocol.CloseAuth},
	}
	for _, tt := range tests {
		r := st.raw(t)
		r.send(tt.frame)
		rep := r.reply()
		if rep.OK || rep.Error == nil || rep.Error.Name != tt.wantError {
			t.Errorf("%s: reply = %+v, want error %s", tt.name, rep, tt.wantError)
		}
		if got := r.closed(); got != tt.wantClose {
			t.Errorf("%s: close code = %d, want %d", tt.name, got, tt.wantClose)
		}
	}
}

func TestAuthTimeout(t *testing.T) {
	st := newStack(t, Config{AuthTimeout: 50 * time.Millisecond})
	r := st.raw(t)
	if got := r.closed(); got != protocol.CloseAuth {
		t.Errorf("close code without auth = %d, want %d", got, protocol.CloseAuth)
	}
}

// TestTokenRevoked: logout closes the sessions of that token and a
// password change closes all the user's sessions, at once (the periodic
// token check is an hour away here).
func TestTokenRevoked(t *testing.T) {
	st := newStack(t, Config{TokenCheckInterval: time.Hour})
	st.users(t, "alice")
	dial := func(tok, dev string) *client.Conn {
		c, err := client.Dial(ctxT(t), st.url, tok, dev, client.WithHeartbeat(-1))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	closed := func(c *client.Conn, what string) {
		t.Helper()
		select {
		case <-c.Done():
		case <-time.After(wait):
			t.Fatalf("%s: session still open", what)
		}
		if got := client.CloseCode(c.Err()); got != protocol.CloseTokenRevoked {
			t.Errorf("%s: close code = %d (%v), want %d", what, got, c.Err(), protocol.CloseTokenRevoked)
		}
	}
	tok1, tok2 := st.token(t, "alice"), st.token(t, "alice")
	c1, c2 := dial(tok1, "d1"), dial(tok2, "d2")
	if err := st.svc.Logout(context.Background(), tok1); err != nil {
		t.Fatal(err)
	}
	closed(c1, "logout")
	if _, err := c2.Ping(ctxT(t)); err != nil {
		t.Fatalf("the other token's session = %v, want open", err)
	}
	u, err := st.svc.Authenticate(context.Background(), tok2)
	if err != nil {
		t.Fatal(err)
	}
	actor := chat.Actor{User: u.ID, Name: u.Name, Device: "d2"}
	if err := st.svc.ChangePassword(context.Background(), actor, "password", "another-password"); err != nil {
		t.Fatal(err)
	}
	closed(c2, "password change")
}

func TestBadFrames(t *testing.T) {
	st := newStack(t, Config{MaxFrameBytes: 1024})
	st.users(t, "alice")
	tests := []struct {
		name      string
		frame     string
		binary    bool
		wantError string // the error reply; the connection stays usable
		wantClose int    // or the close code
	}{
		{name: "wrong type", frame: `{"id":"1","op":"sync","data":{"ack":"x"}}`, wantError: "bad_request"},
		{name: "unknown field", frame: `{"id":"1","op":"sync","data":{"ack":0,"bogus":1}}`, wantError: "bad_request"},
		{name: "data not an object", frame: `{"id":"1","op":"sync","data":"ack"}`, wantError: "bad_request"},
		{name: "unknown envelope field", frame: `{"id":"1","op":"ping","extra":1}`, wantError: "bad_request"},
		{name: "unknown op", frame: `{"id":"1","op":"msg.sned","data":{}}`, wantError: "bad_request"},
		{name: "missing op", frame: `{"id":"1"}`, wantError: "bad_request"},
		{name: "second auth", frame: `{"id":"1","op":"auth","data":{}}`, wantError: "bad_request"},
		{name: "bad group id", frame: `{"id":"1","op":"group.info","data":{"groupId":"abc"}}`, wantError: "bad_request"},
		{name: "bad direction", frame: `{"id":"1","op":"history","data":{"chatType":"singleChat","to":"alice","direction":"up"}}`, wantError: "bad_request"},
		{name: "not json", frame: `hello`, wantClose: protocol.CloseProtocol},
		{name: "trailing data", frame: `{"id":"1","op":"ping"} {}`, wantClose: protocol.CloseProtocol},
		{name: "array", frame: `[1,2]`, wantClose: protocol.CloseProtocol},
		{name: "no id", frame: `{"op":"ping"}`, wantClose: protocol.CloseProtocol},
		{name: "long id", frame: `{"id":"` + strings.Repeat("x", 65) + `","op":"ping"}`, wantClose: protocol.CloseProtocol},
		{name: "binary", frame: `{"id":"1","op":"ping"}`, binary: true, wantClose: protocol.CloseProtocol},
		{name: "oversize", frame: `{"id":"1","op":"ping","data":{"x":"` + strings.Repeat("x", 2000) + `"}}`, wantClose: protocol.CloseProtocol},
	}
	for _, tt := range tests {
		r := st.rawAuthed(t, "alice", "d1")
		if tt.binary {
			if err := r.c.Write(ctxT(t), websocket.MessageBinary, []byte(tt.frame)); err != nil {
				t.Fatal(err)
			}
		} else {
			r.send(tt.frame)
		}
		if tt.wantClose != 0 {
			if got := r.closed(); got != tt.wantClose {
				t.Errorf("%s: close code = %d, want %d", tt.name, got, tt.wantClose)
			}
			continue
		}
		rep := r.reply()
		if rep.ID != "1" || rep.OK || rep.Error == nil || rep.Error.Name != tt.wantError || rep.Error.Code != chat.CodeBadRequest.Number() {
			t.Errorf("%s: reply = %+v %+v, want id 1 error %s", tt.name, rep, rep.Error, tt.wantError)
		}
		r.send(`{"id":"2","op":"ping"}`)
		if rep := r.reply(); rep.ID != "2" || !rep.OK {
			t.Errorf("%s: ping after the bad frame = %+v, want ok", tt.name, rep)
		}
	}
}

func TestRateLimit(t *testing.T) {
	// Practically no refill: the burst is all there is.
	st := newStack(t, Config{RatePerSec: 0.001, RateBurst: 4})
	st.users(t, "alice")
	r := st.rawAuthed(t, "alice", "d1") // auth took one token: 3 left
	ok, limited := 0, 0
	for i := 0; i < 6; i++ {
		r.send(`{"id":"p","op":"ping"}`)
		rep := r.reply()
		switch {
		case rep.OK:
			ok++
		case rep.Error != nil && rep.Error.Name == "rate_limited" && rep.Error.Code == 509:
			limited++
		default:
			t.Fatalf("ping reply = %+v, want ok or rate_limited", rep)
		}
	}
	if ok != 3 || limited != 3 {
		t.Errorf("6 pings with 3 tokens: %d ok, %d rate_limited, want 3, 3", ok, limited)
	}
	// Far over the limit: 4x the burst refused in a row closes it.
	for i := 0; i < 4*4-limited; i++ {
		r.send(`{"id":"p","op":"ping"}`)
	}
	if got := r.closed(); got != protocol.CloseFlooding {
		t.Errorf("close code when flooding = %d, want %d", got, protocol.CloseFlooding)
	}
}

func TestSlowConsumer(t *testing.T) {
	st := newStack(t, Config{SendQueue: 8})
	st.users(t, "bob")
	r := st.rawAuthed(t, "bob", "d1") // and never reads until the queue overflowed
	ss := st.sessionsOf("bob")
	if len(ss) != 1 {
		t.Fatalf("sessions of bob = %d, want 1", len(ss))
	}
	bob := ss[0].actor.User
	big := strings.Repeat("x", 60<<10)
	deadline := time.Now().Add(wait)
	for i := 0; ; i++ {
		st.bus.Publish(context.Background(), chat.UserTopic(bob), chat.Event{Kind: chat.EventMessage, Message: &chat.Message{
			ID: chat.MsgID(i + 1), Type: chat.TypeText, ChatType: chat.SingleChat, FromName: "alice", ToName: "bob", Text: big, SentAt: time.Now(),
		}})
		select {
		case <-st.metrics.slow:
		default:
			if time.Now().After(deadline) {
				t.Fatalf("no slow consumer after %d pushes", i)
			}
			continue
		}
		break
	}
	if got := r.closed(); got != protocol.CloseSlowConsumer {
		t.Errorf("close code of a slow consumer = %d, want %d", got, protocol.CloseSlowConsumer)
	}
}

func TestConcurrentRequests(t *testing.T) {
	st := newStack(t, Config{})
	st.users(t, "alice", "bob")
	c := st.dial(t, "alice", "d1")
	errs := make(chan error, 50)
	for i := 0; i < 50; i++ {
		go func() {
			_, err := c.SendText(ctxT(t), client.SingleChat, "bob", "hi")
			errs <- err
		}()
	}
	for i := 0; i < 50; i++ {
		if err := <-errs; err != nil {
			t.Errorf("SendText = %v, want nil", err)
		}
	}
}

func TestClose(t *testing.T) {
	defer goleak.VerifyNone(t)
	st := newStack(t, Config{})
	st.users(t, "alice", "bob")
	conns := []*client.Conn{st.dial(t, "alice", "d1"), st.dial(t, "alice", "d2"), st.dial(t, "bob", "d1")}
	if n := st.srv.Sessions(); n != 3 {
		t.Fatalf("Sessions() = %d, want 3", n)
	}
	if err := st.srv.Close(ctxT(t)); err != nil {
		t.Fatalf("Close = %v, want nil", err)
	}
	if n := st.srv.Sessions(); n != 0 {
		t.Errorf("Sessions() after Close = %d, want 0", n)
	}
	if n := st.srv.hub.Topics(); n != 0 {
		t.Errorf("hub topics after Close = %d, want 0", n)
	}
	if n := st.bus.Topics(); n != 0 {
		t.Errorf("bus topics after Close = %d, want 0", n)
	}
	for _, c := range conns {
		<-c.Done()
		if got := client.CloseCode(c.Err()); got != protocol.CloseGoingAway {
			t.Errorf("close code of %s/%s = %d, want %d", c.User(), c.Device(), got, protocol.CloseGoingAway)
		}
		if _, err := c.Ping(ctxT(t)); err == nil {
			t.Errorf("Ping after Close = nil, want an error")
		}
		c.Close()
	}
	// A new connection is refused.
	if _, err := client.Dial(ctxT(t), st.url, st.token(t, "alice"), "d3"); err == nil {
		t.Errorf("Dial after Close = nil, want an error")
	}
	st.stop() // the rest of the stack, before the leak check
}

// TestAuthReplyFirst: the auth reply is the first frame even while
// events stream to the user.
func TestAuthReplyFirst(t *testing.T) {
	// A queue deep enough for the flood during registration.
	st := newStack(t, Config{SendQueue: 50_000})
	st.users(t, "alice")
	g, err := st.svc.Login(context.Background(), chat.Credentials{Username: "alice", Password: "password"})
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for n := 1; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			st.bus.Publish(context.Background(), chat.UserTopic(g.User.ID), chat.Event{Kind: chat.EventReceipt, Receipt: &chat.ReceiptPush{
				Msg: chat.MsgID(n), Group: 1, Sender: g.User.ID, Count: 1, Reader: "bob",
			}})
		}
	}()
	defer func() { close(stop); <-done }()
	for i := range 10 {
		r := st.raw(t)
		r.send(`{"id":"auth","op":"auth","data":{"token":"` + g.Token + `","device":"d1","version":1}}`)
		rep, push, err := r.read()
		if err != nil || rep == nil || !rep.OK {
			t.Fatalf("connection %d: first frame = %+v, %+v, %v, want the auth reply", i, rep, push, err)
		}
		// The publisher floods faster than a socket drains, so what
		// follows is pushes and then, soon, 4009: either is right here.
		r.c.Close(websocket.StatusNormalClosure, "")
	}
}

// TestDeadPeerNoticed: a peer that stops answering pings (it never reads,
// so it never sends a pong) is closed within about two ping intervals,
// while a live client on the same server keeps going.
func TestDeadPeerNoticed(t *testing.T) {
	st := newStack(t, Config{PingInterval: 50 * time.Millisecond})
	st.users(t, "alice", "bob")
	st.rawAuthed(t, "alice", "dead") // authenticated, then silent: never reads again
	live := st.dial(t, "bob", "d1")
	st.ended.waitFor(t, "sessions ended (the silent peer's)", 1)
	if n := len(st.sessionsOf("alice")); n != 0 {
		t.Fatalf("sessions of the silent peer = %d, want 0", n)
	}
	if _, err := live.Ping(ctxT(t)); err != nil {
		t.Errorf("live client Ping = %v, want it still connected", err)
	}
	st.metrics.mu.Lock()
	n := st.metrics.closed[int(websocket.StatusAbnormalClosure)]
	st.metrics.mu.Unlock()
	if n != 1 {
		t.Errorf("sessions closed abnormally = %d, want 1", n)
	}
}
