package ws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"seen/client"
	"seen/internal/auth"
	"seen/internal/bus"
	"seen/internal/chat"
	"seen/internal/protocol"
	"seen/internal/sqlstore"
)

func TestMain(m *testing.M) {
	if url := os.Getenv("SEEN_WS_IDLE_CLIENT"); url != "" {
		if err := idleClient(url); err != nil {
			fmt.Fprintln(os.Stderr, "idle client:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// wait is how long a test waits for something that should happen.
const wait = 10 * time.Second

// stack is a whole server in one test: SQLite in a temp dir, the
// in-process bus, the service, and the WebSocket endpoint at /ws of an
// httptest server.
type stack struct {
	svc     *chat.Service
	bus     *bus.Local
	srv     *Server
	http    *httptest.Server
	url     string // ws://host/ws
	metrics *testMetrics
	ended   *counter // sessions that have ended and given their slots back
	stop    func()   // stops everything; also run when the test ends
}

// counter counts events; a test waits for it to reach a number.
type counter struct {
	mu      sync.Mutex
	n       int
	changed chan struct{} // closed and replaced at each event
}

func newCounter() *counter { return &counter{changed: make(chan struct{})} }

func (c *counter) add() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	close(c.changed)
	c.changed = make(chan struct{})
}

// waitFor waits until n events have happened.
func (c *counter) waitFor(t testing.TB, what string, n int) {
	t.Helper()
	timeout := time.After(wait)
	for {
		c.mu.Lock()
		got, changed := c.n, c.changed
		c.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("%s: %d of %d after %v", what, got, n, wait)
		}
	}
}

// newStack starts a stack and stops it when the test ends. Set
// SEEN_TEST_LOG=1 to see the server's debug log.
func newStack(t testing.TB, cfg Config) *stack {
	t.Helper()
	return newStackChat(t, cfg, chat.DefaultConfig())
}

// newStackChat is newStack with the service's configuration.
// newStackUncoalesced is a stack without coalescing (CoalesceInterval 0,
// which the hub's stage takes too): the hub hands on every read count
// published, not only the highest of a burst, for tests of what the
// session itself does with them.
func newStackUncoalesced(t testing.TB) *stack {
	t.Helper()
	ccfg := chat.DefaultConfig()
	ccfg.CoalesceInterval = 0
	return newStackChat(t, Config{}, ccfg)
}

func newStackChat(t testing.TB, cfg Config, ccfg chat.Config) *stack {
	t.Helper()
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "seen.db"))
	if err != nil {
		t.Fatalf("sqlstore.Open = %v", err)
	}
	pw, err := auth.NewBcrypt(4)
	if err != nil {
		t.Fatal(err)
	}
	b := bus.NewLocal()
	svc, err := chat.NewService(ccfg, chat.Deps{Store: store, Bus: b, Passwords: pw})
	if err != nil {
		t.Fatalf("chat.NewService = %v", err)
	}
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("SEEN_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	m := newTestMetrics()
	srv := New(svc, b, cfg, log, m)
	ended := newCounter()
	srv.ended = ended.add
	mux := http.NewServeMux()
	mux.Handle("/ws", srv)
	hs := httptest.NewServer(mux)
	st := &stack{svc: svc, bus: b, srv: srv, http: hs, url: "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws", metrics: m, ended: ended}
	st.stop = sync.OnceFunc(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("Server.Close = %v, want nil", err)
		}
		hs.Close()
		svc.Close()
		store.Close()
	})
	t.Cleanup(st.stop)
	return st
}

// users creates users with the password "password".
func (st *stack) users(t testing.TB, names ...string) {
	t.Helper()
	cs := make([]chat.Credentials, len(names))
	for i, n := range names {
		cs[i] = chat.Credentials{Username: n, Password: "password"}
	}
	if _, err := st.svc.CreateUsers(context.Background(), chat.AdminActor, cs); err != nil {
		t.Fatalf("CreateUsers(%v) = %v", names, err)
	}
}

func (st *stack) token(t testing.TB, user string) string {
	t.Helper()
	g, err := st.svc.Login(context.Background(), chat.Credentials{Username: user, Password: "password"})
	if err != nil {
		t.Fatalf("Login(%s) = %v", user, err)
	}
	return g.Token
}

