package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"seen/client"
	"seen/internal/protocol"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		childNode()
		return
	}
	goleak.VerifyTestMain(m)
}

const wait = 10 * time.Second

// fake is a scripted WebSocket server: it speaks just enough of the
// protocol to test the client alone (the whole stack is tested in
// internal/ws).
type fake struct {
	http *httptest.Server
	url  string
	wg   sync.WaitGroup
	stop chan struct{} // closed when the test ends
}

// ops of the fake, besides auth and ping:
//
//	flood {"n": N}  pushes N "msg" pushes with data {"n": i}, then replies
//	hang            never replies
//	fail            replies with a not_member error
//	close {"code"}  closes the connection with code
//	whoami          replies {"addr": the client's address}
//	stall           replies, then stops reading (and answering pings) until the test ends
func newFake(t *testing.T) *fake {
	f := &fake{stop: make(chan struct{})}
	f.http = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.wg.Add(1)
		defer f.wg.Done()
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := context.Background()
		var mu sync.Mutex
		write := func(v any) {
			b, _ := json.Marshal(v)
			mu.Lock()
			defer mu.Unlock()
			c.Write(ctx, websocket.MessageText, b)
		}
		ok := func(id string, data any) {
			b, _ := json.Marshal(data)
			write(protocol.Reply{ID: id, OK: true, Data: b})
		}
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				return
			}
			var req protocol.Request
			if err := protocol.Decode(b, &req); err != nil {
				c.Close(protocol.CloseProtocol, "bad frame")
				return
			}
			switch req.Op {
			case protocol.OpAuth:
				var a protocol.Auth
				protocol.Decode(req.Data, &a)
				if a.Token != "good" || a.Version != protocol.Version {
					write(protocol.Reply{ID: req.ID, Error: &protocol.Error{Code: 202, Name: "unauthorized", Message: "unknown or revoked access token"}})
					c.Close(protocol.CloseAuth, "authentication failed")
					return
				}
				ok(req.ID, protocol.AuthReply{User: "alice", Device: a.Device, ServerTime: 1764000000000, Version: 1, HeartbeatMs: 20000})
			case protocol.OpPing:
				ok(req.ID, protocol.Pong{ServerTime: 1764000000001})
			case "flood":
				var d struct{ N int }
				json.Unmarshal(req.Data, &d)
				for i := 0; i < d.N; i++ {
					write(protocol.Push{Push: protocol.PushMsg, Data: json.RawMessage(`{"n":` + strconv.Itoa(i) + `}`)})
				}
				ok(req.ID, protocol.Empty{})
			case "hang":
			case "whoami":
				ok(req.ID, map[string]string{"addr": r.RemoteAddr})
			case "stall":
				ok(req.ID, protocol.Empty{})
				<-f.stop
				return
			case "fail":
				write(protocol.Reply{ID: req.ID, Error: &protocol.Error{Code: 602, Name: "not_member", Message: "you are not a member of group 1"}})
			case "close":
				var d struct{ Code int }
				json.Unmarshal(req.Data, &d)
				c.Close(websocket.StatusCode(d.Code), "bye")
				return
			}
		}
	}))
	f.url = "ws" + strings.TrimPrefix(f.http.URL, "http")
	t.Cleanup(func() {
		close(f.stop)
		f.http.CloseClientConnections()
		f.http.Close()
		f.wg.Wait()
	})
	return f
}

func dial(t *testing.T, f *fake, opts ...client.Option) *client.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := client.Dial(ctx, f.url, "good", "d1", opts...)
	if err != nil {
		t.Fatalf("Dial = %v, want nil", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return ctx
}

func TestDial(t *testing.T) {
	f := newFake(t)
	c := dial(t, f)
	if c.User() != "alice" || c.Device() != "d1" || c.ServerTime().UnixMilli() != 1764000000000 {
		t.Errorf("Dial: user, device, time = %q, %q, %v, want alice, d1, 1764000000000", c.User(), c.Device(), c.ServerTime().UnixMilli())
	}
	if got, err := c.Ping(ctxT(t)); err != nil || got.UnixMilli() != 1764000000001 {
		t.Errorf("Ping = %v, %v, want 1764000000001", got.UnixMilli(), err)
	}

	_, err := client.Dial(ctxT(t), f.url, "bad", "d1")
	want := &client.Error{Code: 202, Name: "unauthorized", Message: "unknown or revoked access token"}
	var e *client.Error
	if !errors.As(err, &e) || !cmp.Equal(e, want) {
		t.Errorf("Dial(bad token) = %v, want %v", err, want)
	}
}

func TestErrorReply(t *testing.T) {
	c := dial(t, newFake(t))
	err := c.Call(ctxT(t), "fail", nil, nil)
	want := &client.Error{Code: 602, Name: "not_member", Message: "you are not a member of group 1"}
	var e *client.Error
	if !errors.As(err, &e) || !cmp.Equal(e, want) {
		t.Errorf("Call(fail) = %v, want %v", err, want)
	}
}

func TestCancelKeepsConnection(t *testing.T) {
	c := dial(t, newFake(t))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Call(ctx, "hang", nil, nil) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Call(hang) after cancel = %v, want context.Canceled", err)
	}
	if _, err := c.Ping(ctxT(t)); err != nil {
		t.Errorf("Ping after a cancelled call = %v, want nil", err)
	}
}

