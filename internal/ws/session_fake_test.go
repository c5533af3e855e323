package ws

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"seen/internal/chat"
	"seen/internal/protocol"
)

// Session logic over the fake transport (fake_test.go): no socket, the
// real service, store and bus.

// TestFakeAuth: what the first frame of a connection may be, and the
// reply and close code of each way it can be wrong.
func TestFakeAuth(t *testing.T) {
	st := newStack(t, Config{})
	st.users(t, "alice")
	token := st.token(t, "alice")
	auth := func(data string) string { return `{"id":"a","op":"auth","data":` + data + `}` }
	good := `{"token":"` + token + `","device":"d1","version":1}`
	for _, tc := range []struct {
		name, frame string
		error       string // the error name of the reply
		message     string // a substring of its message
		code        int
		reason      string
	}{
		{"not auth", `{"id":"a","op":"ping"}`, "unauthorized", "the first request must be auth", protocol.CloseAuth, "authentication required"},
		{"bad token", auth(`{"token":"nope","device":"d1","version":1}`), "unauthorized", "", protocol.CloseAuth, "authentication failed"},
		{"other version", auth(`{"token":"` + token + `","device":"d1","version":99}`), "bad_request", "protocol version 99", protocol.CloseProtocol, "unsupported protocol version"},
		{"bad device", auth(`{"token":"` + token + `","device":"","version":1}`), "bad_request", "", protocol.CloseAuth, "bad device id"},
		{"unknown key in the data", auth(`{"token":"t","device":"d1","version":1,"x":1}`), "bad_request", `unknown field "x"`, protocol.CloseAuth, "bad auth request"},
		{"unknown key in the envelope", `{"id":"a","op":"auth","x":1,"data":` + good + `}`, "bad_request", `invalid request: unknown field "x"`, protocol.CloseAuth, "bad auth request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := st.fake(t)
			f.send(t, tc.frame)
			rep := f.reply(t)
			if rep.ID != "a" || rep.OK || rep.Error == nil || rep.Error.Name != tc.error || !strings.Contains(rep.Error.Message, tc.message) {
				t.Errorf("reply = %+v %+v, want id a, error %s containing %q", rep, rep.Error, tc.error, tc.message)
			}
			if code, reason := f.closedWith(t); code != tc.code || reason != tc.reason {
				t.Errorf("close = %d %q, want %d %q", code, reason, tc.code, tc.reason)
			}
		})
	}

	t.Run("ok", func(t *testing.T) {
		f := st.fake(t)
		f.send(t, auth(good))
		rep := f.reply(t)
		var a protocol.AuthReply
		if err := json.Unmarshal(rep.Data, &a); err != nil || !rep.OK || rep.ID != "a" || a.User != "alice" || a.Device != "d1" || a.Version != protocol.Version {
			t.Fatalf("auth reply = %+v (%s), %v, want alice on d1, version %d", rep, rep.Data, err, protocol.Version)
		}
		f.send(t, auth(good))
		if rep := f.reply(t); rep.OK || rep.Error.Name != "bad_request" || rep.Error.Message != "already authenticated" {
			t.Errorf("second auth = %+v %+v, want bad_request already authenticated", rep, rep.Error)
		}
		f.send(t, `{"id":"p","op":"ping"}`)
		if rep := f.reply(t); !rep.OK || rep.ID != "p" {
			t.Errorf("ping = %+v, want ok", rep)
		}
	})

	t.Run("timeout", func(t *testing.T) {
		st := newStack(t, Config{AuthTimeout: time.Millisecond})
		f := st.fake(t)
		if code, reason := f.closedWith(t); code != protocol.CloseAuth || reason != "authentication timed out" {
			t.Errorf("close = %d %q, want %d authentication timed out", code, reason, protocol.CloseAuth)
		}
	})
}

