package ws

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"seen/client"
	"seen/internal/chat"
	"seen/internal/protocol"
)

// fill sends n single-chat messages of size bytes from one user to
// another, to give sync replies a known size.
func fill(t *testing.T, from *client.Conn, to string, n, size int) {
	t.Helper()
	text := strings.Repeat("x", size)
	for range n {
		if _, err := from.SendText(ctxT(t), client.SingleChat, to, text); err != nil {
			t.Fatalf("SendText = %v", err)
		}
	}
}

// TestSendQueueBytes: a client that asks for many large sync pages and
// never reads is closed with 4009 once the bytes it has not taken exceed
// the budget, long before the frame bound, and the session never holds
// more than the budget.
func TestSendQueueBytes(t *testing.T) {
	const budget = 256 << 10
	st := newStack(t, Config{SendQueueBytes: budget, SendQueue: 100_000, RateBurst: 10_000})
	st.users(t, "alice", "bob")
	fill(t, st.dial(t, "bob", "b1"), "alice", 4, 50<<10) // a sync page of about 200 KB
	r := st.rawAuthed(t, "alice", "a1")
	ss := st.sessionsOf("alice")
	if len(ss) != 1 {
		t.Fatalf("sessions of alice = %d, want 1", len(ss))
	}
	// 400 pages are 80 MB: far more than the socket buffers take.
	go func() {
		for i := range 400 {
			frame := fmt.Sprintf(`{"id":"s%d","op":"sync","data":{"ack":0}}`, i)
			if r.c.Write(context.Background(), websocket.MessageText, []byte(frame)) != nil {
				return
			}
		}
	}()
	select {
	case <-st.metrics.slow:
	case <-time.After(wait):
		t.Fatalf("no slow consumer after 400 sync pages not read (peak %d bytes)", ss[0].queue.peakBytes())
	}
	if peak := ss[0].queue.peakBytes(); peak > budget || peak < budget/2 {
		t.Errorf("bytes held for a peer that does not read: peak %d, want within (%d, %d]", peak, budget/2, budget)
	}
	if got := r.closed(); got != protocol.CloseSlowConsumer {
		t.Errorf("close code = %d, want %d", got, protocol.CloseSlowConsumer)
	}
}

// TestReplyTooLarge: a reply larger than the whole send budget is
// refused on its own with too_large; the connection stays usable.
func TestReplyTooLarge(t *testing.T) {
	st := newStack(t, Config{SendQueueBytes: 128 << 10})
	st.users(t, "alice", "bob")
	fill(t, st.dial(t, "bob", "b1"), "alice", 4, 50<<10)
	r := st.rawAuthed(t, "alice", "a1")
	r.send(`{"id":"1","op":"sync","data":{"ack":0}}`)
	if rep := r.reply(); rep.ID != "1" || rep.OK || rep.Error == nil || rep.Error.Name != "too_large" || !strings.Contains(rep.Error.Message, "send-queue-bytes") {
		t.Errorf("sync of 200 KB with a 128 KiB budget = ok %v, error %+v, want too_large naming send-queue-bytes", rep.OK, rep.Error)
	}
	r.send(`{"id":"2","op":"sync","data":{"ack":0,"limit":1}}`)
	if rep := r.reply(); rep.ID != "2" || !rep.OK {
		t.Errorf("sync of one message after too_large = %+v %+v, want ok", rep, rep.Error)
	}
}

