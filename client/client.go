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
//
// A ws:// connection runs on internal/wsconn, seen's own transport: it holds
// no read buffer while idle, one goroutine (the reader) and a timer for the
// heartbeat, and writes the request frames queued by concurrent calls in
// one syscall. wss:// and WithHTTPClient go through net/http and
// coder/websocket instead.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"seen/internal/protocol"
	"seen/internal/wsconn"
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

// ErrPushOverflow is the cause (wrapped in ErrClosed) of a connection that
// ended because a push arrived while Pushes was full, with PushOverflowClose.
var ErrPushOverflow = errors.New("seen: pushes not taken: the push buffer is full")

// CloseCode returns the WebSocket close code in err's chain (4001, 4009,
// ... see docs/protocol.md), or -1 if there is none.
func CloseCode(err error) int {
	var ce *wsconn.CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return int(websocket.CloseStatus(err))
}

// DefaultPushBuffer is the default capacity of the Pushes channel. Its
// memory (40 bytes a slot) is taken at Dial, idle or not.
const DefaultPushBuffer = 64

// DefaultDialTimeout is the default bound of Dial (WithDialTimeout).
const DefaultDialTimeout = 30 * time.Second

// PushOverflow is what a Conn does with a push that arrives while the
// Pushes channel is full (WithPushOverflow). Either way the read loop
// never waits for the application, which would stall replies too, and
// never holds more than the channel's capacity.
type PushOverflow int

const (
	// PushDropOldest drops the oldest push in the channel to make room,
	// and Dropped counts it. The default.
	PushDropOldest PushOverflow = iota
	// PushOverflowClose ends the connection: Err wraps ErrClosed and
	// ErrPushOverflow, and the pushes already buffered stay readable
	// before Pushes is closed. For programs that must not miss a push
	// (the bench): they see the loss instead of a count that never ends.
	PushOverflowClose
)

type options struct {
	httpClient   *http.Client
	header       http.Header
	localAddr    net.Addr
	dialTimeout  time.Duration // <= 0: ctx only
	pushBuffer   int
	overflow     PushOverflow
	readLimit    int64
	heartbeat    time.Duration // 0: the server's heartbeatMs; < 0: off
	writeTimeout time.Duration
}

// An Option configures Dial.
type Option func(*options)

// WithHTTPClient makes the handshake go through c (its transport, TLS
// configuration and proxy), over coder/websocket rather than seen's own
// transport. Without it, wss:// URLs use a client of net/http's defaults.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// WithHeader adds headers (Origin, User-Agent) to the handshake.
func WithHeader(h http.Header) Option { return func(o *options) { o.header = h } }

// WithLocalAddr sets the local (source) address of the TCP connection,
// e.g. &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)} to spread a load
// generator's connections over more ephemeral ports. It is not used with
// WithHTTPClient (set the client's dialer instead).
func WithLocalAddr(a net.Addr) Option { return func(o *options) { o.localAddr = a } }

// WithDialTimeout bounds Dial: the TCP connect, the handshake and the
// auth reply (default DefaultDialTimeout; 0 leaves it to ctx alone).
func WithDialTimeout(d time.Duration) Option { return func(o *options) { o.dialTimeout = d } }

// WithPushBuffer sets the capacity of the Pushes channel (at least 1;
// default DefaultPushBuffer).
func WithPushBuffer(n int) Option { return func(o *options) { o.pushBuffer = n } }

// WithPushOverflow sets what happens to a push that arrives while Pushes
// is full (default PushDropOldest).
func WithPushOverflow(p PushOverflow) Option { return func(o *options) { o.overflow = p } }

// WithReadLimit sets the largest frame the client accepts (default 64 MiB;
// a full sync page can be large). A larger frame ends the connection
// (close code 1009).
func WithReadLimit(n int64) Option { return func(o *options) { o.readLimit = n } }

// WithHeartbeat sets how often the client pings the server; a ping not
// answered within the interval closes the connection. Default: the
// server's heartbeatMs. A negative d turns the client's pings off (the
// server still pings, and the client answers).
func WithHeartbeat(d time.Duration) Option { return func(o *options) { o.heartbeat = d } }

// WithWriteTimeout bounds the write of the request frames of one batch
// (default 10s). A write that times out closes the connection.
func WithWriteTimeout(d time.Duration) Option { return func(o *options) { o.writeTimeout = d } }