func TestPushesDropOldest(t *testing.T) {
	c := dial(t, newFake(t), client.WithPushBuffer(4))
	// The pushes come before the reply, so they are all delivered when
	// the call returns.
	if err := c.Call(ctxT(t), "flood", map[string]int{"n": 10}, nil); err != nil {
		t.Fatal(err)
	}
	if got := c.Dropped(); got != 6 {
		t.Errorf("Dropped() = %d, want 6", got)
	}
	var got []int
	for range 4 {
		p := <-c.Pushes()
		v, err := client.DecodePush[struct{ N int }](p)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v.N)
	}
	if want := []int{6, 7, 8, 9}; !cmp.Equal(got, want) {
		t.Errorf("pushes kept = %v, want the newest %v", got, want)
	}
}

func TestServerCloses(t *testing.T) {
	c := dial(t, newFake(t))
	hung := make(chan error)
	go func() { hung <- c.Call(context.Background(), "hang", nil, nil) }()
	// The server answers requests in order: once ping is answered, hang
	// is pending.
	if _, err := c.Ping(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	c.Call(ctxT(t), "close", map[string]int{"code": protocol.CloseSlowConsumer}, nil)
	select {
	case <-c.Done():
	case <-time.After(wait):
		t.Fatal("Done not closed after the server closed")
	}
	if got := client.CloseCode(c.Err()); got != protocol.CloseSlowConsumer || !errors.Is(c.Err(), client.ErrClosed) {
		t.Errorf("Err() = %v (code %d), want ErrClosed with %d", c.Err(), got, protocol.CloseSlowConsumer)
	}
	if err := <-hung; !errors.Is(err, client.ErrClosed) {
		t.Errorf("pending call = %v, want ErrClosed", err)
	}
	if _, err := c.Ping(ctxT(t)); !errors.Is(err, client.ErrClosed) {
		t.Errorf("Ping after close = %v, want ErrClosed", err)
	}
	if _, ok := <-c.Pushes(); ok {
		t.Errorf("Pushes() open after close, want closed")
	}
}

func TestConcurrentCalls(t *testing.T) {
	c := dial(t, newFake(t))
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for range 100 {
		wg.Go(func() {
			_, err := c.Ping(ctxT(t))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Ping = %v, want nil", err)
		}
	}
}

func TestRegisterLogin(t *testing.T) {
	mux := http.NewServeMux()
	users := map[string]string{}
	var mu sync.Mutex
	mux.HandleFunc("POST /api/v1/users", func(w http.ResponseWriter, r *http.Request) {
		var c struct{ Username, Password string }
		json.NewDecoder(r.Body).Decode(&c)
		mu.Lock()
		defer mu.Unlock()
		if _, ok := users[c.Username]; ok {
			w.WriteHeader(http.StatusConflict)
			json.NewEncoder(w).Encode(map[string]any{"error": protocol.Error{Code: 203, Name: "user_exists", Message: "username taken"}})
			return
		}
		users[c.Username] = c.Password
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]string{"username": c.Username})
	})
	mux.HandleFunc("POST /api/v1/token", func(w http.ResponseWriter, r *http.Request) {
		var c struct{ Username, Password string }
		json.NewDecoder(r.Body).Decode(&c)
		mu.Lock()
		defer mu.Unlock()
		if pw, ok := users[c.Username]; !ok || pw != c.Password {
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(map[string]any{"error": protocol.Error{Code: 202, Name: "unauthorized", Message: "wrong username or password"}})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"access_token": "tok-" + c.Username, "expires_in": 604800, "user": map[string]string{"username": c.Username}})
	})
	hs := httptest.NewServer(mux)
	defer hs.Close()
	defer http.DefaultClient.CloseIdleConnections()
	ctx := ctxT(t)

	if err := client.Register(ctx, hs.URL+"/", "alice", "password"); err != nil {
		t.Errorf("Register(alice) = %v, want nil", err)
	}
	var e *client.Error
	if err := client.Register(ctx, hs.URL, "alice", "password"); !errors.As(err, &e) || e.Name != "user_exists" || e.Code != 203 {
		t.Errorf("Register(alice again) = %v, want user_exists", err)
	}
	if tok, err := client.Login(ctx, hs.URL, "alice", "password"); err != nil || tok != "tok-alice" {
		t.Errorf("Login(alice) = %q, %v, want tok-alice", tok, err)
	}
	if _, err := client.Login(ctx, hs.URL, "alice", "wrong"); !errors.As(err, &e) || e.Name != "unauthorized" {
		t.Errorf("Login(wrong password) = %v, want unauthorized", err)
	}
}