// TestWriteTimeout: a peer that stops reading TCP is dropped in bounded
// time by the per-frame write timeout even when the byte budget is far
// from full (and no ping is due).
func TestWriteTimeout(t *testing.T) {
	st := newStack(t, Config{WriteTimeout: 200 * time.Millisecond, PingInterval: time.Hour, SendQueueBytes: 256 << 20, SendQueue: 1 << 20})
	st.users(t, "bob")
	st.rawAuthed(t, "bob", "d1") // never reads again
	ss := st.sessionsOf("bob")
	if len(ss) != 1 {
		t.Fatalf("sessions of bob = %d, want 1", len(ss))
	}
	bob := ss[0].actor.User
	big := strings.Repeat("x", 60<<10)
	// 2000 pushes, 120 MB: past any socket buffer.
	for i := 0; i < 2000 && !ss[0].isClosing(); i++ {
		st.bus.Publish(context.Background(), chat.UserTopic(bob), chat.Event{Kind: chat.EventMessage, Message: &chat.Message{
			ID: chat.MsgID(i + 1), Type: chat.TypeText, ChatType: chat.SingleChat, FromName: "alice", ToName: "bob", Text: big, SentAt: time.Now(),
		}})
	}
	select {
	case <-ss[0].closing:
	case <-time.After(wait):
		t.Fatal("session still open after 2000 pushes not read")
	}
	st.ended.waitFor(t, "sessions torn down", 1)
	select {
	case <-st.metrics.slow:
		t.Errorf("closed as a slow consumer, want the write timeout")
	default:
	}
}

// TestFloodingNotSlowConsumer: a burst far over the rate limit from a
// client that reads, while the flusher lags, is closed with 4008
// (flooding), not 4009: the queue is full of the refusals of its own
// requests.
func TestFloodingNotSlowConsumer(t *testing.T) {
	st := newStack(t, Config{SendQueue: 8, RateBurst: 4, RatePerSec: 0.001}) // flooding at 16 refused in a row
	st.srv.flusherOnly = true                                                // the gate holds the flusher's goroutine, not the read loop
	st.users(t, "alice")
	r := st.rawAuthed(t, "alice", "a1") // 3 tokens left
	s := st.sessionsOf("alice")[0]
	gate := make(chan struct{})
	st.metrics.gate.Store(&gate)
	// Hold the flusher on a frame, then burst: 2 or 3 pongs and 6 or 7
	// refusals overflow the queue of 8, before 16 refusals in a row.
	r.send(`{"id":"p","op":"ping"}`)
	<-st.metrics.held
	for range 2 + 12 {
		r.send(`{"id":"p","op":"ping"}`)
	}
	select {
	case <-s.closing:
	case <-time.After(wait):
		t.Fatal("session not closing after a burst over the queue")
	}
	close(gate)
	if got := r.closed(); got != protocol.CloseFlooding {
		t.Errorf("close code = %d, want %d (flooding)", got, protocol.CloseFlooding)
	}
	select {
	case <-st.metrics.slow:
		t.Errorf("counted as a slow consumer")
	default:
	}
}

// dialStatus opens a raw WebSocket with header; it returns the HTTP
// status of a refused upgrade, or 101 and the connection.
func (st *stack) dialStatus(t *testing.T, header http.Header) (int, *raw) {
	t.Helper()
	c, resp, err := websocket.Dial(ctxT(t), st.url, &websocket.DialOptions{HTTPHeader: header})
	if err != nil {
		if resp == nil {
			t.Fatalf("websocket.Dial = %v, want an HTTP answer", err)
		}
		if resp.Header.Get("Retry-After") == "" {
			t.Errorf("refused upgrade %d without Retry-After", resp.StatusCode)
		}
		return resp.StatusCode, nil
	}
	c.SetReadLimit(-1)
	t.Cleanup(func() { c.CloseNow() })
	return http.StatusSwitchingProtocols, &raw{t: t, c: c}
}