// Conn is an authenticated connection.
type Conn struct {
	t    transport
	opts options
	auth protocol.AuthReply

	nextID  atomic.Uint64
	mu      sync.Mutex
	pending map[uint64]*call // nil once the read loop has ended
	err     error            // why the connection ended; set once
	closed  bool             // Close was called: no more heartbeats
	beat    *time.Timer      // the next heartbeat, or nil

	// The write queue: the first caller to find it idle writes every frame
	// queued meanwhile, in one batch (one syscall on wsconn).
	wmu     sync.Mutex
	queue   [][]byte
	spare   [][]byte
	writing bool

	pushes  chan protocol.Push
	dropped atomic.Uint64

	done chan struct{} // closed when the read loop ends
	wg   sync.WaitGroup
}

// call is a request waiting for its reply. The read loop decodes the
// reply into reply, sets err and then signals done.
type call struct {
	op    string
	reply any
	err   error
	done  chan struct{} // capacity 1
}

// Dial connects to the WebSocket endpoint wsURL (ws:// or wss://, path
// /ws) and authenticates with an access token as device. A refused token
// returns an *Error (unauthorized or token_expired). ctx and the dial
// timeout bound the whole of it.
func Dial(ctx context.Context, wsURL, token, device string, opts ...Option) (*Conn, error) {
	o := options{pushBuffer: DefaultPushBuffer, readLimit: 64 << 20, writeTimeout: 10 * time.Second, dialTimeout: DefaultDialTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	switch {
	case o.pushBuffer < 1:
		return nil, fmt.Errorf("seen: dial: push buffer %d, want at least 1", o.pushBuffer)
	case o.readLimit < 1:
		return nil, fmt.Errorf("seen: dial: read limit %d, want at least 1", o.readLimit)
	case o.writeTimeout <= 0:
		return nil, fmt.Errorf("seen: dial: write timeout %v, want more than 0", o.writeTimeout)
	case o.overflow != PushDropOldest && o.overflow != PushOverflowClose:
		return nil, fmt.Errorf("seen: dial: unknown push overflow %d", o.overflow)
	}
	if o.dialTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.dialTimeout)
		defer cancel()
	}
	t, err := dialTransport(ctx, wsURL, &o)
	if err != nil {
		return nil, fmt.Errorf("seen: dial %s: %w", wsURL, err)
	}
	c := &Conn{
		t: t, opts: o, pending: make(map[uint64]*call),
		pushes: make(chan protocol.Push, o.pushBuffer), done: make(chan struct{}),
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
		c.mu.Lock()
		if !c.closed {
			c.beat = time.AfterFunc(hb, func() { c.heartbeat(hb) })
		}
		c.mu.Unlock()
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
// channel is full, by default the oldest push is dropped and Dropped
// counts it. An application that cannot keep up should treat drops like a
// reconnect: sync and receipt.stats bring it back up to date. With
// WithPushOverflow(PushOverflowClose) a full channel ends the connection
// instead.
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
// goroutines to end. Over ws:// the close handshake takes at most 5 s, of
// which a write in progress to a server that stopped reading gets 1 s
// before it is aborted (see wsconn.Conn.Close); over wss:// and
// WithHTTPClient (coder/websocket) it takes up to 5 s to write the close
// frame and 5 s more for the server's. It is safe to call more than once.
func (c *Conn) Close() error {
	c.mu.Lock()
	c.closed = true
	if c.beat != nil {
		c.beat.Stop()
	}
	c.mu.Unlock()
	c.t.close(protocol.CloseNormal, "")
	c.wg.Wait()
	return nil
}

func (c *Conn) readLoop() {
	defer c.wg.Done()
	for {
		text, b, err := c.t.read()
		if err != nil {
			c.end(err)
			if errors.Is(err, errTooLarge) {
				c.t.close(int(websocket.StatusMessageTooBig), "frame over the read limit")
			} else {
				c.t.closeNow()
			}
			return
		}
		if text && !c.handle(b) {
			c.end(ErrPushOverflow)
			c.t.closeNow()
			return
		}
	}
}

// handle handles a server frame; it reports false if a push overflowed
// the channel with PushOverflowClose. It is a function of its own so that
// its locals are not on the stack of an idle read loop (which then fits
// in the smallest goroutine stack).
//
//go:noinline
func (c *Conn) handle(b []byte) bool {
	f, err := parseFrame(b)
	if err != nil {
		return true // not ours to judge; a newer server may send more
	}
	if f.isReply {
		c.finish(f)
		return true
	}
	// The push's data outlives b.
	return c.deliver(protocol.Push{Push: pushName(f.push), Data: append(json.RawMessage(nil), f.data...)})
}

// finish completes the call that f answers, if it still waits: the reply
// data is decoded here, from the read buffer, straight into the caller's
// value.
func (c *Conn) finish(f serverFrame) {
	id, err := strconv.ParseUint(string(f.id), 10, 64)
	if err != nil {
		return
	}
	c.mu.Lock()
	cl := c.pending[id]
	delete(c.pending, id)
	c.mu.Unlock()
	if cl == nil {
		return
	}
	switch {
	case !f.ok:
		cl.err = replyError(f.err)
	case cl.reply != nil && len(f.data) > 0:
		if fd, ok := cl.reply.(fastDecoder); ok && fd.decodeFast(f.data) {
			break
		}
		if err := json.Unmarshal(f.data, cl.reply); err != nil {
			cl.err = fmt.Errorf("seen: decode %s reply: %w", cl.op, err)
		}
	}
	cl.done <- struct{}{}
}

// deliver queues a push; when the channel is full it drops the oldest, or
// reports false with PushOverflowClose. Only the read loop sends on
// c.pushes, so this ends.
func (c *Conn) deliver(p protocol.Push) bool {
	for {
		select {
		case c.pushes <- p:
			return true
		default:
		}
		if c.opts.overflow == PushOverflowClose {
			return false
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
	if c.beat != nil {
		c.beat.Stop()
	}
	c.mu.Unlock()
	close(c.done)
	close(c.pushes)
}

// heartbeat pings the server from the heartbeat timer's goroutine and
// sets the timer again: an idle connection has no goroutine waiting for
// the next beat.
func (c *Conn) heartbeat(every time.Duration) {
	c.mu.Lock()
	if c.closed || c.pending == nil {
		c.mu.Unlock()
		return
	}
	c.wg.Add(1) // Close waits for this beat
	c.mu.Unlock()
	defer c.wg.Done()
	ctx, cancel := context.WithTimeout(context.Background(), every)
	go func() { // a broken connection ends the wait too, not just the interval
		select {
		case <-c.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	err := c.t.ping(ctx)
	cancel()
	if err != nil {
		c.t.closeNow()
		return
	}
	c.mu.Lock()
	if !c.closed && c.pending != nil {
		c.beat.Reset(every)
	}
	c.mu.Unlock()
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
	id := c.nextID.Add(1)
	frame, err := appendRequest(make([]byte, 0, 128), id, op, data)
	if err != nil {
		return fmt.Errorf("seen: encode %s: %w", op, err)
	}
	cl := &call{op: op, reply: reply, done: make(chan struct{}, 1)}
	c.mu.Lock()
	if c.pending == nil {
		err := c.err
		c.mu.Unlock()
		return err
	}
	c.pending[id] = cl
	c.mu.Unlock()
	if !c.send(frame) {
		<-c.done
		return c.Err()
	}
	select {
	case <-cl.done:
		return cl.err
	case <-ctx.Done():
	case <-c.done:
	}
	c.mu.Lock()
	if _, waiting := c.pending[id]; waiting {
		delete(c.pending, id)
		c.mu.Unlock()
		return ctx.Err() // still waiting, so ctx ended
	}
	ended := c.pending == nil
	c.mu.Unlock()
	if !ended {
		<-cl.done // the read loop took the call and is finishing it
		return cl.err
	}
	select {
	case <-cl.done: // the reply came in just before the end
		return cl.err
	default:
		if err := ctx.Err(); err != nil {
			return err
		}
		return c.Err()
	}
}

// send queues frame for writing. The caller that finds no write in
// progress writes everything queued, in batches, until the queue is empty;
// the others return at once. It reports false if a write failed (the
// connection is then closed).
func (c *Conn) send(frame []byte) bool {
	c.wmu.Lock()
	c.queue = append(c.queue, frame)
	if c.writing {
		c.wmu.Unlock()
		return true
	}
	c.writing = true
	for len(c.queue) > 0 {
		batch := c.queue
		c.queue = c.spare[:0]
		c.wmu.Unlock()
		err := c.t.write(c.opts.writeTimeout, batch)
		clear(batch)
		c.wmu.Lock()
		c.spare = batch[:0]
		if err != nil {
			c.queue, c.spare, c.writing = nil, nil, false
			c.wmu.Unlock()
			c.t.closeNow()
			return false
		}
	}
	c.writing = false
	if cap(c.spare) > 64 { // a burst is over: do not keep its slices
		c.spare = nil
	}
	c.wmu.Unlock()
	return true
}

// DecodePush decodes a push's data into T, the push's type in
// internal/protocol (Message for "msg", Receipt for "receipt", ...).
func DecodePush[T any](p protocol.Push) (T, error) {
	var v T
	err := json.Unmarshal(p.Data, &v)
	return v, err
}