// TestFakeFrames: the envelope is decoded once, strictly; what closes
// the connection (4000, with its reason) and what is only answered with
// bad_request, the request id echoed.
func TestFakeFrames(t *testing.T) {
	st := newStack(t, Config{MaxFrameBytes: 1024})
	st.users(t, "alice")
	for _, tc := range []struct {
		name   string
		msg    fakeMsg
		reason string // "" when the connection stays open
		error  string // the message of the bad_request reply, when it stays open
	}{
		{"binary", fakeMsg{b: []byte(`{"id":"1","op":"ping"}`)}, "binary frame", ""},
		{"too large", fakeMsg{text: true, b: []byte(`{"id":"1","op":"ping","data":{"x":"` + strings.Repeat("x", 1024) + `"}}`)}, "frame too large", ""},
		{"not JSON", fakeMsg{text: true, b: []byte(`hello`)}, "frame is not a JSON request", ""},
		{"empty", fakeMsg{text: true}, "frame is not a JSON request", ""},
		{"not an object", fakeMsg{text: true, b: []byte(`["ping"]`)}, "frame is not a JSON request", ""},
		{"trailing data", fakeMsg{text: true, b: []byte(`{"id":"1","op":"ping"} {}`)}, "frame is not a JSON request", ""},
		{"id of the wrong type", fakeMsg{text: true, b: []byte(`{"id":1,"op":"ping"}`)}, "frame is not a JSON request", ""},
		{"wrong type after an unknown key", fakeMsg{text: true, b: []byte(`{"x":1,"id":1,"op":"ping"}`)}, "frame is not a JSON request", ""},
		{"null", fakeMsg{text: true, b: []byte(`null`)}, "request without a valid id", ""},
		{"no id", fakeMsg{text: true, b: []byte(`{"op":"ping"}`)}, "request without a valid id", ""},
		{"long id", fakeMsg{text: true, b: []byte(`{"id":"` + strings.Repeat("i", protocol.MaxRequestID+1) + `","op":"ping"}`)}, "request without a valid id", ""},
		{"unknown key", fakeMsg{text: true, b: []byte(`{"id":"1","op":"ping","x":1}`)}, "", `invalid request: unknown field "x"`},
		{"unknown key before the id", fakeMsg{text: true, b: []byte(`{"x":{"y":[1]},"id":"1","op":"ping"}`)}, "", `invalid request: unknown field "x"`},
		{"unknown key in the data", fakeMsg{text: true, b: []byte(`{"id":"1","op":"sync","data":{"x":1}}`)}, "", `invalid request: unknown field "x"`},
		{"data of the wrong type", fakeMsg{text: true, b: []byte(`{"id":"1","op":"sync","data":{"limit":"x"}}`)}, "", `invalid request: cannot unmarshal`},
		{"unknown op", fakeMsg{text: true, b: []byte(`{"id":"1","op":"nope"}`)}, "", `unknown op "nope"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := st.fakeAuthed(t, "alice", "d1")
			f.sendMsg(t, tc.msg)
			if tc.reason != "" {
				if code, reason := f.closedWith(t); code != protocol.CloseProtocol || reason != tc.reason {
					t.Errorf("close = %d %q, want %d %q", code, reason, protocol.CloseProtocol, tc.reason)
				}
				return
			}
			rep := f.reply(t)
			if rep.ID != "1" || rep.OK || rep.Error == nil || rep.Error.Name != "bad_request" || !strings.Contains(rep.Error.Message, tc.error) {
				t.Errorf("reply = %+v %+v, want id 1, bad_request containing %q", rep, rep.Error, tc.error)
			}
			f.send(t, `{"id":"p","op":"ping"}`)
			if rep := f.reply(t); !rep.OK || rep.ID != "p" {
				t.Errorf("ping after = %+v %+v, want ok: the connection stays open", rep, rep.Error)
			}
		})
	}
}

// TestFakeCloses: the close code of each other way a session ends.
func TestFakeCloses(t *testing.T) {
	st := newStack(t, Config{PingInterval: 20 * time.Millisecond})
	st.users(t, "alice")

	f := st.fakeAuthed(t, "alice", "d1")
	user := st.sessionsOf("alice")[0].actor.User
	st.bus.Publish(context.Background(), chat.UserTopic(user), chat.Event{Kind: chat.EventRevoked, Revoked: &chat.RevokedEvent{User: user}})
	if code, reason := f.closedWith(t); code != protocol.CloseTokenRevoked || reason != "token revoked" {
		t.Errorf("revoked: close = %d %q, want %d token revoked", code, reason, protocol.CloseTokenRevoked)
	}

	// A peer that does not answer the ping is dropped without a close frame.
	f = st.fakeAuthed(t, "alice", "d2")
	f.deaf.Store(true)
	if code, _ := f.closedWith(t); code != 0 {
		t.Errorf("deaf peer: close = %d, want the connection dropped", code)
	}

	// The client's close is answered with its code.
	f = st.fakeAuthed(t, "alice", "d3")
	close(f.in)
	if code, _ := f.closedWith(t); code != protocol.CloseNormal {
		t.Errorf("client close: close = %d, want %d", code, protocol.CloseNormal)
	}

	f = st.fakeAuthed(t, "alice", "d4")
	st.stop()
	if code, reason := f.closedWith(t); code != protocol.CloseGoingAway || reason != "server shutting down" {
		t.Errorf("shutdown: close = %d %q, want %d server shutting down", code, reason, protocol.CloseGoingAway)
	}
	st.metrics.mu.Lock()
	defer st.metrics.mu.Unlock()
	want := map[int]int{protocol.CloseTokenRevoked: 1, closeAbnormal: 1, protocol.CloseNormal: 1, protocol.CloseGoingAway: 1}
	for code, n := range want {
		if st.metrics.closed[code] != n {
			t.Errorf("sessions closed with %d = %d, want %d (all: %v)", code, st.metrics.closed[code], n, st.metrics.closed)
		}
	}
}

// TestFakeSendQueueBytes: a peer that does not read is closed with 4009
// once the bytes it holds would pass SendQueueBytes, counting the frame
// being written; the queue never holds more.
func TestFakeSendQueueBytes(t *testing.T) {
	const budget = 64 << 10
	st := newStack(t, Config{SendQueueBytes: budget, SendQueue: 1 << 20})
	st.users(t, "alice")
	f := st.fakeAuthed(t, "alice", "d1")
	s := st.sessionsOf("alice")[0]
	hold := make(chan struct{})
	f.hold.Store(&hold)
	text := strings.Repeat("x", 10<<10)
	pushed := 0
	for ; pushed < 100 && !s.isClosing(); pushed++ {
		st.bus.Publish(context.Background(), chat.UserTopic(s.actor.User), chat.Event{Kind: chat.EventMessage, Message: &chat.Message{
			ID: chat.MsgID(pushed + 1), Type: chat.TypeText, ChatType: chat.SingleChat, FromName: "bob", ToName: "alice", Text: text,
		}})
	}
	if !s.isClosing() {
		t.Fatalf("%d pushes of 10 KiB not read: session open, want 4009", pushed)
	}
	if pushed < 5 || pushed > 7 {
		t.Errorf("closed after %d pushes of 10 KiB, want 6 or so with a budget of 64 KiB", pushed)
	}
	if peak := s.queue.peakBytes(); peak > budget {
		t.Errorf("queue peak = %d bytes, over the budget %d", peak, budget)
	}
	close(hold)
	if code, reason := f.closedWith(t); code != protocol.CloseSlowConsumer || reason != "slow consumer" {
		t.Errorf("close = %d %q, want %d slow consumer", code, reason, protocol.CloseSlowConsumer)
	}
	select {
	case <-st.metrics.slow:
	default:
		t.Errorf("slow consumer not counted")
	}
}

// TestFakeSendQueueBytesGoDownPerBatch: the flusher writes everything
// queued in one Write, and the bytes those frames hold in the send
// queue's budget are freed as soon as that Write returns, not later: the
// budget is sized for a reading client's pipelined pages on that basis
// (Config.Validate). While a batch is being written, its bytes still
// count.
func TestFakeSendQueueBytesGoDownPerBatch(t *testing.T) {
	const budget, size = 64 << 10, 10 << 10
	st := newStack(t, Config{SendQueueBytes: budget, SendQueue: 1 << 20})
	st.users(t, "alice")
	f := st.fakeAuthed(t, "alice", "d1")
	s := st.sessionsOf("alice")[0]
	hold := make(chan struct{})
	f.hold.Store(&hold)
	text := strings.Repeat("x", size)
	n := 0
	push := func() {
		n++
		st.bus.Publish(context.Background(), chat.UserTopic(s.actor.User), chat.Event{Kind: chat.EventMessage, Message: &chat.Message{
			ID: chat.MsgID(n), Type: chat.TypeText, ChatType: chat.SingleChat, FromName: "bob", ToName: "alice", Text: text,
		}})
	}
	push()
	<-f.held // the flusher holds a batch of push 1 alone
	for range 5 {
		push() // 2..6 queue behind it: 6 frames of 10 KiB within 64 KiB
	}
	if s.isClosing() {
		t.Fatalf("closed with 6 frames of %d bytes and a budget of %d", size, budget)
	}
	hold <- struct{}{} // batch {1} is written; the flusher takes 2..6 at once and holds them
	<-f.held
	push() // 2..7: 6 frames, if 1 was accounted for when its batch was written
	if s.isClosing() {
		t.Fatalf("closed with 6 frames of %d bytes held and a budget of %d: a written batch still counted", size, budget)
	}
	hold <- struct{}{} // batch 2..6 is written; the flusher takes 7 and holds it
	<-f.held
	for range 5 {
		push() // 7..12: 6 frames again, if 2..6 went down together
	}
	if s.isClosing() {
		t.Fatalf("closed with 6 frames of %d bytes held and a budget of %d: a written batch still counted", size, budget)
	}
	if peak := s.queue.peakBytes(); peak > budget {
		t.Errorf("queue peak = %d bytes, over the budget %d", peak, budget)
	}
	close(hold)
	for i := range n {
		p := f.push(t)
		var m protocol.Message
		if err := json.Unmarshal(p.Data, &m); err != nil || m.ID != chat.MsgID(i+1).String() {
			t.Fatalf("push %d = %s (%v), want message %d: frames in order", i, p.Data, err, i+1)
		}
	}
}

// TestFakeSendQueueFrames: the queue is bounded in frames too.
func TestFakeSendQueueFrames(t *testing.T) {
	st := newStack(t, Config{SendQueue: 4})
	st.users(t, "alice")
	f := st.fakeAuthed(t, "alice", "d1")
	s := st.sessionsOf("alice")[0]
	hold := make(chan struct{})
	f.hold.Store(&hold)
	// The flusher is held on the frames it took (at most the 4 queued
	// when it woke), and 4 more fill the queue: the 9th cannot fit.
	for i := range 9 {
		st.bus.Publish(context.Background(), chat.UserTopic(s.actor.User), chat.Event{Kind: chat.EventConvRead, ConvRead: &chat.ConvReadEvent{
			User: s.actor.User, ChatType: chat.SingleChat, Peer: "bob", Seq: int64(i + 1),
		}})
	}
	close(hold)
	if code, _ := f.closedWith(t); code != protocol.CloseSlowConsumer {
		t.Errorf("close = %d, want %d", code, protocol.CloseSlowConsumer)
	}
}

// TestFakeReceiptCountsNeverGoBackwards: receipt pushes that overtook
// each other reach a device only when they raise the count it has.
func TestFakeReceiptCountsNeverGoBackwards(t *testing.T) {
	st := newStackUncoalesced(t)
	st.users(t, "alice")
	f := st.fakeAuthed(t, "alice", "d1")
	topic := chat.UserTopic(st.sessionsOf("alice")[0].actor.User)
	type rc struct {
		msg   chat.MsgID
		count int
	}
	for _, r := range []rc{{1, 3}, {1, 2}, {2, 1}, {1, 3}, {1, 5}, {2, 1}, {1, 4}, {2, 2}, {3, 0}} {
		st.bus.Publish(context.Background(), topic, chat.Event{Kind: chat.EventReceipt, Receipt: &chat.ReceiptPush{Msg: r.msg, Group: 9, Count: r.count}})
	}
	// Those raising the count are {1,3}, {2,1}, {1,5}, {2,2}, {3,0}; a
	// count still queued when a higher one of its message comes is
	// replaced (TestFakeQueuedCountReplaced), so which of them reach the
	// device depends on the flusher's pace, but never a lower after a
	// higher, and always the highest of each message.
	var got []rc
	last := map[chat.MsgID]int{}
	for len(got) == 0 || got[len(got)-1].msg != 3 {
		p := f.push(t)
		var r protocol.Receipt
		if err := json.Unmarshal(p.Data, &r); p.Push != protocol.PushReceipt || err != nil {
			t.Fatalf("push = %+v, %v, want a receipt", p, err)
		}
		id, _ := chat.ParseMsgID(r.Mid)
		got = append(got, rc{id, r.Count})
		if c, ok := last[id]; ok && r.Count <= c {
			t.Fatalf("receipt pushes = %v: a count of message %d that does not raise the last", got, id)
		}
		last[id] = r.Count
	}
	if last[1] != 5 || last[2] != 2 || last[3] != 0 {
		t.Errorf("receipt pushes = %v, want the last counts 5, 2 and 0", got)
	}
}

// TestFakeQueuedCountReplaced: a read count that finds the count of the
// same message still queued (the peer reads slower than counts change)
// takes its place: the device gets the newest once, where the older
// stood, and the queue holds one frame for it.
func TestFakeQueuedCountReplaced(t *testing.T) {
	st := newStackUncoalesced(t)
	st.users(t, "alice")
	f := st.fakeAuthed(t, "alice", "d1")
	s := st.sessionsOf("alice")[0]
	topic := chat.UserTopic(s.actor.User)
	hold := make(chan struct{})
	f.hold.Store(&hold)
	publish := func(msg chat.MsgID, count int) {
		st.bus.Publish(context.Background(), topic, chat.Event{Kind: chat.EventReceipt, Receipt: &chat.ReceiptPush{Msg: msg, Group: 9, Count: count}})
	}
	publish(1, 1)
	<-f.held // the flusher holds a batch of {1,1}
	publish(1, 2)
	publish(2, 1)
	for c := 3; c <= 6; c++ {
		publish(1, c) // each replaces the queued count of message 1
	}
	if n := s.queue.len(); n != 2 {
		t.Errorf("queued frames = %d, want 2 (message 1's newest count and message 2's)", n)
	}
	close(hold)
	var got []string
	for range 3 {
		p := f.push(t)
		var r protocol.Receipt
		if err := json.Unmarshal(p.Data, &r); p.Push != protocol.PushReceipt || err != nil {
			t.Fatalf("push = %+v, %v, want a receipt", p, err)
		}
		id, _ := chat.ParseMsgID(r.Mid)
		got = append(got, fmt.Sprintf("%d:%d", id, r.Count))
	}
	if want := "1:1 1:6 2:1"; strings.Join(got, " ") != want {
		t.Errorf("receipt pushes = %v, want %s", got, want)
	}
	// The bytes go down once the Write that handed the frames over
	// returns.
	deadline := time.Now().Add(10 * time.Second)
	for s.queue.bytes.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("queue bytes 10s after everything was written = %d, want 0", s.queue.bytes.Load())
		}
		time.Sleep(time.Millisecond)
	}
}

// TestFakeStalledReadLoopKeepsDeafPeer: while the read loop waits on the
// server's own backpressure (every worker slot taken) it reads no pong, so
// an unanswered ping then does not drop the peer; once the read loop
// reads again, a peer that still does not answer is dropped.
func TestFakeStalledReadLoopKeepsDeafPeer(t *testing.T) {
	// The reply must be written before the first ping sent after the
	// stall times out: at least two intervals, on a loaded machine too.
	const interval = 50 * time.Millisecond
	st := newStack(t, Config{PingInterval: interval})
	st.users(t, "alice")
	f := st.fakeAuthed(t, "alice", "d1")
	sess := st.sessionsOf("alice")[0]
	for range MaxInflight { // the server is busy: every slot is taken
		sess.sem <- struct{}{}
	}
	f.send(t, `{"id":"p1","op":"group.mine","data":{}}`) // read, then the read loop waits for a slot
	for !sess.stalled.Load() {
		time.Sleep(time.Millisecond)
	}
	f.deaf.Store(true)
	select {
	case <-f.closed:
		t.Fatalf("closed (%d %q) while the server was not reading", f.code, f.reason)
	case <-time.After(10 * interval): // several unanswered pings
	}
	for range MaxInflight {
		<-sess.sem
	}
	if rep := f.reply(t); !rep.OK {
		t.Fatalf("group.mine reply = %+v, want ok", rep)
	}
	if code, _ := f.closedWith(t); code != 0 {
		t.Errorf("deaf peer once the server reads: close = %d, want the connection dropped", code)
	}
}