// TestConnectionCaps: connections per client address, unauthenticated
// ones per address and in total are capped before the upgrade; an
// authentication, a close and the auth timeout give the slots back.
func TestConnectionCaps(t *testing.T) {
	st := newStack(t, Config{
		MaxConnsPerAddr: 3, MaxUnauthPerAddr: 2, MaxUnauthConns: 3,
		ClientAddr:  func(r *http.Request) string { return r.Header.Get("X-Test-Addr") },
		AuthTimeout: time.Hour,
	})
	st.users(t, "alice")
	from := func(addr string) http.Header { return http.Header{"X-Test-Addr": {addr}} }
	dial := func(addr string, want int) *raw {
		t.Helper()
		got, r := st.dialStatus(t, from(addr))
		if got != want {
			t.Fatalf("dial from %s = HTTP %d, want %d", addr, got, want)
		}
		return r
	}
	a1 := dial("a", http.StatusSwitchingProtocols)
	dial("a", http.StatusSwitchingProtocols)
	dial("a", http.StatusTooManyRequests) // 2 unauthenticated from a
	// Authenticating gives back the unauthenticated slot.
	a1.send(`{"id":"auth","op":"auth","data":{"token":"` + st.token(t, "alice") + `","device":"d1","version":1}}`)
	if rep := a1.reply(); !rep.OK {
		t.Fatalf("auth = %+v", rep)
	}
	a3 := dial("a", http.StatusSwitchingProtocols)
	dial("a", http.StatusTooManyRequests) // 3 connections from a
	// Another address has its own caps, but the total of
	// unauthenticated connections (3) is shared.
	dial("b", http.StatusSwitchingProtocols)
	dial("b", http.StatusServiceUnavailable)
	// A close gives back both slots.
	a3.c.Close(websocket.StatusNormalClosure, "")
	st.ended.waitFor(t, "sessions ended (a's closed one)", 1)
	dial("b", http.StatusSwitchingProtocols)
	dial("a", http.StatusServiceUnavailable)
}

// TestDefaultClientAddr: without Config.ClientAddr the per-address caps
// key IPv6 peers by their /64 (limit.AddrKey), so a client with a /64
// does not have 2^64 budgets.
func TestDefaultClientAddr(t *testing.T) {
	s := New(nil, nil, Config{}, nil, nil)
	for _, tc := range []struct{ remote, want string }{
		{"203.0.113.7:5000", "203.0.113.7"},
		{"[2001:db8:1:2::1]:5000", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:aaaa:bbbb:cccc:dddd]:5001", "2001:db8:1:2::/64"},
		{"[::ffff:1.2.3.4]:5000", "1.2.3.4"},
	} {
		r := httptest.NewRequest("GET", "/ws", nil)
		r.RemoteAddr = tc.remote
		if got := s.Admission().ClientAddr(r); got != tc.want {
			t.Errorf("clientAddr(%s) = %q, want %q", tc.remote, got, tc.want)
		}
	}
}

// TestAuthTimeoutFreesSlot: a connection that never authenticates is
// closed by the auth timeout and its slot taken by the next one.
func TestAuthTimeoutFreesSlot(t *testing.T) {
	st := newStack(t, Config{MaxUnauthPerAddr: 1, AuthTimeout: 50 * time.Millisecond})
	_, r := st.dialStatus(t, nil)
	if got, _ := st.dialStatus(t, nil); got != http.StatusTooManyRequests {
		t.Errorf("second unauthenticated dial = HTTP %d, want 429", got)
	}
	if got := r.closed(); got != protocol.CloseAuth {
		t.Errorf("close code = %d, want %d", got, protocol.CloseAuth)
	}
	st.ended.waitFor(t, "sessions ended (the timed out one)", 1)
	if got, _ := st.dialStatus(t, nil); got != http.StatusSwitchingProtocols {
		t.Fatalf("dial after the auth timeout = HTTP %d, want 101", got)
	}
}

// TestUserRateLimit: the request budget of a user is shared by all the
// user's connections: a second connection does not bring a second
// budget. Other users are not affected; refusals in a row still close
// with 4008.
func TestUserRateLimit(t *testing.T) {
	st := newStack(t, Config{RatePerSec: 0.001, RateBurst: 10, UserRatePerSec: 0.001, UserRateBurst: 15})
	st.users(t, "alice", "bob")
	a1, a2 := st.rawAuthed(t, "alice", "d1"), st.rawAuthed(t, "alice", "d2") // auth is per connection only
	pings := func(r *raw, n int) (ok, limited int) {
		t.Helper()
		for range n {
			r.send(`{"id":"p","op":"ping"}`)
			rep := r.reply()
			switch {
			case rep.OK:
				ok++
			case rep.Error != nil && rep.Error.Name == "rate_limited":
				limited++
			default:
				t.Fatalf("ping = %+v, want ok or rate_limited", rep)
			}
		}
		return ok, limited
	}
	if ok, limited := pings(a1, 8); ok != 8 || limited != 0 {
		t.Errorf("first connection, 8 pings: %d ok, %d limited, want 8, 0", ok, limited)
	}
	if ok, limited := pings(a2, 8); ok != 7 || limited != 1 {
		t.Errorf("second connection, 8 pings: %d ok, %d limited, want 7, 1 (the user's budget of 15 is spent)", ok, limited)
	}
	if ok, _ := pings(st.rawAuthed(t, "bob", "d1"), 8); ok != 8 {
		t.Errorf("another user, 8 pings: %d ok, want 8", ok)
	}
	for range 4*10 - 1 {
		a2.send(`{"id":"p","op":"ping"}`)
	}
	if got := a2.closed(); got != protocol.CloseFlooding {
		t.Errorf("close code after 40 refusals in a row = %d, want %d", got, protocol.CloseFlooding)
	}
}