// dial connects user as device with the Go client.
func (st *stack) dial(t *testing.T, user, device string) *client.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := client.Dial(ctx, st.url, st.token(t, user), device, client.WithHeartbeat(-1))
	if err != nil {
		t.Fatalf("client.Dial(%s, %s) = %v", user, device, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// sessionsOf returns the live sessions of a user.
func (st *stack) sessionsOf(user string) []*session {
	st.srv.mu.Lock()
	defer st.srv.mu.Unlock()
	var out []*session
	for s := range st.srv.sessions {
		if s.authed.Load() && s.actor.Name == user {
			out = append(out, s)
		}
	}
	return out
}

// subscribed reports whether every session of user is subscribed to
// group g's topic.
func (st *stack) subscribed(t *testing.T, user string, g string) bool {
	t.Helper()
	id, err := chat.ParseGroupID(g)
	if err != nil {
		t.Fatal(err)
	}
	ss := st.sessionsOf(user)
	if len(ss) == 0 {
		t.Fatalf("no session of %s", user)
	}
	for _, s := range ss {
		if !st.srv.hub.Subscribed(chat.GroupTopic(id), s) {
			return false
		}
	}
	return true
}

// raw is a WebSocket connection without the client, for testing what
// the client never sends.
type raw struct {
	t *testing.T
	c *websocket.Conn
}

func (st *stack) raw(t *testing.T) *raw {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, _, err := websocket.Dial(ctx, st.url, nil)
	if err != nil {
		t.Fatalf("websocket.Dial = %v", err)
	}
	c.SetReadLimit(-1)
	t.Cleanup(func() { c.CloseNow() })
	return &raw{t: t, c: c}
}

// rawAuthed is a raw connection that has authenticated as user.
func (st *stack) rawAuthed(t *testing.T, user, device string) *raw {
	t.Helper()
	// Log in first: a connection that waits for a bcrypt login without
	// reading may miss a short ping interval.
	token := st.token(t, user)
	r := st.raw(t)
	r.send(`{"id":"auth","op":"auth","data":{"token":"` + token + `","device":"` + device + `","version":1}}`)
	if rep := r.reply(); !rep.OK {
		t.Fatalf("auth reply = %+v, want ok", rep)
	}
	return r
}

func (r *raw) send(frame string) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := r.c.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
		r.t.Fatalf("write %s: %v", frame, err)
	}
}

// read returns the next frame, or the read error.
func (r *raw) read() (*protocol.Reply, *protocol.Push, error) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, b, err := r.c.Read(ctx)
	if err != nil {
		return nil, nil, err
	}
	return protocol.DecodeServerFrame(b)
}

// reply returns the next reply, skipping pushes.
func (r *raw) reply() protocol.Reply {
	r.t.Helper()
	for {
		rep, _, err := r.read()
		if err != nil {
			r.t.Fatalf("read reply: %v", err)
		}
		if rep != nil {
			return *rep
		}
	}
}

// closed reads until the connection ends and returns the close code.
func (r *raw) closed() int {
	r.t.Helper()
	for {
		if _, _, err := r.read(); err != nil {
			return int(websocket.CloseStatus(err))
		}
	}
}

// waitPush returns the first push of kind that match accepts, skipping
// others, or fails the test after a deadline.
func waitPush(t *testing.T, c *client.Conn, kind string, match func(json.RawMessage) bool) protocol.Push {
	t.Helper()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case p, ok := <-c.Pushes():
			if !ok {
				t.Fatalf("%s: connection closed waiting for a %s push: %v", c.Device(), kind, c.Err())
			}
			if p.Push == kind && (match == nil || match(p.Data)) {
				return p
			}
		case <-timer.C:
			t.Fatalf("%s: no %s push within %v", c.Device(), kind, wait)
		}
	}
}

// nextPush returns the next push, whatever it is.
func nextPush(t *testing.T, c *client.Conn) protocol.Push {
	t.Helper()
	select {
	case p, ok := <-c.Pushes():
		if !ok {
			t.Fatalf("%s: connection closed: %v", c.Device(), c.Err())
		}
		return p
	case <-time.After(wait):
		t.Fatalf("%s: no push within %v", c.Device(), wait)
	}
	return protocol.Push{}
}

func decode[T any](t *testing.T, p protocol.Push) T {
	t.Helper()
	v, err := client.DecodePush[T](p)
	if err != nil {
		t.Fatalf("decode %s push %s: %v", p.Push, p.Data, err)
	}
	return v
}

func errName(err error) string {
	var e *client.Error
	if errors.As(err, &e) {
		return e.Name
	}
	if err == nil {
		return ""
	}
	return "not a client.Error: " + err.Error()
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return ctx
}

// testMetrics records what the tests look at.
type testMetrics struct {
	mu     sync.Mutex
	errors map[string]int
	closed map[int]int
	slow   chan struct{} // receives once per slow consumer
	// gate, when set, holds every frame write (FrameOut runs after each
	// write; with Server.flusherOnly, always on the flusher's goroutine)
	// until it is closed: a flusher lagging behind the read loop, on
	// demand.
	gate atomic.Pointer[chan struct{}]
	held chan struct{} // receives when a write is held by the gate
}

func newTestMetrics() *testMetrics {
	return &testMetrics{errors: map[string]int{}, closed: map[int]int{}, slow: make(chan struct{}, 100), held: make(chan struct{}, 1)}
}

func (m *testMetrics) ConnOpened()    {}
func (m *testMetrics) FrameIn(string) {}
func (m *testMetrics) FrameOut(string) {
	if g := m.gate.Load(); g != nil {
		select {
		case m.held <- struct{}{}:
		default:
		}
		<-*g
	}
}
func (m *testMetrics) ConnClosed(code int) {
	m.mu.Lock()
	m.closed[code]++
	m.mu.Unlock()
}
func (m *testMetrics) SlowConsumer() {
	select {
	case m.slow <- struct{}{}:
	default:
	}
}
func (m *testMetrics) ErrorReply(code string) {
	m.mu.Lock()
	m.errors[code]++
	m.mu.Unlock()
}
