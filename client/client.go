// Package client is seen's Go client: a WebSocket connection with a typed
// method per op of docs/protocol.md, a bounded channel of pushes, and
// REST helpers for accounts (Register, Login). It is used by the e2e
// tests, `seen bench` and bots.
//
// A Conn is safe for concurrent use: any number of goroutines may call
// its methods at once; replies are matched to calls by request id.
//
//	tok, err := client.Login(ctx, "https://chat.example.com", "alice", "secret")
//	c, err := client.Dial(ctx, "wss://chat.example.com/ws", tok, "bot-1")
//	defer c.Close()
//	go func() {
//		for p := range c.Pushes() { ... }
//	}()
//	_, err = c.SendText(ctx, "groupChat", groupID, "hello")
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"seen/internal/protocol"
)

// Error is an error reply of the server: the same code, name and message
// as on the wire (see internal/chat/error.go for the table).
type Error struct {
	Code    int
	Name    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("seen: %s (%d): %s", e.Name, e.Code, e.Message) }

// ErrClosed is returned (wrapped with the cause) by calls on a closed
// connection. CloseCode tells the close code.
var ErrClosed = errors.New("seen: connection closed")

// CloseCode returns the WebSocket close code in err's chain (4001, 4009,
// ... see docs/protocol.md), or -1 if there is none.
func CloseCode(err error) int { return int(websocket.CloseStatus(err)) }

// DefaultPushBuffer is the default capacity of the Pushes channel.
const DefaultPushBuffer = 4096

type options struct {
	httpClient   *http.Client
	header       http.Header
	pushBuffer   int
	readLimit    int64
	heartbeat    time.Duration // 0: the server's heartbeatMs; < 0: off
	writeTimeout time.Duration
}

// An Option configures Dial.
type Option func(*options)

// WithHTTPClient sets the HTTP client of the WebSocket handshake.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// WithHeader adds headers (Origin, User-Agent) to the handshake.
func WithHeader(h http.Header) Option { return func(o *options) { o.header = h } }

// WithPushBuffer sets the capacity of the Pushes channel (default
// DefaultPushBuffer).
func WithPushBuffer(n int) Option { return func(o *options) { o.pushBuffer = n } }

// WithReadLimit sets the largest frame the client accepts (default 64 MiB;
// a full sync page can be large).
func WithReadLimit(n int64) Option { return func(o *options) { o.readLimit = n } }

// WithHeartbeat sets how often the client pings the server; a ping not
// answered within the interval closes the connection. Default: the
// server's heartbeatMs. A negative d turns the client's pings off (the
// server still pings, and the client answers).
func WithHeartbeat(d time.Duration) Option { return func(o *options) { o.heartbeat = d } }

// WithWriteTimeout bounds the write of one request frame (default 10s).
// A write that times out closes the connection.
func WithWriteTimeout(d time.Duration) Option { return func(o *options) { o.writeTimeout = d } }

// Conn is an authenticated connection.
type Conn struct {
	ws   *websocket.Conn
	opts options
	auth protocol.AuthReply

	nextID  atomic.Uint64
	mu      sync.Mutex
	pending map[string]chan protocol.Reply
	err     error // why the connection ended; set once

	pushes  chan protocol.Push
	dropped atomic.Uint64

	done chan struct{} // closed when the read loop ends
	wg   sync.WaitGroup
}

// Dial connects to the WebSocket endpoint wsURL (ws:// or wss://, path
// /ws) and authenticates with an access token as device. A refused token
// returns an *Error (unauthorized or token_expired).
func Dial(ctx context.Context, wsURL, token, device string, opts ...Option) (*Conn, error) {
	o := options{pushBuffer: DefaultPushBuffer, readLimit: 64 << 20, writeTimeout: 10 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	ws, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPClient: o.httpClient, HTTPHeader: o.header})
	if err != nil {
		return nil, fmt.Errorf("seen: dial %s: %w", wsURL, err)
	}
	ws.SetReadLimit(o.readLimit)
	c := &Conn{
		ws: ws, opts: o, pending: make(map[string]chan protocol.Reply),
		pushes: make(chan protocol.Push, max(o.pushBuffer, 1)), done: make(chan struct{}),
	}
	c.wg.Add(1)
	go c.readLoop()
	err = c.call(ctx, protocol.OpAuth, protocol.Auth{Token: token, Device: device, Version: protocol.Version}, &c.auth)
	if err != nil {
		c.Close()
		return nil, err
	}
	hb := o.heartbeat
	if hb == 0 {
		hb = time.Duration(c.auth.HeartbeatMs) * time.Millisecond
	}
	if hb > 0 {
		c.wg.Add(1)
		go c.heartbeat(hb)
	}
	return c, nil
}

// User returns the authenticated username.
func (c *Conn) User() string { return c.auth.User }

// Device returns the device id the connection authenticated as.
func (c *Conn) Device() string { return c.auth.Device }