// TestTwoTabs: two sessions of one user on the same device id (two tabs
// of a browser share localStorage) see each other's messages and
// conversation reads; only the sending session is skipped.
func TestTwoTabs(t *testing.T) {
	st := newStack(t, Config{})
	st.users(t, "alice", "bob")
	tab1, tab2 := st.dial(t, "alice", "web-1"), st.dial(t, "alice", "web-1")
	bob := st.dial(t, "bob", "b1")
	ctx := ctxT(t)
	hi, err := bob.SendText(ctx, client.SingleChat, "alice", "hi")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client.Conn{tab1, tab2} {
		waitPush(t, c, client.PushMsg, withID(hi.ID))
	}
	sent, err := tab1.SendText(ctx, client.SingleChat, "bob", "from tab 1")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client.Conn{tab2, bob} {
		if m := decode[client.Message](t, waitPush(t, c, client.PushMsg, nil)); m.ID != sent.ID {
			t.Errorf("%s/%s: msg push = %s, want tab 1's %s", c.User(), c.Device(), m.ID, sent.ID)
		}
	}
	if _, err := tab1.AckConversation(ctx, client.SingleChat, "bob"); err != nil {
		t.Fatal(err)
	}
	if p := decode[client.ConvRead](t, waitPush(t, tab2, client.PushConvRead, nil)); p.To != "bob" {
		t.Errorf("tab 2: conv.read push = %+v, want bob", p)
	}
	// A barrier: tab 1's next push is bob's message, not its own message
	// or conv.read.
	barrier, err := bob.SendText(ctx, client.SingleChat, "alice", "barrier")
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := nextPush(t, tab1)
		if p.Push == client.PushConvRead {
			t.Errorf("tab 1 got its own conv.read push %s", p.Data)
		}
		if p.Push == client.PushMsg {
			if m := decode[client.Message](t, p); m.ID != barrier.ID {
				t.Errorf("tab 1: msg push %s, want bob's %s (not its own)", m.ID, barrier.ID)
			}
			break
		}
	}
}

