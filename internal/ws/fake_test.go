package ws

import (
	"bytes"
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"seen/internal/protocol"
)

// fakeConn is an in-memory transport: the test plays the client, and
// session logic runs without a socket underneath.
type fakeConn struct {
	in  chan fakeMsg // what the client sends; closed: the client closed with 1000
	out chan []byte  // what the server wrote, in order
	// hold, when set, holds every Write (a batch of frames) until it is
	// closed (a peer that does not read) or lets one through per value
	// sent on it; each held Write first reports on held.
	hold atomic.Pointer[chan struct{}]
	held chan struct{}
	// last is the payload Read returned last (the read loop's only).
	last []byte
	// deaf makes Ping wait for a pong that never comes.
	deaf atomic.Bool

	closeOnce sync.Once
	closed    chan struct{} // closed by Close or CloseNow
	code      int           // set before closed is closed: Close's code, 0 after CloseNow
	reason    string
}

type fakeMsg struct {
	text bool
	b    []byte
}

func newFakeConn() *fakeConn {
	return &fakeConn{in: make(chan fakeMsg), out: make(chan []byte, 1<<14), held: make(chan struct{}, 1<<14), closed: make(chan struct{})}
}

var _ transport = (*fakeConn)(nil)

func (f *fakeConn) Read(max int) (bool, []byte, error) {
	select {
	case m, ok := <-f.in:
		if !ok {
			return false, nil, &peerClosed{code: protocol.CloseNormal}
		}
		if len(m.b) > max {
			return false, nil, errTooLarge
		}
		// The buffer is the fake's until the next Read: clobbered then, so
		// that a session that keeps it fails the tests.
		for i := range f.last {
			f.last[i] = '#'
		}
		f.last = bytes.Clone(m.b)
		return m.text, f.last, nil
	case <-f.closed:
		return false, nil, net.ErrClosed
	}
}

// Write writes msgs as one batch, like one system call: a hold holds the
// whole batch, with one report on held.
func (f *fakeConn) Write(timeout time.Duration, msgs ...[]byte) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if g := f.hold.Load(); g != nil {
		f.held <- struct{}{}
		select {
		case <-*g:
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-f.closed:
			return 0, net.ErrClosed
		}
	}
	for i, m := range msgs {
		select {
		case f.out <- bytes.Clone(m):
		case <-ctx.Done():
			return i, ctx.Err()
		case <-f.closed:
			return i, net.ErrClosed
		}
	}
	return len(msgs), nil
}

// TryWrite takes what fits in out without waiting; under a hold, none.
func (f *fakeConn) TryWrite(timeout time.Duration, msgs ...[]byte) (int, bool, error) {
	if f.hold.Load() != nil {
		return 0, false, nil
	}
	for i, m := range msgs {
		select {
		case <-f.closed:
			return i, false, net.ErrClosed
		default:
		}
		select {
		case f.out <- bytes.Clone(m):
		default:
			return i, false, nil
		}
	}
	return len(msgs), false, nil
}

func (f *fakeConn) Ping(ctx context.Context) error {
	if f.deaf.Load() {
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

func (f *fakeConn) Close(code int, reason string) error {
	f.end(code, reason)
	return nil
}

func (f *fakeConn) CloseNow() error {
	f.end(0, "")
	return nil
}

func (f *fakeConn) end(code int, reason string) {
	f.closeOnce.Do(func() {
		f.code, f.reason = code, reason
		close(f.closed)
	})
}

// fake starts a session over a fake transport, admitted from "fake", and
// waits for it to end when the test ends.
func (st *stack) fake(t testing.TB) *fakeConn {
	t.Helper()
	slot, status, msg := st.srv.admit("fake")
	if slot == nil {
		t.Fatalf("admit = %d %s, want admitted", status, msg)
	}
	f := newFakeConn()
	done := make(chan struct{})
	go func() {
		defer close(done)
		st.srv.serve(slot, f)
	}()
	t.Cleanup(func() {
		f.CloseNow()
		<-done
	})
	return f
}

// fakeAuthed is a fake connection that has authenticated as user.
func (st *stack) fakeAuthed(t testing.TB, user, device string) *fakeConn {
	t.Helper()
	f := st.fake(t)
	f.send(t, `{"id":"auth","op":"auth","data":{"token":"`+st.token(t, user)+`","device":"`+device+`","version":1}}`)
	if rep := f.reply(t); !rep.OK {
		t.Fatalf("auth reply = %+v, want ok", rep)
	}
	return f
}

func (f *fakeConn) send(t testing.TB, frame string) {
	f.sendMsg(t, fakeMsg{text: true, b: []byte(frame)})
}

func (f *fakeConn) sendMsg(t testing.TB, m fakeMsg) {
	t.Helper()
	select {
	case f.in <- m:
	case <-f.closed:
		t.Fatalf("send %.40q: the server closed the connection (%d %q)", m.b, f.code, f.reason)
	case <-time.After(wait):
		t.Fatalf("send %.40q: the server does not read", m.b)
	}
}

// next returns the next frame the server wrote, or nil once it closed the
// connection and wrote nothing more.
func (f *fakeConn) next(t testing.TB) []byte {
	t.Helper()
	select {
	case b := <-f.out:
		return b
	default:
	}
	select {
	case b := <-f.out:
		return b
	case <-f.closed:
		select {
		case b := <-f.out:
			return b
		default:
			return nil
		}
	case <-time.After(wait):
		t.Fatal("no frame from the server")
		return nil
	}
}

// reply returns the next frame, which must be a reply.
func (f *fakeConn) reply(t testing.TB) *protocol.Reply {
	t.Helper()
	b := f.next(t)
	if b == nil {
		t.Fatalf("connection closed (%d %q), want a reply", f.code, f.reason)
	}
	rep, _, err := protocol.DecodeServerFrame(b)
	if err != nil || rep == nil {
		t.Fatalf("frame %s = %v, want a reply", b, err)
	}
	return rep
}

// push returns the next frame, which must be a push.
func (f *fakeConn) push(t testing.TB) *protocol.Push {
	t.Helper()
	b := f.next(t)
	if b == nil {
		t.Fatalf("connection closed (%d %q), want a push", f.code, f.reason)
	}
	_, p, err := protocol.DecodeServerFrame(b)
	if err != nil || p == nil {
		t.Fatalf("frame %s = %v, want a push", b, err)
	}
	return p
}

// closedWith waits for the server to close the connection and returns the
// code and reason of its close frame (0 when it dropped the connection).
func (f *fakeConn) closedWith(t testing.TB) (int, string) {
	t.Helper()
	select {
	case <-f.closed:
		return f.code, f.reason
	case <-time.After(wait):
		t.Fatal("the server did not close the connection")
		return 0, ""
	}
}