// ServerTime returns the server's clock at authentication.
func (c *Conn) ServerTime() time.Time { return time.UnixMilli(c.auth.ServerTime) }

// Pushes returns the channel of pushes, closed when the connection ends.
//
// The channel is bounded (WithPushBuffer). The client never blocks its
// read loop on the application, which would stall replies too: when the
// channel is full the oldest push is dropped and Dropped counts it. An
// application that cannot keep up should treat drops like a reconnect:
// sync and receipt.stats bring it back up to date.
func (c *Conn) Pushes() <-chan protocol.Push { return c.pushes }

// Dropped returns how many pushes were dropped because Pushes was full.
func (c *Conn) Dropped() uint64 { return c.dropped.Load() }

// Done is closed when the connection has ended; Err then tells why.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns why the connection ended (wrapping ErrClosed and the close
// code, see CloseCode), or nil while it is open.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close closes the connection with 1000 and waits for the client's
// goroutines to end. It is safe to call more than once.
func (c *Conn) Close() error {
	c.ws.Close(websocket.StatusNormalClosure, "")
	c.wg.Wait()
	return nil
}

func (c *Conn) readLoop() {
	defer c.wg.Done()
	for {
		typ, b, err := c.ws.Read(context.Background())
		if err != nil {
			c.end(err)
			return
		}
		if typ != websocket.MessageText {
			continue
		}
		reply, push, err := protocol.DecodeServerFrame(b)
		if err != nil {
			continue // not ours to judge; a newer server may send more
		}
		if reply != nil {
			c.mu.Lock()
			ch := c.pending[reply.ID]
			delete(c.pending, reply.ID)
			c.mu.Unlock()
			if ch != nil {
				ch <- *reply // buffered, one reply per id
			}
			continue
		}
		c.deliver(*push)
	}
}

// deliver queues a push, dropping the oldest when the channel is full.
// Only the read loop sends on c.pushes, so this ends.
func (c *Conn) deliver(p protocol.Push) {
	for {
		select {
		case c.pushes <- p:
			return
		default:
		}
		select {
		case <-c.pushes:
			c.dropped.Add(1)
		default:
		}
	}
}

// end records why the connection ended and releases everyone waiting.
func (c *Conn) end(cause error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = fmt.Errorf("%w: %w", ErrClosed, cause)
	}
	c.pending = nil
	c.mu.Unlock()
	close(c.done)
	close(c.pushes)
}

func (c *Conn) heartbeat(every time.Duration) {
	defer c.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), every)
			err := c.ws.Ping(ctx)
			cancel()
			if err != nil {
				c.ws.CloseNow()
				return
			}
		}
	}
}

// Call sends a request with op and data and decodes the reply data into
// reply (when not nil). It is the escape hatch for ops without a typed
// method. The reply is decoded leniently: a newer server may add fields.
// ctx bounds the wait; cancelling it abandons the reply but keeps the
// connection.
func (c *Conn) Call(ctx context.Context, op string, data, reply any) error {
	return c.call(ctx, op, data, reply)
}

func (c *Conn) call(ctx context.Context, op string, data, reply any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("seen: encode %s: %w", op, err)
	}
	id := strconv.FormatUint(c.nextID.Add(1), 10)
	frame, err := json.Marshal(protocol.Request{ID: id, Op: op, Data: raw})
	if err != nil {
		return fmt.Errorf("seen: encode %s: %w", op, err)
	}
	ch := make(chan protocol.Reply, 1)
	c.mu.Lock()
	if c.pending == nil {
		err := c.err
		c.mu.Unlock()
		return err
	}
	c.pending[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		if c.pending != nil {
			delete(c.pending, id)
		}
		c.mu.Unlock()
	}()
	// The write does not use ctx: the library closes the connection when a
	// write's context ends, and a caller giving up must not do that.
	wctx, cancel := context.WithTimeout(context.Background(), c.opts.writeTimeout)
	err = c.ws.Write(wctx, websocket.MessageText, frame)
	cancel()
	if err != nil {
		c.ws.CloseNow()
		<-c.done
		return c.Err()
	}
	var r protocol.Reply
	select {
	case r = <-ch:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		select {
		case r = <-ch: // the reply came in just before the end
		default:
			return c.Err()
		}
	}
	if !r.OK {
		if r.Error == nil {
			return &Error{Code: 1, Name: "internal", Message: "error reply without an error"}
		}
		return &Error{Code: r.Error.Code, Name: r.Error.Name, Message: r.Error.Message}
	}
	if reply != nil && len(r.Data) > 0 {
		if err := json.Unmarshal(r.Data, reply); err != nil {
			return fmt.Errorf("seen: decode %s reply: %w", op, err)
		}
	}
	return nil
}

// DecodePush decodes a push's data into T, the push's type in
// internal/protocol (Message for "msg", Receipt for "receipt", ...).
func DecodePush[T any](p protocol.Push) (T, error) {
	var v T
	err := json.Unmarshal(p.Data, &v)
	return v, err
}