// With PushOverflowClose a push that finds Pushes full ends the
// connection; the pushes before it stay readable.
func TestPushOverflowClose(t *testing.T) {
	c := dial(t, newFake(t), client.WithPushBuffer(4), client.WithPushOverflow(client.PushOverflowClose))
	err := c.Call(ctxT(t), "flood", map[string]int{"n": 10}, nil)
	if !errors.Is(err, client.ErrClosed) || !errors.Is(err, client.ErrPushOverflow) {
		t.Errorf("Call(flood 10) with a buffer of 4 = %v, want ErrClosed and ErrPushOverflow", err)
	}
	if !errors.Is(c.Err(), client.ErrPushOverflow) {
		t.Errorf("Err() = %v, want ErrPushOverflow", c.Err())
	}
	var got []int
	for p := range c.Pushes() {
		v, err := client.DecodePush[struct{ N int }](p)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v.N)
	}
	if want := []int{0, 1, 2, 3}; !cmp.Equal(got, want) {
		t.Errorf("pushes before the overflow = %v, want %v", got, want)
	}
	if c.Dropped() != 0 {
		t.Errorf("Dropped() = %d, want 0", c.Dropped())
	}
}

func TestDialOptionsRefused(t *testing.T) {
	f := newFake(t)
	for _, o := range []client.Option{
		client.WithPushBuffer(0), client.WithReadLimit(0), client.WithWriteTimeout(0), client.WithPushOverflow(7),
	} {
		if c, err := client.Dial(ctxT(t), f.url, "good", "d1", o); err == nil {
			c.Close()
			t.Errorf("Dial with a bad option = nil error, want it refused")
		}
	}
}

// WithLocalAddr sets the source address that the server sees.
func TestWithLocalAddr(t *testing.T) {
	f := newFake(t)
	c := dial(t, f, client.WithLocalAddr(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 7)}))
	var r struct{ Addr string }
	if err := c.Call(ctxT(t), "whoami", nil, &r); err != nil {
		t.Fatal(err)
	}
	if host, _, _ := net.SplitHostPort(r.Addr); host != "127.0.0.7" {
		t.Errorf("the server saw the client at %s, want 127.0.0.7", r.Addr)
	}
	// An address of no local interface cannot be bound.
	if c, err := client.Dial(ctxT(t), f.url, "good", "d2", client.WithLocalAddr(&net.TCPAddr{IP: net.IPv4(192, 0, 2, 1)})); err == nil {
		c.Close()
		t.Errorf("Dial from 192.0.2.1 = nil error, want the bind refused")
	}
}

// WithDialTimeout bounds a Dial whose server never answers the handshake,
// even with a context that never ends.
func TestWithDialTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0") // never accepts: the kernel completes TCP, nobody answers HTTP
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		c, err := client.Dial(context.Background(), "ws://"+ln.Addr().String()+"/ws", "good", "d1", client.WithDialTimeout(100*time.Millisecond))
		if err == nil {
			c.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("Dial to a silent server = nil error, want a timeout")
		}
	case <-time.After(wait):
		t.Fatalf("Dial to a silent server still waiting after %v with a 100ms dial timeout", wait)
	}
}

// A ping the server does not answer within the heartbeat ends the
// connection.
func TestHeartbeat(t *testing.T) {
	c := dial(t, newFake(t), client.WithHeartbeat(50*time.Millisecond))
	if err := c.Call(ctxT(t), "stall", nil, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-time.After(wait):
		t.Fatalf("connection to a server that stopped reading still open after %v with a 50ms heartbeat", wait)
	}
	if err := c.Err(); !errors.Is(err, client.ErrClosed) {
		t.Errorf("Err() = %v, want ErrClosed", err)
	}
}

// A batch of request frames that cannot be written within WithWriteTimeout
// ends the connection (seen's own transport; see TestWithWriteTimeout for
// WithHTTPClient's).
func TestWriteTimeoutStalledServer(t *testing.T) {
	c := dial(t, newFake(t), client.WithWriteTimeout(50*time.Millisecond), client.WithHeartbeat(-1))
	if err := c.Call(ctxT(t), "stall", nil, nil); err != nil {
		t.Fatal(err)
	}
	// 16 MiB do not fit in the socket buffers of a peer that reads nothing
	// (its receive buffer grows only while it reads).
	big := strings.Repeat("x", 16<<20)
	errc := make(chan error, 1)
	go func() { errc <- c.Call(context.Background(), "ping", map[string]string{"pad": big}, nil) }()
	select {
	case err := <-errc:
		if !errors.Is(err, client.ErrClosed) {
			t.Errorf("Call that cannot be written = %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second): // half the default write timeout
		t.Fatalf("Call to a server that stopped reading still waiting after 5s with a 50ms write timeout")
	}
}
