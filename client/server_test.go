package client_test

// The options that only a real server can prove: these tests run a
// seen node (internal/server, SQLite in a temporary directory).

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"seen/client"
	"seen/internal/server"
)

// node is a running seen server.
type node struct {
	*server.Server
	base, ws string
}

// startNode runs a server on a free port of 127.0.0.1 until the test
// ends; edit adjusts its configuration first.
func startNode(t *testing.T, edit func(*server.Config)) *node {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.PasswordCost = 4
	cfg.ShutdownTimeout = 5 * time.Second
	if edit != nil {
		edit(&cfg)
	}
	s, err := server.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background()) }()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close = %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
		http.DefaultClient.CloseIdleConnections() // Register and Login use it
	})
	select {
	case <-s.Serving():
	case <-time.After(wait):
		t.Fatal("server not serving")
	}
	return &node{Server: s, base: s.URL(), ws: "ws" + strings.TrimPrefix(s.URL(), "http") + "/ws"}
}

// user registers name and returns an access token.
func (n *node) user(t *testing.T, name string) string {
	t.Helper()
	if err := client.Register(ctxT(t), n.base, name, "password"); err != nil {
		t.Fatalf("Register(%s) = %v", name, err)
	}
	tok, err := client.Login(ctxT(t), n.base, name, "password")
	if err != nil {
		t.Fatalf("Login(%s) = %v", name, err)
	}
	return tok
}

// dial connects device with token to n.
func (n *node) dial(t *testing.T, token, device string, opts ...client.Option) *client.Conn {
	t.Helper()
	c, err := client.Dial(ctxT(t), n.ws, token, device, opts...)
	if err != nil {
		t.Fatalf("Dial(%s) = %v", device, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// The server refuses a WebSocket from a page of another origin: the
// Origin of WithHeader decides.
func TestWithHeaderOrigin(t *testing.T) {
	n := startNode(t, func(c *server.Config) { c.AllowedOrigins = []string{"app.example"} })
	tok := n.user(t, "alice")
	origin := func(o string) client.Option { return client.WithHeader(http.Header{"Origin": {o}}) }

	c := n.dial(t, tok, "d1", origin("https://app.example"))
	if _, err := c.Ping(ctxT(t)); err != nil {
		t.Errorf("Ping from an allowed origin = %v", err)
	}
	evil, err := client.Dial(ctxT(t), n.ws, tok, "d2", origin("https://evil.example"))
	if err == nil {
		evil.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("Dial from another origin = %v, want the handshake refused with 403", err)
	}
}

// A frame over WithReadLimit ends the connection; the same push reaches
// a device with the default limit.
func TestWithReadLimit(t *testing.T) {
	n := startNode(t, nil)
	alice, bob := n.user(t, "alice"), n.user(t, "bob")
	sender := n.dial(t, alice, "phone")
	roomy := n.dial(t, bob, "desktop")
	tight := n.dial(t, bob, "watch", client.WithReadLimit(2048))

	big := strings.Repeat("x", 5000)
	if _, err := sender.SendText(ctxT(t), client.SingleChat, "bob", big); err != nil {
		t.Fatal(err)
	}
	nextMsg := func(c *client.Conn) (client.Message, bool) {
		for p := range c.Pushes() {
			if p.Push == client.PushMsg {
				m, err := client.DecodePush[client.Message](p)
				if err != nil {
					t.Fatal(err)
				}
				return m, true
			}
		}
		return client.Message{}, false
	}
	if m, ok := nextMsg(roomy); !ok || m.Msg != big {
		t.Errorf("device with the default limit: push received %v, want the message", ok)
	}
	if _, ok := nextMsg(tight); ok {
		t.Fatalf("device with a 2048-byte limit received the 5000-byte message")
	}
	<-tight.Done() // closed before Pushes
	if err := tight.Err(); !errors.Is(err, client.ErrClosed) {
		t.Errorf("Err() = %v, want ErrClosed", err)
	}
}

// stallConn is a client's TCP connection whose writes can be held, as
// if the network stopped taking bytes: a held Write returns when the
// connection is closed.
type stallConn struct {
	net.Conn
	stalled chan struct{} // closed to hold writes
	closed  chan struct{}
}

func (c *stallConn) Write(b []byte) (int, error) {
	select {
	case <-c.stalled:
		<-c.closed
		return 0, net.ErrClosed
	default:
		return c.Conn.Write(b)
	}
}

func (c *stallConn) Close() error {
	select {
	case <-c.closed:
	default:
		close(c.closed)
	}
	return c.Conn.Close()
}

// A request frame that cannot be written within WithWriteTimeout ends
// the connection.
func TestWithWriteTimeout(t *testing.T) {
	n := startNode(t, nil)
	tok := n.user(t, "alice")
	conn := &stallConn{stalled: make(chan struct{}), closed: make(chan struct{})}
	dialer := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		conn.Conn = c
		return conn, nil
	}
	hc := &http.Client{Transport: &http.Transport{DialContext: dialer}}
	c := n.dial(t, tok, "d1", client.WithHTTPClient(hc), client.WithWriteTimeout(50*time.Millisecond))
	if _, err := c.Ping(ctxT(t)); err != nil {
		t.Fatalf("Ping before the stall = %v", err)
	}

	close(conn.stalled)
	pinged := make(chan error, 1)
	go func() {
		_, err := c.Ping(context.Background())
		pinged <- err
	}()
	// The wait is half the default write timeout (10s): only the
	// option's 50ms can end the held write within it.
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("connection still open 5s after a held write, want it closed after 50ms")
	}
	if err := <-pinged; !errors.Is(err, client.ErrClosed) {
		t.Errorf("Ping while writes are held = %v, want ErrClosed", err)
	}
}