// TestFramesValidUTF8: a value holding invalid UTF-8 that reached a
// frame (a raw JSON field) is never written: the push is dropped, the
// reply becomes an internal error, and the connection goes on.
func TestFramesValidUTF8(t *testing.T) {
	bad := json.RawMessage("{\"k\":\"\xff\xfe\"}")
	if _, err := encodeFrame(protocol.Push{Push: protocol.PushMsg, Data: bad}); err == nil {
		t.Errorf("encodeFrame(invalid UTF-8 in a raw field) = nil error, want one")
	}
	if b, err := encodeFrame(protocol.Reply{ID: "1", Error: &protocol.Error{Message: "bad \xff string"}}); err != nil || !utf8.Valid(b) {
		t.Errorf("encodeFrame(invalid UTF-8 in a string) = %q, %v, want it replaced and valid", b, err)
	}

	st := newStack(t, Config{})
	st.users(t, "alice")
	r := st.rawAuthed(t, "alice", "a1")
	s := st.sessionsOf("alice")[0]
	msg := func(id chat.MsgID, ext json.RawMessage) chat.Event {
		return chat.Event{Kind: chat.EventMessage, Message: &chat.Message{
			ID: id, Type: chat.TypeText, ChatType: chat.SingleChat, FromName: "bob", ToName: "alice", Text: "hi", Ext: ext, SentAt: time.Now(),
		}}
	}
	st.bus.Publish(context.Background(), chat.UserTopic(s.actor.User), msg(1, bad))
	st.bus.Publish(context.Background(), chat.UserTopic(s.actor.User), msg(2, json.RawMessage(`{"k":"v"}`)))
	s.reply(protocol.Request{ID: "r", Op: protocol.OpHistory}, struct {
		Ext json.RawMessage `json:"ext"`
	}{bad})
	var pushes []string
	for {
		_, b, err := r.c.Read(ctxT(t))
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if !utf8.Valid(b) {
			t.Fatalf("frame is not valid UTF-8: %q", b)
		}
		rep, push, err := protocol.DecodeServerFrame(b)
		if err != nil {
			t.Fatal(err)
		}
		if push != nil {
			var m protocol.Message
			json.Unmarshal(push.Data, &m)
			pushes = append(pushes, m.ID)
			continue
		}
		if rep.ID != "r" || rep.OK || rep.Error == nil || rep.Error.Name != "internal" {
			t.Errorf("reply with invalid UTF-8 = %+v %+v, want an internal error", rep, rep.Error)
		}
		break
	}
	if want := []string{chat.MsgID(2).String()}; fmt.Sprint(pushes) != fmt.Sprint(want) {
		t.Errorf("msg pushes = %v, want %v (the invalid one dropped)", pushes, want)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("DefaultConfig().Validate() = %v, want nil", err)
	}
	tests := []struct {
		name string
		set  func(*Config)
		want string // the flag named in the error
	}{
		{"tiny send budget", func(c *Config) { c.SendQueueBytes = 1000 }, "send-queue-bytes"},
		{"send budget under a frame", func(c *Config) { c.SendQueueBytes, c.MaxFrameBytes = 64<<10, 128<<10 }, "send-queue-bytes"},
		{"no user rate", func(c *Config) { c.UserRatePerSec = 0 }, "user-rate"},
		{"no user burst", func(c *Config) { c.UserRateBurst = 0 }, "user-rate-burst"},
		{"no connections", func(c *Config) { c.MaxConnsPerAddr = 0 }, "max-conns-per-addr"},
		{"no unauthenticated", func(c *Config) { c.MaxUnauthConns = -1 }, "max-unauth-conns"},
		{"no unauthenticated per address", func(c *Config) { c.MaxUnauthPerAddr = 0 }, "max-unauth-per-addr"},
		{"more unauthenticated than connections", func(c *Config) { c.MaxUnauthPerAddr = c.MaxConnsPerAddr + 1 }, "max-unauth-per-addr"},
		{"frames under messages", func(c *Config) { c.MaxMessageBytes = c.MaxFrameBytes + 1 }, "max-frame-bytes"},
		{"pages over the send queue", func(c *Config) { c.MaxPageBytes = c.SendQueueBytes }, "send-queue-bytes"},
		{"send queue one byte short", func(c *Config) {
			c.MaxPageBytes, c.MaxFrameBytes = 2<<20, 256<<10
			c.SendQueueBytes = MaxInflight*(2<<20) + 256<<10 - 1
		}, "send-queue-bytes"},
	}
	for _, tt := range tests {
		c := DefaultConfig()
		tt.set(&c)
		if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), tt.want+" ") {
			t.Errorf("%s: Validate() = %v, want an error naming %s", tt.name, err, tt.want)
		}
	}
	// The send queue that holds exactly what it must is enough.
	c := DefaultConfig()
	c.MaxPageBytes, c.MaxFrameBytes = 2<<20, 256<<10
	c.SendQueueBytes = MaxInflight*(2<<20) + 256<<10
	if err := c.Validate(); err != nil {
		t.Errorf("Validate(send queue of exactly %d) = %v, want nil", c.SendQueueBytes, err)
	}
}
